"""Workflow versions in the knowledge base: sessions, versions, two writers, comparisons."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from mile_meta.errors import KnowledgeBaseError
from mile_meta.kb import KnowledgeBase, StaleSessionError, Workflows, compare_versions
from mile_meta.kb.migrations import all_migrations

SPEC_A = {"steps": [{"component": "RandomForestClassifier", "params": {"max_features": 0.3}}]}
SPEC_B = {"steps": [{"component": "RandomForestClassifier", "params": {"max_features": 0.5}}]}


def _session(workflows: Workflows) -> str:
    return workflows.create_session(
        "credit-g → class",
        dataset_id="local:abc",
        dataset_name="credit-g",
        data_path="/data/credit-g.csv",
        target="class",
        task_type="binary",
        metric="balanced_accuracy",
    ).session_id


def _add(workflows: Workflows, session_id: str, spec: dict, folds: tuple[float, ...], **kw):  # type: ignore[no-untyped-def]
    return workflows.add_version(
        session_id,
        expected_revision=kw.pop("expected_revision", None),
        author=kw.pop("author", "user"),
        action="test",
        spec=spec,
        pipeline_id=str(hash(str(spec))),
        metric="balanced_accuracy",
        higher_is_better=True,
        mean=sum(folds) / len(folds),
        std=0.01,
        fold_scores=folds,
        fit_seconds=kw.pop("fit_seconds", 1.0),
        **kw,
    )


def test_versions_keep_who_derived_what_from_what(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        workflows = Workflows(kb)
        session_id = _session(workflows)
        first = _add(workflows, session_id, SPEC_A, (0.7, 0.72, 0.71), author="recommendation")
        second = _add(workflows, session_id, SPEC_B, (0.74, 0.75, 0.73), parent_id=first.version_id)
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:  # a new connection reads them back
        workflows = Workflows(kb)
        versions = workflows.versions(session_id)
        assert [v.number for v in versions] == [1, 2]
        assert versions[1].parent_id == versions[0].version_id
        assert versions[0].author == "recommendation" and versions[1].author == "user"
        assert versions[1].spec == SPEC_B
        assert versions[1].fold_scores == (0.74, 0.75, 0.73)
        assert workflows.session(session_id).revision == 2
        assert second.version_id == versions[1].version_id


def test_a_stale_writer_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        workflows = Workflows(kb)
        session_id = _session(workflows)
        _add(workflows, session_id, SPEC_A, (0.7, 0.7), expected_revision=0)  # tab 1
        with pytest.raises(StaleSessionError, match="another tab"):
            _add(workflows, session_id, SPEC_B, (0.7, 0.7), expected_revision=0)  # tab 2
        assert len(workflows.versions(session_id)) == 1
        assert workflows.session(session_id).revision == 1


def test_a_parent_from_another_session_is_refused(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        workflows = Workflows(kb)
        one, two = _session(workflows), _session(workflows)
        version = _add(workflows, one, SPEC_A, (0.7, 0.7))
        with pytest.raises(KnowledgeBaseError, match="not part of session"):
            _add(workflows, two, SPEC_B, (0.7, 0.7), parent_id=version.version_id)


def test_comparison_is_paired_over_the_same_folds(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        workflows = Workflows(kb)
        session_id = _session(workflows)
        a = _add(workflows, session_id, SPEC_A, (0.70, 0.60, 0.80, 0.65, 0.75), fit_seconds=2.0)
        # b beats a by 0.02 to 0.04 on every fold: a clear paired difference despite the spread
        b = _add(workflows, session_id, SPEC_B, (0.73, 0.62, 0.83, 0.68, 0.79), fit_seconds=3.0)
        result = compare_versions(a, b)
    assert result.paired
    assert result.difference == pytest.approx(0.03)
    assert result.interval is not None and 0 < result.interval[0] < 0.03 < result.interval[1]
    assert result.better == b.version_id
    assert result.fit_seconds_ratio == pytest.approx(1.5)
    assert result.spec_diff == (("RandomForestClassifier.max_features", 0.3, 0.5),)


def test_comparison_without_a_clear_winner(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        workflows = Workflows(kb)
        session_id = _session(workflows)
        a = _add(workflows, session_id, SPEC_A, (0.70, 0.80, 0.60))
        b = _add(workflows, session_id, SPEC_B, (0.75, 0.65, 0.72))
        result = compare_versions(a, b)
    assert result.interval is not None and result.interval[0] < 0 < result.interval[1]
    assert result.better is None


def test_a_file_of_the_previous_schema_gains_the_workflow_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db["schema_migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
    for migration in all_migrations():
        if migration.name == "workflows":
            break
        migration.upgrade(db)
        db["schema_migrations"].insert(
            {"version": migration.version, "name": migration.name, "applied_at": "2026-12-01"}
        )
    db["datasets"].insert({"dataset_id": "openml:31", "name": "credit-g", "openml_id": 31})
    db.conn.commit()
    db.close()
    with KnowledgeBase.open(path) as kb:
        assert "workflow_versions" in kb.db.table_names()
        assert kb.db.execute("SELECT name FROM datasets").fetchone()[0] == "credit-g"
        session_id = _session(Workflows(kb))
        assert Workflows(kb).versions(session_id) == []
