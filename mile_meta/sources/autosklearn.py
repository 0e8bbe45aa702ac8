"""auto-sklearn 0.15.0's meta-learning files: best configurations per dataset and metric.

Raw files (``autosklearn/metalearning/files/<metric>_<task>_<dense|sparse>/`` in the sdist, 92
folders): ``algorithm_runs.arff`` (dataset name, configuration index, auto-sklearn's *cost*
of that configuration on the dataset, run status), ``configurations.csv`` (the configurations
as ConfigSpace dictionaries) and ``feature_values.arff`` (auto-sklearn's meta-features per
dataset name). auto-sklearn's metadata scripts ran auto-sklearn on each OpenML task, scored
the incumbents on the task's test split with every metric and kept, per metric, the best one;
a ``sparse`` folder keeps the best among configurations that also run on sparse data (same
data, same scores), and the ``binary`` and ``multiclass`` folders of a metric are identical.

The snapshot (``corpora/autosklearn/``) keeps that information once: ``runs.csv.gz`` (one row
per run, binary/multiclass collapsed to ``classification``), ``configurations.csv.gz``
(each distinct configuration once, named by :func:`configuration_id`) and
``metafeatures.csv.gz`` (each dataset's meta-features once per task kind).

The cost is ``optimum - score`` (``autosklearn.metrics.calculate_losses``): ``1 - score`` for
scores (accuracy, ROC AUC, R², ...) and the loss itself for losses (log loss, MSE, MAE, ...);
:func:`convert_cost` turns it into the knowledge base's metric where that is exact.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.components import family_of
from mile_meta.pipelines.translate.autosklearn import (
    canonical_configuration,
    configuration_id,
    translate_autosklearn,
)
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
from mile_meta.sources._base import Source, sha256_of, snapshot_source_info

__all__ = [
    "AutoSklearnSource",
    "OpenMLMatch",
    "convert_cost",
    "match_openml_id",
    "write_autosklearn_snapshot",
]

_FOLDER = re.compile(
    r"^(?P<metric>.+)_(?P<task>binary\.classification|multiclass\.classification|regression)"
    r"_(?P<representation>dense|sparse)$"
)
_RUN_COLUMNS = [
    "task",
    "metric",
    "representation",
    "dataset",
    "algorithm",
    "config_id",
    "cost",
    "runstatus",
]
_CONFIG_COLUMNS = ["config_id", "configuration"]
_SNAPSHOT_FILES = ("runs.csv.gz", "configurations.csv.gz", "metafeatures.csv.gz")
_LCDB_DATASETS = "lcdb/datasets.csv.gz"
_ESTIMATION = (
    "test split of the OpenML task: the best incumbent of an auto-sklearn run for this "
    "metric (auto-sklearn metadata scripts)"
)
# auto-sklearn metric -> (knowledge-base metric, the cost is 1 - score)
_EXACT_METRICS: dict[str, tuple[str, bool]] = {
    "accuracy": ("predictive_accuracy", True),
    # micro-averaged precision, recall and F1 equal accuracy for single-label targets
    "f1_micro": ("predictive_accuracy", True),
    "precision_micro": ("predictive_accuracy", True),
    "recall_micro": ("predictive_accuracy", True),
    "balanced_accuracy": ("balanced_accuracy", True),
    "log_loss": ("log_loss", False),
    "r2": ("r2", True),
    "mean_absolute_error": ("mean_absolute_error", False),
    "root_mean_squared_error": ("root_mean_squared_error", False),
}
# exact only for two classes: binary ROC AUC and F1 of the positive class
_BINARY_METRICS = {"roc_auc": "area_under_roc_curve", "f1": "f_measure"}


# -- snapshot ------------------------------------------------------------------------------


def _metalearning_folder(unpacked: Path) -> Path:
    candidates = sorted(unpacked.glob("*/autosklearn/metalearning/files")) + sorted(
        unpacked.glob("autosklearn/metalearning/files")
    )
    if not candidates:
        raise CorpusError(
            f"no autosklearn/metalearning/files folder under {unpacked}; "
            "fetch auto-sklearn==0.15.0 again with `mile-meta corpora fetch`"
        )
    return candidates[0]


def _read_arff(path: Path) -> tuple[list[str], list[list[str]]]:
    """Attribute names and data rows of a (dense, unquoted) ARFF file."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"auto-sklearn file {path} is unreadable ({error})") from error
    names: list[str] = []
    for index, line in enumerate(lines):
        upper = line.strip().upper()
        if upper.startswith("@ATTRIBUTE"):
            names.append(line.split()[1])
        elif upper.startswith("@DATA"):
            rows = [row for row in csv.reader(lines[index + 1 :]) if row]
            if any(len(row) != len(names) for row in rows):
                raise CorpusError(f"auto-sklearn file {path} has rows of the wrong width")
            return names, rows
    raise CorpusError(f"auto-sklearn file {path} has no @DATA section")


