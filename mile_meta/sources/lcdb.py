"""LCDB 0.1.0: learning curves of 20 scikit-learn learners, and OpenML qualities.

Raw files (``lcdb/`` in the sdist): ``database-{accuracy,auc,f1,logloss}.csv`` with one row
per (dataset, learner, training size, outer seed, inner seed) and ``datasets.csv`` with the
OpenML qualities of 219 datasets. The snapshot aggregates the seeds of each
(dataset, learner, training size): mean, standard deviation and count of the test score,
mean validation score and mean training time in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.components import family_of
from mile_meta.pipelines.translate.lcdb import translate_lcdb
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    SourceInfo,
    TaskRecord,
    dataset_key,
)
from mile_meta.sources._base import Source, read_snapshot_csv, sha256_of, snapshot_source_info

__all__ = ["LCDB_METRICS", "LcdbSource", "write_lcdb_snapshot"]

# LCDB file suffix -> (knowledge-base metric, higher is better)
LCDB_METRICS: dict[str, tuple[str, bool]] = {
    "accuracy": ("predictive_accuracy", True),
    "auc": ("area_under_roc_curve", True),
    "f1": ("f_measure", True),
    "logloss": ("log_loss", False),
}
_CURVE_COLUMNS = [
    "openmlid",
    "learner",
    "size_train",
    "score_test_mean",
    "score_test_std",
    "count",
    "score_valid_mean",
    "traintime_mean",
]


def write_lcdb_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    folder = unpacked / "lcdb-0.1.0" / "lcdb"
    originals = {}
    for suffix in LCDB_METRICS:
        path = folder / f"database-{suffix}.csv"
        originals[path.name] = sha256_of(path)
        raw = pd.read_csv(
            path,
            usecols=["openmlid", "learner", "size_train", "traintime", "score_valid", "score_test"],
        )
        grouped = raw.groupby(["openmlid", "learner", "size_train"], sort=True)
        curves = pd.DataFrame(
            {
                "score_test_mean": grouped["score_test"].mean(),
                "score_test_std": grouped["score_test"].std(ddof=0),
                "count": grouped["score_test"].count(),
                "score_valid_mean": grouped["score_valid"].mean(),
                "traintime_mean": grouped["traintime"].mean(),
            }
        ).reset_index()
        text = curves[_CURVE_COLUMNS].to_csv(index=False, float_format="%.8g", lineterminator="\n")
        write_gzip(out / f"curves-{suffix}.csv.gz", text.encode())
    datasets = folder / "datasets.csv"
    originals[datasets.name] = sha256_of(datasets)
    write_gzip(out / "datasets.csv.gz", datasets.read_bytes())
    return originals


def _read(path: Path) -> pd.DataFrame:
    frame: pd.DataFrame = read_snapshot_csv(path, "LCDB")
    return frame


class LcdbSource(Source):
    """LCDB curves as evaluations with ``train_size``, plus its OpenML qualities table."""

    name = "lcdb"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / "lcdb"

    def _files(self) -> list[str]:
        return ["datasets.csv.gz", *(f"curves-{suffix}.csv.gz" for suffix in LCDB_METRICS)]

    def info(self) -> SourceInfo:
        return snapshot_source_info(self.name, self.folder, tuple(self._files()))

    def estimated_records(self) -> int:
        return 200_000

    def records(self) -> Iterator[Record]:
        qualities = _read(self.folder / "datasets.csv.gz")
        curves = {suffix: _read(self.folder / f"curves-{suffix}.csv.gz") for suffix in LCDB_METRICS}
        for suffix, frame in curves.items():
            missing = set(_CURVE_COLUMNS) - set(frame.columns)
            if missing:
                raise CorpusError(
                    f"LCDB file curves-{suffix}.csv.gz lacks columns {sorted(missing)}; rebuild the snapshot"
                )
        learners = sorted(set().union(*(set(frame["learner"]) for frame in curves.values())))
        pipeline_of = {}
        for learner in learners:
            translation = translate_lcdb(learner)
            if translation.spec is None:
                raise CorpusError(f"LCDB learner {learner!r} cannot be translated")
            pipeline_of[learner] = translation.spec.pipeline_id
            yield PipelineRecord(
                translation.spec.pipeline_id,
                translation.spec.to_json(),
                family_of(translation.spec),
                learner,
                True,
                "classification",
            )
        quality_names = [c for c in qualities.columns if c not in ("openmlid", "Name")]
        known = set()
        for row in qualities.itertuples(index=False):
            openml_id = int(row.openmlid)
            known.add(openml_id)
            dataset_id = dataset_key(openml_id)
            values = row._asdict()
            n_classes = values.get("NumberOfClasses")
            yield DatasetRecord(
                dataset_id,
                str(row.Name),
                openml_id,
                n_rows=_int_or_none(values.get("NumberOfInstances")),
                n_features=_int_or_none(values.get("NumberOfFeatures")),
                n_classes=_int_or_none(n_classes),
                origin_key=str(row.Name),
            )
            yield TaskRecord(
                f"lcdb:{openml_id}",
                dataset_id,
                "binary" if n_classes == 2 else "multiclass",
                estimation_procedure="LCDB outer 90/10 split x inner 90/10 split, 5 x 5 seeds",
            )
            for name in quality_names:
                value = values[name]
                yield QualityRecord(dataset_id, name, None if pd.isna(value) else float(value))
        for suffix, frame in curves.items():
            metric, higher = LCDB_METRICS[suffix]
            frame = frame[frame["score_test_mean"].notna()]
            for openml_id in sorted(set(frame["openmlid"]) - known):
                known.add(int(openml_id))
                yield DatasetRecord(
                    dataset_key(int(openml_id)), None, int(openml_id), origin_key=str(openml_id)
                )
            columns = [frame[c].to_numpy() for c in _CURVE_COLUMNS]
            for openml_id, learner, size, mean, std, count, _valid, time in zip(
                *columns, strict=True
            ):
                yield EvaluationRecord(
                    dataset_id=f"openml:{int(openml_id)}",
                    pipeline_id=pipeline_of[learner],
                    metric=metric,
                    value=float(mean),
                    higher_is_better=higher,
                    task_id=f"lcdb:{int(openml_id)}",
                    runtime_seconds=None if np.isnan(time) else float(time),
                    train_size=int(size),
                    value_std=None if np.isnan(std) else float(std),
                    repeats=int(count),
                )


def _int_or_none(value: object) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(value)  # type: ignore[call-overload]
