"""The workbench's workflow versions: sessions and the versions derived in them.

``workflow_sessions``
    One row per workbench session: the user's dataset (its ``local:`` id, name, file and
    target), the task and metric, and ``revision``, a counter bumped by every change so that
    two browser tabs editing the same session notice each other.
``workflow_versions``
    One row per evaluated (or failed) pipeline of a session: who made it (``author``:
    ``recommendation``, ``user``, ``search``), what it was derived from (``parent_id``) and
    how (``action``), its spec, and its result (fold scores, fit seconds) beside what the
    recommender predicted for it.

The SQL that reads and writes them lives in :mod:`mile_meta.kb._workflows`.
"""

from __future__ import annotations

import sqlite_utils


def upgrade(db: sqlite_utils.Database) -> None:
    db.table("workflow_sessions").create(
        {
            "session_id": str,
            "name": str,
            "dataset_id": str,  # local:<fingerprint>
            "dataset_name": str,
            "data_path": str,
            "target": str,
            "task_type": str,
            "metric": str,
            "revision": int,
            "created_at": str,  # ISO 8601, UTC
            "updated_at": str,
        },
        pk="session_id",
        not_null={"revision"},
    )
    db.table("workflow_versions").create(
        {
            "version_id": str,
            "session_id": str,
            "number": int,  # 1, 2, ... within the session
            "parent_id": str,  # the version it was derived from (NULL: a root)
            "author": str,  # recommendation | user | search
            "action": str,  # what was done, in words
            "pipeline_id": str,
            "spec_json": str,
            "status": str,  # ok | failed
            "error": str,
            "metric": str,
            "higher_is_better": int,
            "mean": float,
            "std": float,
            "fold_scores": str,  # JSON list
            "fit_seconds": float,
            "total_seconds": float,
            "cached_folds": int,
            "predicted_score": float,
            "predicted_lower": float,
            "predicted_upper": float,
            "created_at": str,
        },
        pk="version_id",
    )
    db.table("workflow_versions").create_index(["session_id", "number"], unique=True)
    db.table("workflow_sessions").create_index(["dataset_id"])
