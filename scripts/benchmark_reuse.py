"""Benchmark: a scripted session of 20 edits, with no reuse, scikit-learn's Pipeline(memory=…)
and mile-meta's reuse store; plus the no-reuse overhead and what the search gains.

    python scripts/benchmark_reuse.py session [--datasets credit-g phoneme] [--cv 5]
    python scripts/benchmark_reuse.py search [--dataset credit-g] [--budget 20]

``session``: the 20 edits of ``EDITS`` (hyperparameter tweaks, estimator swaps, preprocessing
changes, another metric, going back to an earlier version), each a 5-fold cross-validation on
real data from ``../shared/benchmarks/``, run three ways and timed cumulatively:

* ``none`` — ``evaluate_pipeline`` without a store: every fold fitted afresh;
* ``Pipeline(memory)`` — the same folds through ``build_pipeline(spec)`` with
  ``memory=joblib.Memory(tmp)``: scikit-learn caches each fitted transformer;
* ``mile-meta`` — ``evaluate_pipeline(cache=ReuseStore(tmp, max_disk_bytes=LIMIT))``.

Then ``overhead``: the same 20 specs with a new seed each (new folds: nothing can be reused),
without and with the store. Every way's fold scores are checked equal to ``none``'s.

``search``: ``autopilot`` with a fixed budget three times in fresh processes — reuse off
(``MILE_META_NO_CACHE=1``), reuse on with an empty store, and reuse on again (the store the
previous run left) — and prints the evaluations each completed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DISK_LIMIT = 256 << 20

_TREE = {"categorical_encoding": "ordinal", "numeric_imputation": "median", "scaling": "none"}
_LINEAR = {"categorical_encoding": "onehot", "numeric_imputation": "median", "scaling": "standard"}
# (estimator, params, preprocessing, metric, what the edit is)
EDITS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    ("RandomForestClassifier", {"n_estimators": 100}, _TREE, "balanced_accuracy", "first try"),
    ("RandomForestClassifier", {"n_estimators": 200}, _TREE, "balanced_accuracy", "more trees"),
    (
        "RandomForestClassifier",
        {"n_estimators": 200, "max_features": 0.3},
        _TREE,
        "balanced_accuracy",
        "tweak",
    ),
    (
        "RandomForestClassifier",
        {"n_estimators": 200, "max_features": 0.3},
        _TREE,
        "area_under_roc_curve",
        "other metric",
    ),
    ("LGBMClassifier", {"n_jobs": 1}, _TREE, "area_under_roc_curve", "estimator swap"),
    (
        "LGBMClassifier",
        {"n_jobs": 1, "n_estimators": 300},
        _TREE,
        "area_under_roc_curve",
        "more trees",
    ),
    (
        "LGBMClassifier",
        {"n_jobs": 1, "n_estimators": 300, "learning_rate": 0.05},
        _TREE,
        "area_under_roc_curve",
        "tweak",
    ),
    (
        "LGBMClassifier",
        {"n_jobs": 1, "n_estimators": 150, "learning_rate": 0.05},
        _TREE,
        "area_under_roc_curve",
        "fewer trees",
    ),
    ("LogisticRegression", {"max_iter": 500}, _LINEAR, "area_under_roc_curve", "estimator swap"),
    ("LogisticRegression", {"max_iter": 500, "C": 0.1}, _LINEAR, "area_under_roc_curve", "tweak"),
    (
        "LogisticRegression",
        {"max_iter": 500, "C": 0.1},
        {**_LINEAR, "scaling": "robust"},
        "area_under_roc_curve",
        "other scaler",
    ),
    (
        "LogisticRegression",
        {"max_iter": 500, "C": 0.1},
        {**_LINEAR, "numeric_imputation": "mean"},
        "area_under_roc_curve",
        "other imputation",
    ),
    (
        "RandomForestClassifier",
        {"n_estimators": 200, "max_features": 0.3},
        _TREE,
        "area_under_roc_curve",
        "go back",
    ),
    (
        "ExtraTreesClassifier",
        {"n_estimators": 200},
        _TREE,
        "area_under_roc_curve",
        "estimator swap",
    ),
    ("ExtraTreesClassifier", {"n_estimators": 400}, _TREE, "area_under_roc_curve", "more trees"),
    ("ExtraTreesClassifier", {"n_estimators": 400}, _TREE, "balanced_accuracy", "other metric"),
    (
        "GradientBoostingClassifier",
        {"n_estimators": 100},
        _TREE,
        "balanced_accuracy",
        "estimator swap",
    ),
    (
        "GradientBoostingClassifier",
        {"n_estimators": 200},
        _TREE,
        "balanced_accuracy",
        "more stages",
    ),
    ("LGBMClassifier", {"n_jobs": 1}, _TREE, "area_under_roc_curve", "go back"),
    ("LogisticRegression", {"max_iter": 500, "C": 0.1}, _LINEAR, "area_under_roc_curve", "go back"),
]


def _specs() -> list[tuple[Any, str, str]]:
    from mile_meta.pipelines import Step, make_spec

    return [
        (make_spec(est, params, preprocessing=Step.of("TabularPreprocessor", **prep)), metric, note)
        for est, params, prep, metric, note in EDITS
    ]


def _load(name: str) -> Any:
    import benchmark_datasets
    from benchmark_datasets import load_benchmark

    if not (benchmark_datasets.SHARED / "datasets.csv").exists():  # a worktree one level deeper
        for parent in HERE.parents:
            if (parent / "shared" / "benchmarks" / "datasets.csv").exists():
                benchmark_datasets.SHARED = parent / "shared" / "benchmarks"
                break

    from mile_meta.data import dataset_from_frame

    data = load_benchmark(name)
    return dataset_from_frame(data.frame, data.target, name=data.name)


class _Clock:
    """Wall and CPU seconds since creation. On a shared machine the wall time follows the
    load; the CPU time of this process (all its threads) is the steadier measure."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _run_none(dataset: Any, specs: list[Any], cv: int, seeds: list[int]) -> tuple[float, list[Any]]:
    from mile_meta.evaluate import evaluate_pipeline

    clock, scores = _Clock(), []
    for (spec, metric, _), seed in zip(specs, seeds, strict=True):
        scores.append(evaluate_pipeline(spec, dataset, metric=metric, cv=cv, seed=seed).fold_scores)
    return clock.read(), scores


