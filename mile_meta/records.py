"""Typed records that cross module borders: what sources yield and the knowledge base stores.

Units are explicit in the field names (``runtime_seconds``) or documented (metric values are
in the metric's own unit; ``higher_is_better`` says which way is good).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DatasetRecord",
    "EvaluationRecord",
    "PipelineRecord",
    "QualityRecord",
    "Record",
    "SourceInfo",
    "TaskRecord",
    "TaskType",
    "dataset_key",
]

TaskType = Literal["binary", "multiclass", "regression"]


def dataset_key(openml_id: int | None = None, *, source: str = "", name: str = "") -> str:
    """The knowledge base's dataset id: ``openml:<id>`` when the OpenML id is known.

    Datasets from different corpora meet on their OpenML id; a dataset without one is
    keyed by the source that named it (``autosklearn:<name>``, ``local:<fingerprint>``).
    """
    if openml_id is not None:
        return f"openml:{int(openml_id)}"
    if not source or not name:
        raise ValueError("a dataset without an OpenML id needs a source and a name")
    return f"{source}:{name}"


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one ingest: which corpus, which version, which files (sha256), licence."""

    name: str
    version: str
    licence: str
    url: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (file name, sha256 hex)
    description: str = ""


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset; ``name`` is None when the source does not know it (another source may)."""

    dataset_id: str
    name: str | None
    openml_id: int | None = None
    n_rows: int | None = None
    n_features: int | None = None
    n_classes: int | None = None
    origin_key: str = ""  # how the source names it (Oboe row label, auto-sklearn name, ...)


@dataclass(frozen=True)
class QualityRecord:
    """One meta-feature value; ``name`` is the OpenML quality name where one exists."""

    dataset_id: str
    name: str
    value: float | None


@dataclass(frozen=True)
class TaskRecord:
    """An evaluation task on a dataset (OpenML's: target, estimation procedure, metric)."""

    task_id: str
    dataset_id: str
    task_type: TaskType | str
    target: str = ""
    estimation_procedure: str = ""
    metric: str = ""
    openml_task_id: int | None = None


@dataclass(frozen=True)
class PipelineRecord:
    """A pipeline as the knowledge base stores it.

    ``spec_json`` is the canonical JSON of a :class:`mile_meta.pipelines.PipelineSpec` and
    ``pipeline_id`` its content hash; ``runnable`` is False when the corpus' description
    could not be translated exactly (the raw description is then kept in ``spec_json``).
    """

    pipeline_id: str
    spec_json: str
    family: str
    origin_key: str
    runnable: bool = True
    task_type: str = ""


@dataclass(frozen=True)
class EvaluationRecord:
    """One measured result of a pipeline on a dataset (or task).

    ``value`` is in the metric's unit; ``fold``/``seed`` are None for aggregates, in which
    case ``value_std`` and ``repeats`` describe the spread over the aggregated runs.
    ``train_size`` is the number of training rows for learning-curve points.
    """

    dataset_id: str
    pipeline_id: str
    metric: str
    value: float
    higher_is_better: bool
    task_id: str | None = None
    fold: int | None = None
    seed: int | None = None
    runtime_seconds: float | None = None
    train_size: int | None = None
    value_std: float | None = None
    repeats: int | None = None
    run_key: str = ""  # the source's own id for the run (OpenML run id, ...)

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"evaluation value must be finite, got {self.value!r}")


Record = DatasetRecord | QualityRecord | TaskRecord | PipelineRecord | EvaluationRecord
