"""The core tables: sources, datasets, qualities, tasks, pipelines, evaluations."""

from __future__ import annotations

import sqlite_utils


def upgrade(db: sqlite_utils.Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "version": str,
            "licence": str,
            "url": str,
            "files": str,  # JSON list of [file name, sha256]
            "description": str,
            "ingested_at": str,  # ISO 8601, UTC
            "record_counts": str,  # JSON object: entity -> count
        },
        pk="name",
    )
    db.table("datasets").create(
        {
            "dataset_id": str,
            "name": str,
            "openml_id": int,
            "n_rows": int,
            "n_features": int,
            "n_classes": int,
        },
        pk="dataset_id",
    )
    db.table("dataset_origins").create(
        {"dataset_id": str, "source": str, "origin_key": str},
        pk=("dataset_id", "source", "origin_key"),
    )
    db.table("qualities").create(
        {"dataset_id": str, "source": str, "name": str, "value": float},
        pk=("dataset_id", "source", "name"),
    )
    db.table("tasks").create(
        {
            "task_id": str,
            "dataset_id": str,
            "source": str,
            "task_type": str,
            "target": str,
            "estimation_procedure": str,
            "metric": str,
            "openml_task_id": int,
        },
        pk="task_id",
    )
    db.table("pipelines").create(
        {
            "pipeline_id": str,
            "spec_json": str,
            "family": str,
            "task_type": str,
            "runnable": int,
        },
        pk="pipeline_id",
    )
    db.table("pipeline_origins").create(
        {"pipeline_id": str, "source": str, "origin_key": str},
        pk=("source", "origin_key"),
    )
    db.table("evaluations").create(
        {
            "evaluation_id": str,
            "source": str,
            "dataset_id": str,
            "task_id": str,
            "pipeline_id": str,
            "metric": str,
            "value": float,
            "higher_is_better": int,
            "fold": int,
            "seed": int,
            "runtime_seconds": float,
            "train_size": int,
            "value_std": float,
            "repeats": int,
            "run_key": str,
        },
        pk="evaluation_id",
    )
    db.table("kb_meta").create({"key": str, "value": str}, pk="key")

    db.table("datasets").create_index(["openml_id"])
    db.table("datasets").create_index(["name"])
    db.table("dataset_origins").create_index(["source"])
    db.table("qualities").create_index(["name"])
    db.table("qualities").create_index(["source"])
    db.table("tasks").create_index(["dataset_id"])
    db.table("pipelines").create_index(["family"])
    db.table("pipeline_origins").create_index(["pipeline_id"])
    # "best pipelines for dataset X under metric M" is the hot query: the index narrows it to
    # one (dataset, metric) range.
    db.table("evaluations").create_index(["dataset_id", "metric", "value"])
    db.table("evaluations").create_index(["pipeline_id", "metric"])
    db.table("evaluations").create_index(["source"])
    db.table("evaluations").create_index(["task_id"])
