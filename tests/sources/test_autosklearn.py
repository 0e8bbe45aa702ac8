"""The auto-sklearn source: its snapshot writer on a small fake package, the source on the
committed snapshot (exact counts, OpenML id matching, metric conversion, bad files)."""

from __future__ import annotations

import csv
import gzip
import math
import shutil
from pathlib import Path

import pytest

from mile_meta.errors import CorpusError
from mile_meta.kb import KnowledgeBase
from mile_meta.records import DatasetRecord, EvaluationRecord, PipelineRecord, TaskRecord
from mile_meta.sources.autosklearn import (
    AutoSklearnSource,
    OpenMLMatch,
    convert_cost,
    match_openml_id,
    write_autosklearn_snapshot,
)
from mile_meta.testing import check_source_contract

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "corpora" / "autosklearn"
LCDB_DATASETS = REPO / "corpora" / "lcdb" / "datasets.csv.gz"

# -- the snapshot writer on a fake package ---------------------------------------------------

_RUNS = """@RELATION auto-sklearn_ALGORITHM_RUNS

@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE algorithm STRING
@ATTRIBUTE {metric} NUMERIC
@ATTRIBUTE runstatus {{ok, timeout, memout, not_applicable, crash, other}}

@DATA
{rows}
"""
_FEATURES = """@RELATION auto-sklearn_FEATURE_VALUES

@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE NumberOfClasses NUMERIC
@ATTRIBUTE NumberOfInstances NUMERIC

@DATA
{rows}
"""
_CLASSIFIER = "classifier:random_forest:max_features"


def _folder(root: Path, name: str, metric: str, runs: str, configs: str, features: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "algorithm_runs.arff").write_text(_RUNS.format(metric=metric, rows=runs))
    (folder / "configurations.csv").write_text(configs)
    (folder / "feature_values.arff").write_text(_FEATURES.format(rows=features))
    (folder / "description.txt").write_text("not read\n")


def _fake_package(tmp_path: Path) -> Path:
    unpacked = tmp_path / "auto-sklearn-0.15.0"
    root = unpacked / "auto-sklearn-0.15.0" / "autosklearn" / "metalearning" / "files"
    configs = (
        f"idx,classifier:__choice__,{_CLASSIFIER},feature_preprocessor:__choice__\n"
        "1,random_forest,0.5,no_preprocessing\n"
        "2,random_forest,0.7,no_preprocessing\n"
        "3,random_forest,0.5,no_preprocessing\n"  # the same configuration as idx 1
    )
    features = "zeta,1.0,2.0,670.0\nalpha,1.0,3.0,100.123456789"
    runs = "zeta,1.0,2,0.25,ok\nalpha,1.0,1,0.1234567891234,ok\nalpha,1.0,3,?,not_applicable"
    for task in ("binary", "multiclass"):  # identical in auto-sklearn 0.15.0
        _folder(root, f"accuracy_{task}.classification_dense", "accuracy", runs, configs, features)
    _folder(
        root,
        "r2_regression_dense",
        "r2",
        "zeta,1.0,1,0.5,ok",
        "idx,regressor:__choice__,feature_preprocessor:__choice__\n1,gaussian_process,pca\n",
        "zeta,1.0,0.0,500.0",
    )
    return unpacked


def _rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def test_snapshot_writer_is_deterministic_and_keeps_things_once(tmp_path: Path) -> None:
    unpacked = _fake_package(tmp_path)
    first, second = tmp_path / "one", tmp_path / "two"
    originals = write_autosklearn_snapshot(unpacked, first)
    assert write_autosklearn_snapshot(unpacked, second) == originals
    for name in ("runs.csv.gz", "configurations.csv.gz", "metafeatures.csv.gz"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert len(originals) == 3 * 3 and all(len(digest) == 64 for digest in originals.values())
    assert "accuracy_binary.classification_dense/algorithm_runs.arff" in originals

    runs = _rows(first / "runs.csv.gz")
    # binary and multiclass folders collapse to one set of classification rows
    assert [(r["task"], r["dataset"], r["algorithm"], r["cost"], r["runstatus"]) for r in runs] == [
        ("classification", "alpha", "1", "0.12345679", "ok"),
        ("classification", "alpha", "3", "", "not_applicable"),
        ("classification", "zeta", "2", "0.25", "ok"),
        ("regression", "zeta", "1", "0.5", "ok"),
    ]
    assert runs[0]["config_id"] == runs[1]["config_id"]  # idx 1 and 3 are one configuration
    assert len(_rows(first / "configurations.csv.gz")) == 3
    features = _rows(first / "metafeatures.csv.gz")
    assert [(f["task"], f["dataset"], f["NumberOfInstances"]) for f in features] == [
        ("classification", "alpha", "100.12346"),
        ("classification", "zeta", "670"),
        ("regression", "zeta", "500"),
    ]


def test_snapshot_writer_refuses_conflicting_metafeatures(tmp_path: Path) -> None:
    unpacked = _fake_package(tmp_path)
    path = next(unpacked.glob("**/accuracy_multiclass.classification_dense/feature_values.arff"))
    path.write_text(path.read_text().replace("670.0", "671.0"))
    with pytest.raises(CorpusError, match=r"meta-features of 'zeta'.*differ"):
        write_autosklearn_snapshot(unpacked, tmp_path / "out")


def test_snapshot_writer_needs_the_metalearning_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="autosklearn/metalearning/files"):
        write_autosklearn_snapshot(tmp_path, tmp_path / "out")