def _number(text: str) -> str:
    """A value in the snapshot's fixed format ('' for missing)."""
    text = text.strip()
    if text in ("", "?"):
        return ""
    return f"{float(text):.8g}"


def _csv_bytes(columns: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def write_autosklearn_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    """Derive runs, configurations and meta-features; returns original file -> sha256."""
    root = _metalearning_folder(unpacked)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and _FOLDER.match(p.name))
    if not folders:
        raise CorpusError(f"no <metric>_<task>_<dense|sparse> folders in {root}")
    originals: dict[str, str] = {}
    runs: set[tuple[str, ...]] = set()
    configurations: dict[str, str] = {}
    metafeatures: dict[tuple[str, str], dict[str, str]] = {}
    for folder in folders:
        match = _FOLDER.match(folder.name)
        assert match is not None
        task = "regression" if match["task"] == "regression" else "classification"
        for file in ("algorithm_runs.arff", "configurations.csv", "feature_values.arff"):
            originals[f"{folder.name}/{file}"] = sha256_of(folder / file)

        with (folder / "configurations.csv").open(newline="") as handle:
            by_index = {}
            for config_row in csv.DictReader(handle):
                index = config_row.pop("idx")
                config = {k: v for k, v in config_row.items() if v not in ("", None)}
                config_id = configuration_id(config)
                configurations[config_id] = canonical_configuration(config)
                by_index[index] = config_id

        names, run_rows = _read_arff(folder / "algorithm_runs.arff")
        if names[:3] != ["instance_id", "repetition", "algorithm"] or names[-1] != "runstatus":
            raise CorpusError(f"unexpected columns {names} in {folder / 'algorithm_runs.arff'}")
        for dataset, _repetition, algorithm, cost, status in run_rows:
            if algorithm not in by_index:
                raise CorpusError(
                    f"{folder / 'algorithm_runs.arff'} names configuration {algorithm}, "
                    "missing from configurations.csv"
                )
            runs.add(
                (
                    task,
                    match["metric"],
                    match["representation"],
                    dataset,
                    algorithm,
                    by_index[algorithm],
                    _number(cost),
                    status,
                )
            )

        names, feature_rows = _read_arff(folder / "feature_values.arff")
        for row in feature_rows:
            values = {name: _number(value) for name, value in zip(names[2:], row[2:], strict=True)}
            known = metafeatures.setdefault((task, row[0]), values)
            if known != values:
                raise CorpusError(
                    f"meta-features of {row[0]!r} in {folder / 'feature_values.arff'} differ "
                    "from another folder's; the snapshot cannot keep them once"
                )

    ordered_runs = sorted(runs, key=lambda run: (run[:4], int(run[4]), run[5:]))
    write_gzip(out / "runs.csv.gz", _csv_bytes(_RUN_COLUMNS, ordered_runs))
    write_gzip(
        out / "configurations.csv.gz",
        _csv_bytes(_CONFIG_COLUMNS, sorted(configurations.items())),
    )
    feature_names = sorted({name for values in metafeatures.values() for name in values})
    write_gzip(
        out / "metafeatures.csv.gz",
        _csv_bytes(
            ["task", "dataset", *feature_names],
            (
                [task, dataset, *(values.get(name, "") for name in feature_names)]
                for (task, dataset), values in sorted(metafeatures.items())
            ),
        ),
    )
    return originals


# -- metric conversion ---------------------------------------------------------------------