def _run_ours(
    dataset: Any, specs: list[Any], cv: int, seeds: list[int], folder: Path
) -> tuple[float, list[Any], list[str]]:
    from mile_meta.evaluate import evaluate_pipeline
    from mile_meta.reuse import ReuseStore

    clock, scores, notes = _Clock(), [], []
    store = ReuseStore(folder, max_disk_bytes=DISK_LIMIT)
    for (spec, metric, _), seed in zip(specs, seeds, strict=True):
        before = time.perf_counter()
        result = evaluate_pipeline(spec, dataset, metric=metric, cv=cv, seed=seed, cache=store)
        scores.append(result.fold_scores)
        notes.append(
            f"{time.perf_counter() - before:.2f} s (stages {result.reused_stages}, "
            f"resized {result.resized_fits}, answered {result.reused_folds})"
        )
    store.close()
    return clock.read(), scores, notes


def _run_pipeline_memory(
    dataset: Any, specs: list[Any], cv: int, seeds: list[int], folder: Path
) -> tuple[float, list[Any]]:
    import joblib

    from mile_meta.evaluate import _splits, score_predictions
    from mile_meta.metrics import resolve_metric
    from mile_meta.pipelines import build_pipeline

    memory = joblib.Memory(str(folder), verbose=0)
    X, y = dataset.frame, dataset.target
    clock, scores = _Clock(), []
    for (spec, metric, _), seed in zip(specs, seeds, strict=True):
        chosen = resolve_metric(metric)
        fold_scores = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for train, test in _splits(dataset, cv, seed):
                pipeline = build_pipeline(spec, random_state=seed)
                pipeline.set_params(memory=memory)
                pipeline.fit(X.iloc[train], y.iloc[train])
                fold_scores.append(score_predictions(chosen, pipeline, X.iloc[test], y.iloc[test]))
        scores.append(tuple(fold_scores))
    return clock.read(), scores


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def session(args: argparse.Namespace) -> None:
    specs = _specs()
    print(f"load before: {os.getloadavg()[0]:.1f} (1-min average)")
    rows = []
    for name in args.datasets:
        dataset = _load(name)
        same = [0] * len(specs)
        with tempfile.TemporaryDirectory() as tmp:
            none, reference = _run_none(dataset, specs, args.cv, same)
            piped, piped_scores = _run_pipeline_memory(
                dataset, specs, args.cv, same, Path(tmp) / "joblib"
            )
            ours, our_scores, notes = _run_ours(dataset, specs, args.cv, same, Path(tmp) / "store")
            disk = _folder_bytes(Path(tmp) / "store")
            assert our_scores == reference, "reused scores differ from fresh ones"
            assert piped_scores == reference, "Pipeline(memory) scores differ from fresh ones"
            fresh_seeds = list(range(100, 100 + len(specs)))
            cold, _ = _run_none(dataset, specs, args.cv, fresh_seeds)
            shutil.rmtree(Path(tmp) / "store")
            cold_ours, _, _ = _run_ours(dataset, specs, args.cv, fresh_seeds, Path(tmp) / "store")
        rows.append((name, dataset.frame.shape, none, piped, ours, disk, cold, cold_ours))
        print(f"{name} done: {rows[-1]}", flush=True)
        for (spec, metric, note), text in zip(specs, notes, strict=True):
            print(f"  {name}: {note:<16} {spec.describe()[:48]:<48} {metric:<22} {text}")
    print(f"load after: {os.getloadavg()[0]:.1f}")
    print(f"\n20 edits x {args.cv}-fold CV per dataset; cumulative seconds, CPU (wall)\n")
    print(
        "| dataset | rows x cols | no reuse | Pipeline(memory) | mile-meta | vs none | "
        "vs Pipeline(memory) | store on disk | nothing reusable: none → mile-meta |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")

    def cell(pair: tuple[float, float]) -> str:
        return f"{pair[1]:.1f} ({pair[0]:.1f})"

    for name, shape, none, piped, ours, disk, cold, cold_ours in rows:
        print(
            f"| {name} | {shape[0]} x {shape[1]} | {cell(none)} | {cell(piped)} | {cell(ours)} | "
            f"{none[1] / ours[1]:.1f}x ({none[0] / ours[0]:.1f}x) | "
            f"{piped[1] / ours[1]:.1f}x ({piped[0] / ours[0]:.1f}x) | "
            f"{disk / 1e6:.1f} MB (limit {DISK_LIMIT / 1e6:.0f}) | "
            f"{cell(cold)} → {cell(cold_ours)}: {cold_ours[1] / cold[1] - 1:+.0%} "
            f"({cold_ours[0] / cold[0] - 1:+.0%}) |"
        )
    sums = [tuple(sum(r[i][k] for r in rows) for k in (0, 1)) for i in (2, 3, 4, 6, 7)]
    none, piped, ours, cold, cold_ours = sums
    print(
        f"| all | | {cell(none)} | {cell(piped)} | {cell(ours)} | "
        f"{none[1] / ours[1]:.1f}x ({none[0] / ours[0]:.1f}x) | "
        f"{piped[1] / ours[1]:.1f}x ({piped[0] / ours[0]:.1f}x) | | "
        f"{cold_ours[1] / cold[1] - 1:+.0%} ({cold_ours[0] / cold[0] - 1:+.0%}) |"
    )


