"""Upgrading a knowledge base written by an older schema version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from mile_meta.kb import KnowledgeBase
from mile_meta.kb.migrations import all_migrations


def _write_version_1(path: Path) -> None:
    """A knowledge base as mile-meta wrote it at schema version 1, with one evaluation."""
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db["schema_migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
    first = all_migrations()[0]
    assert first.version == 1
    first.upgrade(db)
    db["schema_migrations"].insert({"version": 1, "name": first.name, "applied_at": "2026-11-01"})
    db["datasets"].insert({"dataset_id": "openml:31", "name": "credit-g", "openml_id": 31})
    db["dataset_origins"].insert(
        {"dataset_id": "openml:31", "source": "oboe", "origin_key": "00031"}
    )
    db["evaluations"].insert(
        {
            "evaluation_id": "e1",
            "source": "oboe",
            "dataset_id": "openml:31",
            "pipeline_id": "p",
            "metric": "balanced_error_rate",
            "value": 0.3,
            "higher_is_better": 0,
        }
    )
    db.conn.commit()
    db.close()


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [migration.version for migration in all_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_version_1_file_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    _write_version_1(path)
    with KnowledgeBase.open(path) as kb:
        assert kb.schema_version == all_migrations()[-1].version
        applied = [
            row[0]
            for row in kb.db.execute("SELECT version FROM schema_migrations ORDER BY version")
        ]
        assert applied == [m.version for m in all_migrations()]
        assert kb.dataset_summary(31).name == "credit-g"
        assert kb.db.execute("SELECT value FROM evaluations").fetchone()[0] == 0.3


def test_newer_file_is_refused(tmp_path: Path) -> None:
    import pytest

    from mile_meta.errors import KnowledgeBaseError

    path = tmp_path / "future.sqlite"
    with KnowledgeBase.open(path) as kb:
        kb.db["schema_migrations"].insert({"version": 999, "name": "future", "applied_at": "2030"})
    with pytest.raises(KnowledgeBaseError, match="newer than this mile-meta"):
        KnowledgeBase.open(path)