def convert_cost(metric: str, cost: float, *, binary: bool | None) -> tuple[str, float, bool]:
    """(knowledge-base metric, value, higher is better) for auto-sklearn's cost of ``metric``.

    Exact conversions: accuracy (and the micro averages, equal to it) -> predictive_accuracy
    = 1 - cost; balanced_accuracy = 1 - cost; binary roc_auc -> area_under_roc_curve =
    1 - cost; binary f1 and multiclass f1_macro -> f_measure = 1 - cost; log_loss = cost;
    r2 = 1 - cost; mean_squared_error -> root_mean_squared_error = sqrt(cost);
    root_mean_squared_error and mean_absolute_error = cost. Every other metric is kept as
    ``autosklearn_<metric>_loss`` = cost (lower is better). ``binary`` is None for regression.
    """
    if metric in _EXACT_METRICS:
        name, is_score = _EXACT_METRICS[metric]
        return (name, 1.0 - cost, True) if is_score else (name, cost, False)
    if metric == "mean_squared_error":
        return "root_mean_squared_error", math.sqrt(max(cost, 0.0)), False
    if binary is True and metric in _BINARY_METRICS:
        return _BINARY_METRICS[metric], 1.0 - cost, True
    if binary is False and metric == "f1_macro":
        return "f_measure", 1.0 - cost, True
    return f"autosklearn_{metric}_loss", cost, False


# -- dataset names -> OpenML ids -----------------------------------------------------------


@dataclass(frozen=True)
class OpenMLMatch:
    """An OpenML dataset an auto-sklearn dataset name may refer to (a row of LCDB's table)."""

    openml_id: int
    name: str
    n_instances: float
    n_classes: float


def match_openml_id(
    name: str,
    n_instances: float | None,
    n_classes: float | None,
    table: Iterable[OpenMLMatch],
) -> OpenMLMatch | None:
    """The one OpenML dataset a classification dataset name of auto-sklearn stands for, if any.

    Candidates are the rows whose name equals ``name`` ignoring case. A candidate must agree
    with auto-sklearn's own meta-features, which it computed on the task's training split
    (about two thirds of the rows): both binary or both multiclass, no more classes than the
    OpenML dataset, and between half and all of its instances. One candidate left: the match;
    several: the one spelled exactly like ``name`` if there is exactly one such; else none.
    """
    candidates = [row for row in table if row.name.lower() == name.lower()]
    consistent = []
    for row in candidates:
        classes_agree = (
            n_classes is None
            or math.isnan(row.n_classes)
            or ((n_classes == 2) == (row.n_classes == 2) and n_classes <= row.n_classes)
        )
        sizes_agree = (
            n_instances is None
            or math.isnan(row.n_instances)
            or 0.5 < n_instances / max(row.n_instances, 1.0) <= 1.0
        )
        if not (classes_agree and sizes_agree):
            continue
        consistent.append(row)
    if len(consistent) == 1:
        return consistent[0]
    exact = [row for row in consistent if row.name == name]
    return exact[0] if len(exact) == 1 else None


def _openml_matches(
    metafeatures: list[dict[str, str]], table: list[OpenMLMatch]
) -> dict[str, OpenMLMatch]:
    """Classification dataset name -> OpenML dataset, leaving out ids two names would share."""
    found = {}
    for row in metafeatures:
        if row["task"] != "classification":
            continue  # LCDB's table lists classification datasets only
        match = match_openml_id(
            row["dataset"],
            _float_or_none(row.get("NumberOfInstances")),
            _float_or_none(row.get("NumberOfClasses")),
            table,
        )
        if match is not None:
            found[row["dataset"]] = match
    claims: dict[int, int] = {}
    for match in found.values():
        claims[match.openml_id] = claims.get(match.openml_id, 0) + 1
    return {name: match for name, match in found.items() if claims[match.openml_id] == 1}


# -- the source ----------------------------------------------------------------------------