# -- the source on the committed snapshot ----------------------------------------------------


def test_source_contract_and_exact_counts() -> None:
    counts = check_source_contract(AutoSklearnSource())
    assert counts == {
        "datasets": 319,  # 208 classification + 111 regression datasets with meta-features
        "qualities": 11_137,
        "tasks": 2_906,
        "pipelines": 1_472,  # distinct configurations over the 92 folders
        "evaluations": 4_450,  # status-ok runs, each (dataset, metric, configuration) once
    }


def test_records_in_a_knowledge_base(tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(AutoSklearnSource())
        first = kb.stats()
        kb.ingest(AutoSklearnSource())
        again = kb.stats()
        _, rows = kb.query(
            "SELECT value, higher_is_better, run_key FROM evaluations"
            " WHERE dataset_id = 'autosklearn:twonorm' AND metric = 'predictive_accuracy'"
            " ORDER BY value"
        )
        _, sources = kb.query("SELECT files FROM sources WHERE name = 'autosklearn'")
    assert first.per_source == again.per_source
    assert first.per_source["autosklearn"] == {
        "datasets": 319,
        "qualities": 11_137,
        "tasks": 2_906,
        "pipelines": 1_472,
        "evaluations": 4_450,
    }
    assert first.runnable_pipelines == 1_472
    # twonorm: the dense folder's best (cost 0.015561016) and the sparse folder's best
    assert rows == [(0.982391482, 1, "624c078ea637"), (0.984438984, 1, "b9e2f2f70ebb")]
    assert "auto-sklearn-0.15.0.tar.gz" in sources[0][0] and "lcdb/datasets.csv.gz" in sources[0][0]


def test_dataset_keys_openml_matches_and_task_types() -> None:
    records = list(AutoSklearnSource().records())
    datasets = {(r.origin_key, r.dataset_id) for r in records if isinstance(r, DatasetRecord)}
    assert ("letter", "openml:6") in datasets  # not 977, LCDB's binarised 'letter'
    assert ("bioresponse", "openml:4134") in datasets  # LCDB spells it 'Bioresponse'
    assert ("2dplanes", "openml:727") in datasets  # the binarised classification version
    assert ("2dplanes", "autosklearn:regression/2dplanes") in datasets
    assert ("steel-plates-fault", "autosklearn:steel-plates-fault") in datasets
    assert sum(1 for _, key in datasets if key.startswith("openml:")) == 88
    tasks = {r.task_id: r for r in records if isinstance(r, TaskRecord)}
    assert tasks["autosklearn:predictive_accuracy:openml:6"].task_type == "multiclass"
    assert tasks["autosklearn:r2:autosklearn:regression/2dplanes"].task_type == "regression"
    assert tasks["autosklearn:f_measure:openml:727"].task_type == "binary"
    evaluations = [r for r in records if isinstance(r, EvaluationRecord)]
    # two OpenML datasets are called steel-plates-fault: their runs cannot be told apart
    assert not [e for e in evaluations if e.dataset_id == "autosklearn:steel-plates-fault"]
    assert {e.metric for e in evaluations if not e.higher_is_better} >= {
        "log_loss",
        "root_mean_squared_error",
        "mean_absolute_error",
        "autosklearn_recall_macro_loss",
    }
    pipelines = [r for r in records if isinstance(r, PipelineRecord)]
    assert {p.task_type for p in pipelines} == {"classification", "regression"}


def _lcdb_table() -> list[OpenMLMatch]:
    with gzip.open(LCDB_DATASETS, "rt", newline="") as handle:
        return [
            OpenMLMatch(
                int(r["openmlid"]),
                r["Name"],
                float(r["NumberOfInstances"]),
                float(r["NumberOfClasses"]),
            )
            for r in csv.DictReader(handle)
        ]


@pytest.mark.parametrize(
    ("name", "n_instances", "n_classes", "expected"),
    [
        ("letter", 13_400, 26, 6),  # 977 is LCDB's binary 'letter'
        ("pendigits", 7_365, 10, 32),
        ("abalone", 2_799, 23, 183),  # classes missing from the training split are fine
        ("bioresponse", 2_514, 2, 4134),  # case-insensitive
        ("steel-plates-fault", 1_301, 2, None),  # LCDB's is the 7-class dataset
        ("letter", 20_000 * 3, 26, None),  # three times the instances: a different dataset
        ("no-such-dataset", 100, 2, None),
    ],
)
def test_match_openml_id(
    name: str, n_instances: float, n_classes: float, expected: int | None
) -> None:
    match = match_openml_id(name, n_instances, n_classes, _lcdb_table())
    assert (match.openml_id if match else None) == expected


def test_match_openml_id_prefers_the_exact_spelling_among_consistent_rows() -> None:
    table = [OpenMLMatch(1, "Iris", 150, 3), OpenMLMatch(2, "iris", 150, 3)]
    assert match_openml_id("iris", 100, 3, table) == table[1]
    assert match_openml_id("IRIS", 100, 3, table) is None  # two rows, neither spelled so


@pytest.mark.parametrize(
    ("metric", "cost", "binary", "expected"),
    [
        ("accuracy", 0.25, True, ("predictive_accuracy", 0.75, True)),
        ("f1_micro", 0.25, False, ("predictive_accuracy", 0.75, True)),
        ("balanced_accuracy", 0.1, False, ("balanced_accuracy", 0.9, True)),
        ("roc_auc", 0.05, True, ("area_under_roc_curve", 0.95, True)),
        ("roc_auc", 0.05, False, ("autosklearn_roc_auc_loss", 0.05, False)),
        ("f1", 0.2, True, ("f_measure", 0.8, True)),
        ("f1_macro", 0.2, False, ("f_measure", 0.8, True)),
        ("f1_macro", 0.2, True, ("autosklearn_f1_macro_loss", 0.2, False)),
        ("log_loss", 0.3, True, ("log_loss", 0.3, False)),
        ("mean_squared_error", 4.0, None, ("root_mean_squared_error", 2.0, False)),
        ("root_mean_squared_error", 2.0, None, ("root_mean_squared_error", 2.0, False)),
        ("mean_absolute_error", 1.5, None, ("mean_absolute_error", 1.5, False)),
        ("r2", 0.4, None, ("r2", 0.6, True)),
        (
            "median_absolute_error",
            1.0,
            None,
            ("autosklearn_median_absolute_error_loss", 1.0, False),
        ),
    ],
)
def test_convert_cost(
    metric: str, cost: float, binary: bool | None, expected: tuple[str, float, bool]
) -> None:
    name, value, higher = convert_cost(metric, cost, binary=binary)
    assert (name, higher) == (expected[0], expected[2])
    assert math.isclose(value, expected[1])


# -- bad files -------------------------------------------------------------------------------


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "corpora" / "autosklearn"
    shutil.copytree(SNAPSHOT, folder)
    lcdb = tmp_path / "corpora" / "lcdb"
    lcdb.mkdir()
    shutil.copy(LCDB_DATASETS, lcdb / "datasets.csv.gz")
    return folder, lcdb / "datasets.csv.gz"


def test_missing_snapshot_file_is_a_clear_error(tmp_path: Path) -> None:
    folder, _ = _copy(tmp_path)
    (folder / "runs.csv.gz").unlink()
    with pytest.raises(CorpusError, match=r"runs\.csv\.gz is missing.*corpora fetch"):
        AutoSklearnSource(folder).info()
    with pytest.raises(CorpusError, match=r"runs\.csv\.gz is missing.*corpora fetch"):
        next(AutoSklearnSource(folder).records())


def test_corrupt_snapshot_files_are_clear_errors(tmp_path: Path) -> None:
    folder, _ = _copy(tmp_path)
    (folder / "configurations.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(CorpusError, match=r"configurations\.csv\.gz is corrupt"):
        next(AutoSklearnSource(folder).records())
    (folder / "configurations.csv.gz").write_bytes(gzip.compress(b"config_id,something\nx,y\n"))
    with pytest.raises(CorpusError, match=r"configurations\.csv\.gz is empty or lacks columns"):
        next(AutoSklearnSource(folder).records())


def test_missing_lcdb_table_is_a_clear_error(tmp_path: Path) -> None:
    folder, lcdb = _copy(tmp_path)
    lcdb.unlink()
    with pytest.raises(CorpusError, match=r"lcdb/datasets\.csv\.gz is missing"):
        next(AutoSklearnSource(folder).records())


def test_a_cost_that_is_not_a_number_is_a_clear_error(tmp_path: Path) -> None:
    folder, _ = _copy(tmp_path)
    text = gzip.decompress((folder / "runs.csv.gz").read_bytes()).decode()
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[6] = "lots"  # the cost column
    lines[1] = ",".join(cells)
    (folder / "runs.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(CorpusError, match=r"'lots' in .*runs\.csv\.gz is not a number"):
        next(AutoSklearnSource(folder).records())
