"""The knowledge base store: ingest semantics, transactions, read-only queries, round-trips."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mile_meta.errors import KnowledgeBaseError
from mile_meta.kb import KnowledgeBase, build_graph, component_wins
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    SourceInfo,
)
from mile_meta.sources import Source
from mile_meta.sources.oboe import OboeSource


class ListSource(Source):
    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def info(self) -> SourceInfo:
        return SourceInfo(self.name, "1", "CC0")

    def records(self) -> Iterator[Record]:
        yield from self._records


def test_ingest_twice_gives_the_same_counts(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(OboeSource())
        first = kb.stats().totals
        kb.ingest(OboeSource())
        assert kb.stats().totals == first
        assert first["evaluations"] == 91_542


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        assert kb.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert kb.schema_version >= 1


def test_failed_ingest_leaves_previous_knowledge_base(tmp_path: Path) -> None:
    class Broken(ListSource):
        name = "oboe"  # replacing oboe's rows, then failing halfway

        def records(self) -> Iterator[Record]:
            yield DatasetRecord("openml:1", "one", 1)
            raise RuntimeError("disk on fire")

    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(OboeSource())
        before = kb.stats().totals
        with pytest.raises(RuntimeError):
            kb.ingest(Broken([]))
        assert kb.stats().totals == before


_KILLED_INGEST = """
import sys, time
from mile_meta.kb import KnowledgeBase
from mile_meta.sources.lcdb import LcdbSource
kb = KnowledgeBase.open(sys.argv[1])
def progress(done):
    print("written", done, flush=True)
    time.sleep(0.5)
kb.ingest(LcdbSource(), progress=progress)
print("finished", flush=True)
"""


def test_ingest_killed_halfway_leaves_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(path) as kb:
        kb.ingest(OboeSource())
        before = kb.stats().totals
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_INGEST, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("written"):
            break
    assert line.startswith("written"), "the ingest never reported progress"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with KnowledgeBase.open(path) as kb:
        assert kb.stats().totals == before
        assert "lcdb" not in kb.source_names()
        assert kb.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_query_is_read_only(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        columns, rows = kb.query("SELECT count(*) AS n FROM pipelines")
        assert columns == ["n"] and rows[0][0] == 238
        for statement in (
            "DELETE FROM datasets",
            "UPDATE evaluations SET value = 0",
            "DROP TABLE pipelines",
            "CREATE TABLE x (a)",
        ):
            with pytest.raises(KnowledgeBaseError, match="read-only"):
                kb.query(statement)
        assert kb.stats().totals["datasets"] == 571


def test_wrong_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="no knowledge base at"):
        KnowledgeBase.open(tmp_path / "absent.sqlite", must_exist=True)
    with pytest.raises(KnowledgeBaseError, match="is a folder"):
        KnowledgeBase.open(tmp_path)
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        KnowledgeBase.open(tmp_path / "no" / "such" / "kb.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(KnowledgeBaseError, match="not a mile-meta knowledge base"):
        KnowledgeBase.open(garbage)


def test_dataset_summary_of_credit_g(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        summary = kb.dataset_summary(31)
        assert summary.name == "credit-g" and summary.n_rows == 1000
        assert summary.qualities["lcdb"]["NumberOfInstances"] == 1000
        best = summary.best_pipelines["balanced_error_rate"]
        assert [b.value for b in best] == sorted(b.value for b in best)
        accuracy = summary.best_pipelines["predictive_accuracy"]
        assert [b.value for b in accuracy] == sorted((b.value for b in accuracy), reverse=True)
        assert kb.resolve_dataset("credit-g") == "openml:31"


def test_graph_view_and_component_query(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        graph = build_graph(kb, metrics=["balanced_error_rate"])
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert {"dataset", "pipeline", "component", "source"} <= kinds
    edge_kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    assert {"evaluated-on", "has-component", "derived-from"} <= edge_kinds
    wins = component_wins(graph, "balanced_error_rate", top=1)
    # every Oboe dataset has exactly one best pipeline, and every pipeline starts with the preprocessor
    assert wins["TabularPreprocessor"] == 418
    assert sum(count for name, count in wins.items() if name != "TabularPreprocessor") >= 418


_finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(_finite, min_size=1, max_size=20),
    quality=st.one_of(st.none(), _finite),
    name=st.text(min_size=1, max_size=20),
)
def test_store_round_trip(
    tmp_path: Path, values: list[float], quality: float | None, name: str
) -> None:
    records: list[Record] = [
        DatasetRecord("openml:7", name, 7, n_rows=10),
        QualityRecord("openml:7", "NumberOfClasses", quality),
        PipelineRecord("p1", '{"steps": []}', "family", "origin"),
    ]
    records += [
        EvaluationRecord(
            "openml:7", "p1", "predictive_accuracy", value, True, fold=fold, runtime_seconds=1.5
        )
        for fold, value in enumerate(values)
    ]
    path = tmp_path / f"rt-{abs(hash((tuple(values), quality, name)))}.sqlite"
    with KnowledgeBase.open(path) as kb:
        kb.ingest(ListSource(records))
        stored = [row[0] for row in kb.db.execute("SELECT value FROM evaluations ORDER BY fold")]
        assert stored == values
        assert kb.db.execute("SELECT name FROM datasets").fetchone()[0] == name
        assert kb.db.execute("SELECT value FROM qualities").fetchone()[0] == quality
    path.unlink()


def test_another_applications_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    before = other.read_bytes()
    with pytest.raises(KnowledgeBaseError, match="another application"):
        KnowledgeBase.open(other)
    assert other.read_bytes() == before


def test_a_failed_build_of_a_new_file_leaves_no_knowledge_base(tmp_path: Path) -> None:
    from mile_meta.errors import CorpusError
    from mile_meta.kb import build_knowledge_base

    path = tmp_path / "kb.sqlite"
    with pytest.raises(CorpusError, match="missing"):
        build_knowledge_base(path, ["oboe"], snapshot_dir=tmp_path / "empty-snapshot")
    # only the (empty, harmless) build lock stays: the kernel releases it, nobody trips on it
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["kb.sqlite.lock"])


def test_the_default_is_never_left_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the default builds it first; a build that cannot finish leaves nothing behind
    (an empty default would answer every later question with "no results")."""
    from mile_meta.errors import CorpusError

    default = tmp_path / "data" / "kb.sqlite"
    default.parent.mkdir()
    monkeypatch.setenv("MILE_META_KB", str(default))
    monkeypatch.setenv("MILE_META_CORPORA", str(tmp_path / "no-snapshot"))
    with pytest.raises(CorpusError):
        KnowledgeBase.open()
    assert not default.exists()
    assert [p.name for p in default.parent.glob("kb.sqlite*")] in ([], ["kb.sqlite.lock"])


