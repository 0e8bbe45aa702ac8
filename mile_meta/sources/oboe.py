"""Oboe 0.2.0: the error matrix of 418 OpenML datasets × 219 pipelines.

Raw files (``oboe/defaults/Oboe`` in the wheel): ``error_matrix.csv`` (balanced error rate,
5-fold CV; rows are zero-padded OpenML dataset ids, columns are pipeline descriptions),
``runtime_matrix.csv`` (seconds, same shape), ``dataset_sizes.csv`` (rows; features after
Oboe's encoding), ``classification.json`` (the hyperparameter grid). The snapshot keeps
them verbatim, gzipped.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.components import family_of
from mile_meta.pipelines.translate.oboe import translate_oboe
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

__all__ = ["OboeSource", "write_oboe_snapshot"]

_RAW_FILES = ("error_matrix.csv", "runtime_matrix.csv", "dataset_sizes.csv", "classification.json")
METRIC = "balanced_error_rate"


def write_oboe_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    """Copy Oboe's four data files, gzipped; returns original file -> sha256."""
    folder = unpacked / "oboe" / "defaults" / "Oboe"
    originals = {}
    for file in _RAW_FILES:
        data = (folder / file).read_bytes()
        originals[file] = sha256_of(folder / file)
        write_gzip(out / f"{file}.gz", data)
    return originals


def _read_csv(path: Path) -> pd.DataFrame:
    frame: pd.DataFrame = read_snapshot_csv(path, "Oboe", index_col=0)
    return frame


class OboeSource(Source):
    """Oboe's error matrix as datasets, pipelines and balanced-error-rate evaluations."""

    name = "oboe"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / "oboe"

    def info(self) -> SourceInfo:
        return snapshot_source_info(
            self.name, self.folder, tuple(f"{file}.gz" for file in _RAW_FILES)
        )

    def estimated_records(self) -> int:
        return 418 * 219 + 3 * 418 + 219

    def records(self) -> Iterator[Record]:
        errors = _read_csv(self.folder / "error_matrix.csv.gz")
        runtimes = _read_csv(self.folder / "runtime_matrix.csv.gz")
        sizes = _read_csv(self.folder / "dataset_sizes.csv.gz")
        try:
            with gzip.open(self.folder / "classification.json.gz") as handle:
                json.loads(handle.read())
        except (OSError, EOFError, ValueError) as error:
            raise CorpusError(
                f"Oboe file {self.folder / 'classification.json.gz'} is unreadable ({error}); "
                "rebuild the snapshot with `mile-meta corpora fetch`"
            ) from error
        if errors.shape != runtimes.shape or not errors.columns.equals(runtimes.columns):
            raise CorpusError(
                f"Oboe error and runtime matrices in {self.folder} do not match; rebuild the snapshot"
            )
        translations = [translate_oboe(column) for column in errors.columns]
        pipeline_ids = []
        for translation in translations:
            if translation.spec is None:
                raise CorpusError(f"Oboe pipeline {translation.origin_key} cannot be translated")
            pipeline_ids.append(translation.spec.pipeline_id)
            yield PipelineRecord(
                pipeline_id=translation.spec.pipeline_id,
                spec_json=translation.spec.to_json(),
                family=family_of(translation.spec),
                origin_key=translation.origin_key,
                runnable=True,
                task_type="classification",
            )
        openml_ids = [int(label) for label in errors.index]
        for openml_id in openml_ids:
            dataset_id = dataset_key(openml_id)
            rows, encoded = (
                (sizes.loc[openml_id].iloc[0], sizes.loc[openml_id].iloc[1])
                if openml_id in sizes.index
                else (None, None)
            )
            yield DatasetRecord(
                dataset_id,
                None,
                openml_id,
                n_rows=None if rows is None else int(rows),
                origin_key=f"{openml_id:05d}",
            )
            yield TaskRecord(
                task_id=f"oboe:{openml_id}",
                dataset_id=dataset_id,
                task_type="classification",
                estimation_procedure="5-fold cross-validation",
                metric=METRIC,
            )
            if rows is not None and encoded is not None:
                yield QualityRecord(dataset_id, "NumberOfInstances", float(rows))
                yield QualityRecord(dataset_id, "OboeEncodedFeatures", float(encoded))
        error_values = errors.to_numpy()
        runtime_values = runtimes.to_numpy()
        for row, openml_id in enumerate(openml_ids):
            dataset_id = dataset_key(openml_id)
            task_id = f"oboe:{openml_id}"
            for column, pipeline_id in enumerate(pipeline_ids):
                value = float(error_values[row, column])
                if value != value:  # NaN: not evaluated
                    continue
                runtime = float(runtime_values[row, column])
                yield EvaluationRecord(
                    dataset_id=dataset_id,
                    pipeline_id=pipeline_id,
                    metric=METRIC,
                    value=value,
                    higher_is_better=False,
                    task_id=task_id,
                    runtime_seconds=runtime if runtime == runtime else None,
                    repeats=5,
                )