_SEARCH_CHILD = """
import json, sys
sys.path.insert(0, {here!r})
from benchmark_reuse import _load
from mile_meta.search import autopilot
result = autopilot(_load({name!r}), budget={budget}, record=False, seed=0)
evaluations = result.evaluations
print(json.dumps({{
    "evaluations": sum(1 for e in evaluations if e.ok),
    "full_data": sum(1 for e in evaluations if e.ok and e.fidelity.fraction >= 1.0),
    "cached_folds": sum(e.cached_folds for e in evaluations),
    "best": None if result.best is None else round(result.best.score, 4),
}}))
"""


def search(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load before: {os.getloadavg()[0]:.1f}")
        print(f"\nautopilot on {args.dataset}, budget {args.budget} s, seed 0\n")
        print(
            "| reuse | evaluations (ok) | on all rows | folds with reused preprocessing "
            "| best score | CPU s |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for label, off in (
            ("off", True),
            ("on, empty store", False),
            ("on, store of the run before", False),
        ):
            env = {**os.environ, "MILE_META_CACHE": str(Path(tmp) / "cache")}
            if off:
                env["MILE_META_NO_CACHE"] = "1"
            code = _SEARCH_CHILD.format(here=str(HERE), name=args.dataset, budget=args.budget)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            output = (
                subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            payload = json.loads(output)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # the search process and its (reaped) workers: CPU seconds actually given to it
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            print(
                f"| {label} | {payload['evaluations']} | {payload['full_data']} | "
                f"{payload['cached_folds']} | {payload['best']} | {cpu:.0f} |"
            )
        print(f"load after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("session")
    one.add_argument("--datasets", nargs="+", default=["credit-g", "phoneme"])
    one.add_argument("--cv", type=int, default=5)
    two = sub.add_parser("search")
    two.add_argument("--dataset", default="credit-g")
    two.add_argument("--budget", type=float, default=20.0)
    args = parser.parse_args()
    {"session": session, "search": search}[args.command](args)


if __name__ == "__main__":
    main()