def test_learning_curves_count_at_their_largest_training_size(tmp_path: Path) -> None:
    """The graph, best_pipelines and evaluations_frame judge a pipeline on all its data (no
    train size) or its largest training size, never on the average of its curve."""
    spec = '{"steps": [{"component": "DecisionTreeClassifier", "params": []}]}'
    records: list[Record] = [
        DatasetRecord("openml:7", "seven", 7, n_rows=1000),
        PipelineRecord("curve", spec, "decision_tree", "curve"),
        PipelineRecord("steady", spec.replace("Decision", "Extra"), "extra_trees", "steady"),
        # "curve" starts low and ends best; the average of its curve (0.6) loses to "steady"
        EvaluationRecord("openml:7", "curve", "predictive_accuracy", 0.3, True, train_size=100),
        EvaluationRecord("openml:7", "curve", "predictive_accuracy", 0.9, True, train_size=800),
        EvaluationRecord("openml:7", "steady", "predictive_accuracy", 0.7, True, train_size=100),
        EvaluationRecord("openml:7", "steady", "predictive_accuracy", 0.8, True, train_size=400),
        # a full-data run (no size) outranks any subsample of the same pipeline
        EvaluationRecord("openml:7", "steady", "predictive_accuracy", 0.85, True),
    ]
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(ListSource(records))
        best = kb.best_pipelines("openml:7", "predictive_accuracy")
        frame = kb.evaluations_frame("predictive_accuracy").set_index("pipeline_id")
        graph = build_graph(kb, metrics=["predictive_accuracy"])
    assert [(b.pipeline_id, b.value) for b in best] == [("curve", 0.9), ("steady", 0.85)]
    assert frame.loc["curve", "value"] == 0.9 and frame.loc["steady", "value"] == 0.85
    ranks = {
        source: data["rank"]
        for source, _, data in graph.edges(data=True)
        if data["kind"] == "evaluated-on"
    }
    assert ranks == {"pipeline:curve": 1, "pipeline:steady": 2}
