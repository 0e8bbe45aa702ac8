"""Contract checks shared by the test suites of every plug-in (like optuna.testing).

``check_source_contract(source)`` is run on every corpus source; a new source passes it
before it joins ``mile_meta.sources``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    TaskRecord,
)
from mile_meta.sources import Source

__all__ = ["check_source_contract"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_source_contract(source: Source, *, limit: int | None = None) -> dict[str, int]:
    """Assert the :class:`~mile_meta.sources.Source` contract; returns record counts.

    ``limit`` stops after that many records (for large sources in quick tests).
    """
    info = source.info()
    _require(info.name == source.name, "info().name must equal the class' name")
    _require(info.version and info.licence, "a source names its version and licence")
    for file_name, digest in info.files:
        _require(file_name, "every file read is named")
        _require(_SHA256.match(digest), f"{file_name}: sha256 must be 64 hex digits")
    counts = _check_records(source.records(), limit)
    _require(
        counts["datasets"] > 0 and counts["pipelines"] > 0 and counts["evaluations"] > 0,
        "a source yields datasets, pipelines and evaluations",
    )
    return counts


def _check_records(records: Iterable[Record], limit: int | None) -> dict[str, int]:
    datasets: set[str] = set()
    pipelines: set[str] = set()
    counts = {"datasets": 0, "qualities": 0, "tasks": 0, "pipelines": 0, "evaluations": 0}
    for index, record in enumerate(records):
        if limit is not None and index >= limit:
            break
        if isinstance(record, DatasetRecord):
            datasets.add(record.dataset_id)
            counts["datasets"] += 1
        elif isinstance(record, PipelineRecord):
            pipelines.add(record.pipeline_id)
            _require(record.family, f"pipeline {record.pipeline_id} has no family")
            counts["pipelines"] += 1
        elif isinstance(record, QualityRecord):
            _require(
                record.dataset_id in datasets, f"quality of unknown dataset {record.dataset_id}"
            )
            counts["qualities"] += 1
        elif isinstance(record, TaskRecord):
            _require(record.dataset_id in datasets, f"task of unknown dataset {record.dataset_id}")
            counts["tasks"] += 1
        elif isinstance(record, EvaluationRecord):
            _require(
                record.dataset_id in datasets, f"evaluation of unknown dataset {record.dataset_id}"
            )
            _require(
                record.pipeline_id in pipelines,
                f"evaluation of unknown pipeline {record.pipeline_id}",
            )
            counts["evaluations"] += 1
        else:
            raise AssertionError(f"not a knowledge-base record: {type(record).__name__}")
    return counts


def _require(condition: object, message: str) -> None:
    # not `assert`: the contract must hold under `python -O` too
    if not condition:
        raise AssertionError(message)