def _read_csv(path: Path, what: str) -> list[dict[str, str]]:
    try:
        with gzip.open(path, "rt", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise CorpusError(
            f"{what} file {path} is missing; rebuild the snapshot with `mile-meta corpora fetch`"
        ) from None
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as error:
        raise CorpusError(
            f"{what} file {path} is corrupt ({error}); rebuild the snapshot with "
            "`mile-meta corpora fetch`"
        ) from error
    return rows


def _require(rows: list[dict[str, str]], columns: Iterable[str], path: Path) -> None:
    missing = sorted(set(columns) - set(rows[0] if rows else ()))
    if not rows or missing:
        raise CorpusError(
            f"auto-sklearn file {path} is empty or lacks columns {missing}; rebuild the snapshot "
            "with `mile-meta corpora fetch`"
        )


def _float_or_none(text: str | None, path: Path | None = None) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise CorpusError(
            f"{text!r} in {path or 'a snapshot file'} is not a number; rebuild the snapshot "
            "with `mile-meta corpora fetch`"
        ) from None
    return value if math.isfinite(value) else None


class AutoSklearnSource(Source):
    """auto-sklearn's best configurations per dataset and metric, with its meta-features.

    Datasets: a classification dataset whose name :func:`match_openml_id` finds in LCDB's
    OpenML table is ``openml:<id>``; others are ``autosklearn:<name>``, and regression datasets
    ``autosklearn:regression/<name>`` (40 names are both a classification and a regression
    dataset of auto-sklearn, different OpenML datasets). Qualities: auto-sklearn's
    meta-features under their own names (computed on the training split). Tasks: one per
    dataset and knowledge-base metric. Pipelines: one per configuration, translated by
    :func:`~mile_meta.pipelines.translate.autosklearn.translate_autosklearn` (runnable, maybe
    approximate) or kept as its raw JSON (not runnable). Evaluations: runs with status ``ok``,
    converted by :func:`convert_cost`; a configuration measured twice on the same dataset and
    metric (dense and sparse folders, accuracy and its micro-averaged twins) counts once, and
    runs whose dataset name occurs twice in one folder (two OpenML datasets of one name) are
    left out.
    """

    name = "autosklearn"

    def __init__(self, folder: Path | None = None, lcdb_datasets: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / "autosklearn"
        self.lcdb_datasets = lcdb_datasets or self.folder.parent / _LCDB_DATASETS

    def info(self) -> SourceInfo:
        extra = ((_LCDB_DATASETS, sha256_of(self.lcdb_datasets)),)
        return snapshot_source_info(self.name, self.folder, _SNAPSHOT_FILES, extra)

    def estimated_records(self) -> int:
        return 20_300  # 20 284 from the 0.15.0 snapshot

    def _openml_table(self) -> list[OpenMLMatch]:
        rows = _read_csv(self.lcdb_datasets, "LCDB")
        _require(
            rows, ["openmlid", "Name", "NumberOfInstances", "NumberOfClasses"], self.lcdb_datasets
        )
        return [
            OpenMLMatch(
                int(float(row["openmlid"])),
                row["Name"],
                _float_or_none(row["NumberOfInstances"], self.lcdb_datasets) or math.nan,
                _float_or_none(row["NumberOfClasses"], self.lcdb_datasets) or math.nan,
            )
            for row in rows
        ]

    def records(self) -> Iterator[Record]:
        paths = {file: self.folder / file for file in _SNAPSHOT_FILES}
        runs = _read_csv(paths["runs.csv.gz"], "auto-sklearn")
        configurations = _read_csv(paths["configurations.csv.gz"], "auto-sklearn")
        metafeatures = _read_csv(paths["metafeatures.csv.gz"], "auto-sklearn")
        _require(runs, _RUN_COLUMNS, paths["runs.csv.gz"])
        _require(configurations, _CONFIG_COLUMNS, paths["configurations.csv.gz"])
        _require(
            metafeatures, ["task", "dataset", "NumberOfInstances"], paths["metafeatures.csv.gz"]
        )
        openml_table = self._openml_table()

        # datasets and their meta-features
        dataset_ids: dict[tuple[str, str], str] = {}
        binary: dict[tuple[str, str], bool | None] = {}
        dataset_records: list[Record] = []
        matches = _openml_matches(metafeatures, openml_table)
        for row in metafeatures:
            task, name = row["task"], row["dataset"]
            values = {
                k: _float_or_none(v, paths["metafeatures.csv.gz"])
                for k, v in row.items()
                if k not in ("task", "dataset")
            }
            n_classes = values.get("NumberOfClasses")
            binary[(task, name)] = (
                None if task == "regression" or n_classes is None else n_classes == 2
            )
            match = matches.get(name) if task == "classification" else None
            if match is not None:
                dataset_id = dataset_key(match.openml_id)
                record = DatasetRecord(dataset_id, match.name, match.openml_id, origin_key=name)
            else:
                key = name if task == "classification" else f"regression/{name}"
                dataset_id = dataset_key(source=self.name, name=key)
                record = DatasetRecord(dataset_id, name, origin_key=name)
            dataset_ids[(task, name)] = dataset_id
            dataset_records.append(record)
            # empty cells are meta-features of the other task kind (class entropy of a
            # regression dataset), not missing values
            dataset_records.extend(
                QualityRecord(dataset_id, quality, value)
                for quality, value in sorted(values.items())
                if value is not None
            )

        # pipelines
        pipeline_of: dict[str, str] = {}
        pipeline_records: list[Record] = []
        for row in configurations:
            try:
                config = json.loads(row["configuration"])
            except ValueError as error:
                raise CorpusError(
                    f"configuration {row['config_id']} in {paths['configurations.csv.gz']} is not "
                    f"JSON ({error}); rebuild the snapshot"
                ) from error
            task_type = "regression" if "regressor:__choice__" in config else "classification"
            translation = translate_autosklearn(config, task_type)
            if translation.spec is not None:
                spec_json = translation.spec.to_json()
                pipeline_id = translation.spec.pipeline_id
                family = family_of(translation.spec)
            else:
                spec_json = canonical_configuration(config)
                pipeline_id = _raw_pipeline_id(spec_json)
                choice = config.get("regressor:__choice__") or config.get("classifier:__choice__")
                family = str(choice or "unknown")
            pipeline_of[row["config_id"]] = pipeline_id
            pipeline_records.append(
                PipelineRecord(
                    pipeline_id,
                    spec_json,
                    family,
                    row["config_id"],
                    translation.runnable,
                    task_type,
                )
            )

        # evaluations, one per (dataset, metric, configuration)
        names_per_folder: dict[tuple[str, str, str, str], int] = {}
        for run in runs:
            folder_key = (run["task"], run["metric"], run["representation"], run["dataset"])
            names_per_folder[folder_key] = names_per_folder.get(folder_key, 0) + 1
        evaluations: dict[tuple[str, str, str], EvaluationRecord] = {}
        tasks: dict[str, TaskRecord] = {}
        for run in runs:
            cost = _float_or_none(run["cost"], paths["runs.csv.gz"])
            if run["runstatus"] != "ok" or cost is None:
                continue
            folder_key = (run["task"], run["metric"], run["representation"], run["dataset"])
            if names_per_folder[folder_key] > 1:
                continue  # one name, several OpenML datasets: which run is which is unknown
            dataset = (run["task"], run["dataset"])
            if dataset not in dataset_ids:
                raise CorpusError(
                    f"auto-sklearn run on {run['dataset']!r} has no meta-features in "
                    f"{paths['metafeatures.csv.gz']}; rebuild the snapshot"
                )
            if run["config_id"] not in pipeline_of:
                raise CorpusError(
                    f"auto-sklearn run names configuration {run['config_id']}, missing from "
                    f"{paths['configurations.csv.gz']}; rebuild the snapshot"
                )
            dataset_id = dataset_ids[dataset]
            metric, value, higher = convert_cost(run["metric"], cost, binary=binary[dataset])
            evaluation_key = (dataset_id, metric, run["config_id"])
            if evaluation_key in evaluations:
                continue
            task_id = f"autosklearn:{metric}:{dataset_id}"
            if task_id not in tasks:
                tasks[task_id] = TaskRecord(
                    task_id,
                    dataset_id,
                    _task_type(run["task"], binary[dataset]),
                    estimation_procedure=_ESTIMATION,
                    metric=metric,
                )
            evaluations[evaluation_key] = EvaluationRecord(
                dataset_id=dataset_id,
                pipeline_id=pipeline_of[run["config_id"]],
                metric=metric,
                value=value,
                higher_is_better=higher,
                task_id=task_id,
                repeats=1,
                run_key=run["config_id"],
            )

        yield from dataset_records
        yield from (tasks[task_id] for task_id in sorted(tasks))
        yield from pipeline_records
        yield from (evaluations[key] for key in sorted(evaluations))


def _task_type(kind: str, binary: bool | None) -> str:
    if kind == "regression":
        return "regression"
    return {True: "binary", False: "multiclass", None: "classification"}[binary]


def _raw_pipeline_id(spec_json: str) -> str:
    return hashlib.sha256(spec_json.encode()).hexdigest()[:16]
