"""Real-data check of ``recommend``: does following it beat a default HistGradientBoosting?

    python scripts/check_recommend_real_data.py [--kb PATH] [--jobs 2] [--only NAME ...]
                                                [--markdown out.md] [--json out.json]

For every classification and regression dataset of ``../shared/benchmarks/datasets.csv``:
hide the dataset from the knowledge base by its id (``openml:<id>`` where the list knows the
OpenML id, else the ``defaults:<name>`` key the defaults corpus gives it), ``recommend`` from
its real data, then cross-validate the top 5 and a default HistGradientBoosting with the
defaults corpus' protocol (at most 1,500 rows, stratified subsample, 5-fold CV, seed 0;
``scripts/build_defaults_corpus.py``). Prints per dataset and on average, per task:

* the score of the top-1 and the best of the top 5 against the default HGB (classification:
  balanced accuracy; regression: R², the scale-free measure — RMSE in each target's unit
  cannot be averaged across datasets);
* the coverage of the interval ``recommend`` printed for each of the top 5 (nominal 80 %:
  10-90 %), i.e. how often the cross-validated score fell inside it (regression: the RMSE
  interval against the measured RMSE).

Scores of pipelines the defaults corpus already measured on the same rows (the default HGB
itself, and any default pipeline in the top 5) are read from its cache (``--work``) instead
of being refitted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_defaults_corpus as corpus

FOLDS = 5


def _cv(spec, X, y, task: str, splits) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from mile_meta.evaluate import score_predictions
    from mile_meta.metrics import resolve_metric
    from mile_meta.pipelines import build_pipeline

    metrics = ("r2", "root_mean_squared_error") if task == "regression" else ("balanced_accuracy",)
    template = build_pipeline(spec, random_state=0)
    scores: dict[str, list[float]] = {m: [] for m in metrics}
    for train, test in splits:
        model = clone(template)
        with threadpool_limits(1):
            model.fit(X.iloc[train], y.iloc[train])
            for metric in metrics:
                scores[metric].append(
                    score_predictions(resolve_metric(metric), model, X.iloc[test], y.iloc[test])
                )
    return {m: float(np.mean(v)) for m, v in scores.items()}


def check_dataset(name: str, kb_path: str | None, work: str) -> dict[str, object]:
    warnings.simplefilter("ignore")
    from sklearn.model_selection import KFold, StratifiedKFold

    from mile_meta.data import dataset_from_frame
    from mile_meta.kb import KnowledgeBase
    from mile_meta.pipelines import PipelineSpec, make_spec
    from mile_meta.recommend import recommend

    started = time.perf_counter()
    entry = next(e for e in corpus._dataset_list() if e["name"] == name)
    frame, target, task = corpus._load(entry)
    leaks = corpus._leaks(frame, target) if task == "regression" else []
    frame = corpus._subsample(frame.drop(columns=leaks), target, task, corpus.MAX_ROWS)
    dataset = dataset_from_frame(frame, target, task_type=task, name=name)
    key = f"openml:{entry['openml_id']}" if entry["openml_id"] else f"defaults:{name}"
    regression = dataset.task_type == "regression"
    metric = "root_mean_squared_error" if regression else "balanced_accuracy"
    with KnowledgeBase.open(kb_path, must_exist=True) as kb:
        report = recommend(dataset, kb=kb, top=5, exclude_datasets=[key], metric=metric)
    X, y = dataset.frame, dataset.target
    splitter = (
        KFold(FOLDS, shuffle=True, random_state=0)
        if regression
        else StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    )
    splits = list(splitter.split(X, y))
    cached: dict[str, dict[str, float]] = {}
    cache_file = Path(work) / f"{name}.json"
    if cache_file.exists():
        for run in json.loads(cache_file.read_text())["runs"]:
            if not run["error"]:
                cached[run["pipeline_id"]] = {
                    m: float(np.mean(v)) for m, v in run["scores"].items()
                }
    hgb = make_spec(
        "HistGradientBoostingRegressor" if regression else "HistGradientBoostingClassifier"
    )
    main = "r2" if regression else "balanced_accuracy"

    def score(spec: PipelineSpec) -> dict[str, float] | None:
        if spec.pipeline_id in cached:
            return cached[spec.pipeline_id]
        try:
            cached[spec.pipeline_id] = _cv(spec, X, y, dataset.task_type, splits)
        except Exception as error:
            print(f"{name}: {spec.describe()} failed: {error}", file=sys.stderr)
            return None
        return cached[spec.pipeline_id]

    top = []
    for recommendation in report.recommendations:
        measured = score(recommendation.spec)
        value = None if measured is None else measured[main]
        in_unit = None if measured is None else measured[metric]
        top.append(
            {
                "pipeline": recommendation.spec.describe(),
                "family": recommendation.family,
                "score": value,
                "predicted": recommendation.predicted_score,
                "interval": [recommendation.lower, recommendation.upper],
                "covered": None
                if in_unit is None
                else bool(recommendation.lower <= in_unit <= recommendation.upper),
            }
        )
    baseline = score(hgb)
    scores = [t["score"] for t in top if t["score"] is not None]
    return {
        "name": name,
        "task": dataset.task_type,
        "key": key,
        "rows": len(frame),
        "measure": main,
        "top1": top[0]["score"] if top else None,
        "best5": max(scores) if scores else None,
        "hgb": None if baseline is None else baseline[main],
        "top": top,
        "warnings": list(report.warnings),
        "seconds": time.perf_counter() - started,
    }


def _fmt(value: object) -> str:
    return "—" if value is None else f"{value:.3f}"  # type: ignore[str-format]


def tables(results: list[dict[str, object]]) -> str:
    lines = []
    for kind, tasks in (
        ("classification", ("binary", "multiclass")),
        ("regression", ("regression",)),
    ):
        rows = [r for r in results if r["task"] in tasks]
        if not rows:
            continue
        measure = rows[0]["measure"]
        lines += [
            f"#### {kind}: {len(rows)} datasets, {measure} (5-fold CV, ≤ 1,500 rows)",
            "",
            "| dataset | held out as | top-1 family | top-1 | best of top 5 | default HGB |"
            " top-1 − HGB | top-5 intervals covering |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(rows, key=lambda r: str(r["name"])):
            top = r["top"]  # type: ignore[assignment]
            covered = [t["covered"] for t in top if t["covered"] is not None]  # type: ignore[union-attr]
            delta = (
                None if r["top1"] is None or r["hgb"] is None else r["top1"] - r["hgb"]  # type: ignore[operator]
            )
            lines.append(
                f"| {r['name']} | {r['key']} | {top[0]['family'] if top else '—'} | "  # type: ignore[index]
                f"{_fmt(r['top1'])} | {_fmt(r['best5'])} | {_fmt(r['hgb'])} | "
                f"{'—' if delta is None else f'{delta:+.3f}'} | {sum(covered)}/{len(covered)} |"
            )
        complete = [r for r in rows if None not in (r["top1"], r["best5"], r["hgb"])]
        top1 = np.array([r["top1"] for r in complete], dtype=float)
        best5 = np.array([r["best5"] for r in complete], dtype=float)
        hgb = np.array([r["hgb"] for r in complete], dtype=float)
        covered = [
            t["covered"]
            for r in rows
            for t in r["top"]  # type: ignore[attr-defined]
            if t["covered"] is not None
        ]
        lines += [
            f"| **mean ({len(complete)})** | | | **{top1.mean():.4f}** | **{best5.mean():.4f}** |"
            f" **{hgb.mean():.4f}** | {top1.mean() - hgb.mean():+.4f} |"
            f" {np.mean(covered):.0%} of {len(covered)} |",
            "",
            f"top-1 beats or ties the default HGB on {int(np.sum(top1 >= hgb))} of {len(complete)}, "
            f"best of top 5 on {int(np.sum(best5 >= hgb))} of {len(complete)}; "
            f"interval coverage {np.mean(covered):.1%} (nominal 80 %).",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--work", default="/tmp/mile-meta-defaults-corpus")
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from benchmark_datasets import benchmark_names

    names = [n for n in benchmark_names() if args.only is None or n in args.only]
    if args.only is not None:  # in the order given (the slow ones last, for instance)
        names.sort(key=args.only.index)
    print(f"{len(names)} datasets; load {os.getloadavg()}", flush=True)
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(check_dataset, n, args.kb, args.work): n for n in names}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as error:
                print(f"{futures[future]}: FAILED {type(error).__name__}: {error}", flush=True)
                continue
            results.append(result)
            if args.json:  # after each dataset: an interrupted run keeps what it measured
                Path(args.json).write_text(json.dumps(results, indent=1))
            print(
                f"{result['name']}: top-1 {_fmt(result['top1'])} best-5 {_fmt(result['best5'])}"
                f" HGB {_fmt(result['hgb'])} ({result['seconds']:.0f} s)",
                flush=True,
            )
    text = tables(results) + f"\nload average at the end: {os.getloadavg()}\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
