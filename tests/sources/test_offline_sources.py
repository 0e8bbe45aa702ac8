"""The Oboe and LCDB sources against the real committed snapshot."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from mile_meta.errors import CorpusError
from mile_meta.kb import KnowledgeBase
from mile_meta.sources.lcdb import LcdbSource
from mile_meta.sources.oboe import OboeSource
from mile_meta.testing import check_source_contract

REPO = Path(__file__).resolve().parents[2]


def test_oboe_source_contract_and_exact_counts() -> None:
    counts = check_source_contract(OboeSource())
    assert counts["datasets"] == 418
    assert counts["pipelines"] == 219
    assert counts["evaluations"] == 91_542


def test_lcdb_source_contract_on_a_prefix() -> None:
    counts = check_source_contract(LcdbSource(), limit=60_000)
    assert counts["pipelines"] == 20
    assert counts["qualities"] == 219 * 64


def test_counts_in_the_knowledge_base(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        stats = kb.stats()
    oboe, lcdb = stats.per_source["oboe"], stats.per_source["lcdb"]
    assert (oboe["datasets"], oboe["pipelines"], oboe["evaluations"]) == (418, 219, 91_542)
    assert (lcdb["datasets"], lcdb["pipelines"], lcdb["evaluations"]) == (270, 20, 237_176)
    # Oboe's Perceptron and LCDB's Perceptron are the same default pipeline: one id.
    assert stats.totals["pipelines"] == 219 + 20 - 1
    assert stats.runnable_pipelines == stats.totals["pipelines"]


def test_provenance_names_versions_and_file_digests(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        sources = {s["name"]: s for s in kb.stats().sources}
    assert sources["oboe"]["version"] == "0.2.0"
    assert sources["lcdb"]["licence"] == "MIT"
    files = dict(sources["oboe"]["files"])
    assert files["oboe-0.2.0-py3-none-any.whl"] == (
        "0cb81ba4636b5b4918d7364b6325e2e0316ebd95efb5187f2dfd8cffdc9976a3"
    )


def _copy_snapshot(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(REPO / "corpora" / name, target)
    return target


def test_missing_corpus_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_snapshot(tmp_path, "oboe")
    (folder / "error_matrix.csv.gz").unlink()
    with pytest.raises(CorpusError, match=r"error_matrix\.csv\.gz is missing.*corpora fetch"):
        OboeSource(folder).info()


def test_corrupt_corpus_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_snapshot(tmp_path, "lcdb")
    (folder / "curves-auc.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(CorpusError, match=r"curves-auc\.csv\.gz is corrupt"):
        list(LcdbSource(folder).records())


def test_truncated_matrix_is_refused(tmp_path: Path) -> None:
    folder = _copy_snapshot(tmp_path, "oboe")
    text = gzip.decompress((folder / "runtime_matrix.csv.gz").read_bytes()).decode()
    short = "\n".join(text.splitlines()[:10]) + "\n"
    (folder / "runtime_matrix.csv.gz").write_bytes(gzip.compress(short.encode()))
    with pytest.raises(CorpusError, match="do not match"):
        list(OboeSource(folder).records())
