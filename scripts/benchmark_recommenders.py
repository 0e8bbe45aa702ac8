"""Leave-one-dataset-out benchmark of the meta-learners on the Oboe and LCDB matrices.

Each dataset is held out in turn: the learner is fitted on every other dataset and asked to
rank the pipelines from the held-out dataset's own meta-features (zero-shot), then again
after each evaluation it asks for (adaptive mode: with a budget of k evaluations, the
learner picks k pipelines one at a time, seeing the held-out scores of those it picked).

Measures, per held-out dataset, with regret = (best − score) / (best − worst) over the
pipelines evaluated on it (0 = its best pipeline, 1 = its worst):

* regret of the best of the top k, k = 1, 3, 5, 10, 25 (zero-shot), mean and median;
* regret of the best of k evaluations in adaptive mode (probes included);
* rank on the dataset of the first recommendation (1 = its best pipeline);
* the same top-k regrets in the order ``mile-meta recommend`` prints (sorted by predicted
  score: the "by predicted score" rows);
* coverage of the printed 10-90 % interval (nominal 80 %): the share of the held-out
  dataset's pipelines whose true score lies inside the interval predicted for it, over all
  its pipelines and for the first recommendation;
* fit time and time per recommendation.

Usage:

    python scripts/benchmark_recommenders.py --corpus oboe --out docs/benchmarks/oboe.json
    python scripts/benchmark_recommenders.py --corpus lcdb --learners GreedyPortfolio,AverageRank
    python scripts/benchmark_recommenders.py --corpus oboe --max-datasets 60   # quick look

The knowledge base defaults to a fresh build of the offline Oboe + LCDB snapshot in a
temporary folder (~15 s); pass --kb to reuse one.
"""

from __future__ import annotations

import os

# Small matrices: one BLAS thread per process, and processes for the parallelism.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

KS = (1, 3, 5, 10, 25)

CORPORA = {
    # corpus -> (metric, sources of evaluations)
    "oboe": ("balanced_error_rate", ("oboe",)),
    "lcdb": ("predictive_accuracy", ("lcdb",)),
    # regression, on the scale-free measure the recommender ranks it by
    "regression": ("r2", ("autosklearn", "defaults")),
    # classification with the default pipelines next to Oboe's
    "oboe+defaults": ("balanced_accuracy", ("defaults", "oboe")),
}
# a held-out dataset needs this many evaluated pipelines to say anything about a ranking
MIN_PIPELINES_HELD_OUT = 3


def make_learners(names: list[str]) -> dict[str, object]:
    from mile_meta import metalearners as ml

    factories = {
        "AverageRank": lambda: ml.AverageRank(),
        "GreedyPortfolio": lambda: ml.GreedyPortfolio(similarity_bandwidth=None),
        "GreedyPortfolio(similar)": lambda: ml.GreedyPortfolio(),
        "NearestDatasets": lambda: ml.NearestDatasets(),
        "CollaborativeFiltering": lambda: ml.CollaborativeFiltering(),
        "PerformanceModel": lambda: ml.PerformanceModel(),
    }
    factories["Ensemble"] = lambda: ml.Ensemble()
    unknown = [name for name in names if name not in factories]
    if unknown:
        sys.exit(f"unknown learners {unknown}; choose from {sorted(factories)}")
    return {name: factories[name]() for name in names}


def random_order_regret(regret_row: np.ndarray, k: int) -> float:
    """Expected regret of the best of k pipelines drawn at random without replacement."""
    values = np.sort(regret_row[np.isfinite(regret_row)])
    m = values.size
    k = min(k, m)
    # P(the j-th smallest is the best drawn) = C(m - j, k - 1) / C(m, k), j = 1..m
    probabilities = np.array(
        [math.comb(m - j, k - 1) / math.comb(m, k) for j in range(1, m + 1)], dtype=float
    )
    return float(probabilities @ values)


def evaluate_dataset(view, position: int, learner_specs: dict, budgets: tuple[int, ...]) -> dict:
    from sklearn.base import clone

    from mile_meta.ranking import calibrated_interval

    # the calibration is per ranking metric; Oboe's balanced error rate is ranked as
    # balanced accuracy
    calibration_metric = {"balanced_error_rate": "balanced_accuracy"}.get(view.metric, view.metric)

    dataset_id = view.dataset_ids[position]
    train = view.without([dataset_id])
    meta = {
        name: float(value)
        for name, value in view.meta_features.loc[dataset_id].items()
        if value == value
    }
    true_scores = view.scores[position]  # higher is better
    regret_row = view.normalized_regret[position]
    evaluated = np.isfinite(regret_row)
    index_of = {pid: i for i, pid in enumerate(view.pipeline_ids)}
    metric_sign = 1.0 if view.higher_is_better else -1.0
    ranks_on_dataset = 1 + np.array(
        [np.sum(regret_row[evaluated] < value) for value in regret_row[evaluated]]
    )
    rank_lookup = dict(zip(np.flatnonzero(evaluated), ranks_on_dataset, strict=True))

    out: dict[str, dict] = {}
    for name, spec in learner_specs.items():
        learner = clone(spec)
        started = time.perf_counter()
        learner.fit(train)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ranking = learner.rank(meta)
        rank_seconds = time.perf_counter() - started
        order = [index_of[pid] for pid in ranking.pipeline_ids if evaluated[index_of[pid]]]
        zero_shot = {k: float(regret_row[order[:k]].min()) for k in KS}
        first_rank = int(rank_lookup[order[0]])
        # the order recommend prints, and the coverage of the interval it prints
        oriented = {item.pipeline_id: metric_sign * item.predicted_score for item in ranking}
        by_predicted = sorted(order, key=lambda i: -oriented[view.pipeline_ids[i]])
        zero_shot_predicted = {k: float(regret_row[by_predicted[:k]].min()) for k in KS}
        inside = []
        inside_printed = []  # the first 10, what recommend prints by default
        widths = []
        printed = {}  # the interval recommend prints: calibrated (view orientation)
        first = ranking.pipelines[0]
        for rank, item in enumerate(ranking):
            column = index_of[item.pipeline_id]
            low, high = sorted((metric_sign * item.lower, metric_sign * item.upper))
            printed[item.pipeline_id] = calibrated_interval(
                calibration_metric,
                metric_sign * item.predicted_score,
                low,
                high,
                first_pick=item is first,
            )
            if not evaluated[column]:
                continue
            low, high = printed[item.pipeline_id]
            inside.append(low - 1e-12 <= true_scores[column] <= high + 1e-12)
            if rank < 10:
                inside_printed.append(inside[-1])
            widths.append(high - low)
        first_truth = (
            float(metric_sign * true_scores[index_of[first.pipeline_id]])
            if evaluated[index_of[first.pipeline_id]]
            else None
        )
        first_low, first_high = printed[first.pipeline_id]
        coverage_first = (
            None
            if first_truth is None
            else bool(first_low <= metric_sign * first_truth <= first_high)
        )

        adaptive: dict[int, float] = {}
        adaptive_seconds: list[float] = []
        if budgets:
            if not learner.uses_observed:
                adaptive = {
                    k: zero_shot.get(k, float(regret_row[order[:k]].min())) for k in budgets
                }
            else:
                observed: dict[str, float] = {}
                best = np.inf
                for step in range(1, max(budgets) + 1):
                    started = time.perf_counter()
                    current = learner.rank(meta, observed or None, evidence=0)
                    adaptive_seconds.append(time.perf_counter() - started)
                    choice = next(
                        (
                            item.pipeline_id
                            for item in current.pipelines
                            if not item.observed and evaluated[index_of[item.pipeline_id]]
                        ),
                        None,
                    )
                    if choice is not None:  # else every pipeline run there was tried
                        column = index_of[choice]
                        observed[choice] = float(metric_sign * true_scores[column])
                        best = min(best, float(regret_row[column]))
                    if step in budgets:
                        adaptive[step] = best
        out[name] = {
            "zero_shot": zero_shot,
            "zero_shot_by_predicted": zero_shot_predicted,
            "coverage": float(np.mean(inside)) if inside else None,
            "coverage_printed": float(np.mean(inside_printed)) if inside_printed else None,
            "coverage_first": coverage_first,
            "interval_width": float(np.median(widths)) if widths else None,
            "adaptive": adaptive,
            "first_rank": first_rank,
            "fit_seconds": fit_seconds,
            "rank_seconds": rank_seconds,
            "adaptive_rank_seconds": float(np.mean(adaptive_seconds)) if adaptive_seconds else None,
        }
    out["Random"] = {
        "zero_shot": {k: random_order_regret(regret_row, k) for k in KS},
        "zero_shot_by_predicted": {k: random_order_regret(regret_row, k) for k in KS},
        "coverage": None,
        "coverage_printed": None,
        "coverage_first": None,
        "interval_width": None,
        "adaptive": {k: random_order_regret(regret_row, k) for k in budgets},
        "first_rank": float((evaluated.sum() + 1) / 2),
        "fit_seconds": 0.0,
        "rank_seconds": 0.0,
        "adaptive_rank_seconds": None,
    }
    return {"dataset_id": dataset_id, "results": out}


def _chunk(view, positions, learner_specs, budgets):
    return [evaluate_dataset(view, p, learner_specs, budgets) for p in positions]


def summarize(per_dataset: list[dict], budgets: tuple[int, ...]) -> dict[str, dict]:
    names = list(per_dataset[0]["results"])
    summary = {}
    for name in names:
        rows = [item["results"][name] for item in per_dataset]
        entry: dict = {"zero_shot": {}, "adaptive": {}}
        for k in KS:
            values = np.array([row["zero_shot"][k] for row in rows])
            entry["zero_shot"][k] = {
                "mean": float(values.mean()),
                "median": float(np.median(values)),
            }
        for k in budgets:
            values = np.array([row["adaptive"][k] for row in rows])
            entry["adaptive"][k] = {
                "mean": float(values.mean()),
                "median": float(np.median(values)),
            }
        entry["zero_shot_by_predicted"] = {
            k: {
                "mean": float(np.mean([row["zero_shot_by_predicted"][k] for row in rows])),
                "median": float(np.median([row["zero_shot_by_predicted"][k] for row in rows])),
            }
            for k in KS
        }
        covered = [row["coverage"] for row in rows if row["coverage"] is not None]
        first = [row["coverage_first"] for row in rows if row["coverage_first"] is not None]
        shown = [row["coverage_printed"] for row in rows if row["coverage_printed"] is not None]
        entry["coverage_printed"] = float(np.mean(shown)) if shown else None
        widths = [row["interval_width"] for row in rows if row["interval_width"] is not None]
        entry["coverage"] = float(np.mean(covered)) if covered else None
        entry["coverage_first"] = float(np.mean(first)) if first else None
        entry["median_interval_width"] = float(np.median(widths)) if widths else None
        entry["mean_first_rank"] = float(np.mean([row["first_rank"] for row in rows]))
        entry["mean_fit_seconds"] = float(np.mean([row["fit_seconds"] for row in rows]))
        entry["mean_rank_ms"] = 1000 * float(np.mean([row["rank_seconds"] for row in rows]))
        adaptive_times = [
            row["adaptive_rank_seconds"] for row in rows if row["adaptive_rank_seconds"]
        ]
        entry["mean_adaptive_rank_ms"] = (
            1000 * float(np.mean(adaptive_times)) if adaptive_times else None
        )
        summary[name] = entry
    return summary


def markdown(corpus: str, view, summary: dict, budgets: tuple[int, ...], n_held_out: int) -> str:
    lines = [
        f"### {corpus}: {view.metric}, {n_held_out} held-out datasets × {view.n_pipelines} pipelines "
        f"(density {view.density:.2f})",
        "",
        "Zero-shot: mean (median) normalized regret of the best of the top k; rank of the first "
        "recommendation on the held-out dataset; fit time; time per recommendation.",
        "",
        "| learner | "
        + " | ".join(f"top-{k}" for k in KS)
        + " | mean rank of top-1 | fit s | rank ms |",
        "|---|" + "---|" * (len(KS) + 3),
    ]
    for name, entry in summary.items():
        cells = [
            f"{entry['zero_shot'][k]['mean']:.4f} ({entry['zero_shot'][k]['median']:.3f})"
            for k in KS
        ]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {entry['mean_first_rank']:.1f} | {entry['mean_fit_seconds']:.2f} | {entry['mean_rank_ms']:.1f} |"
        )
    lines += [
        "",
        "Sorted by each pipeline's own predicted score, and the coverage of the printed "
        "10-90 % interval (nominal 80 %) over all of the held-out dataset's pipelines, over "
        "the first 10 of the learner's order (what `recommend` prints) and for its first "
        "recommendation; median interval width in the metric's unit.",
        "",
        "| learner | "
        + " | ".join(f"top-{k}" for k in KS)
        + " | coverage (all) | coverage (first 10) | coverage (top-1) | width |",
        "|---|" + "---|" * (len(KS) + 4),
    ]
    for name, entry in summary.items():
        if entry["coverage"] is None:
            continue
        cells = [
            f"{entry['zero_shot_by_predicted'][k]['mean']:.4f} "
            f"({entry['zero_shot_by_predicted'][k]['median']:.3f})"
            for k in KS
        ]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {entry['coverage']:.3f} | {entry['coverage_printed']:.3f}"
            f" | {entry['coverage_first']:.3f} |"
            f" {entry['median_interval_width']:.4f} |"
        )
    if budgets:
        lines += [
            "",
            "Adaptive: mean (median) normalized regret of the best of k evaluations, probes "
            "included (the learner re-ranks after each one).",
            "",
            "| learner | " + " | ".join(f"{k} eval." for k in budgets) + " | ms per re-rank |",
            "|---|" + "---|" * (len(budgets) + 1),
        ]
        for name, entry in summary.items():
            cells = [
                f"{entry['adaptive'][k]['mean']:.4f} ({entry['adaptive'][k]['median']:.3f})"
                for k in budgets
            ]
            timing = entry["mean_adaptive_rank_ms"]
            lines.append(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {'' if timing is None else f'{timing:.1f}'} |"
            )
    return "\n".join(lines)


def open_kb(path: str | None):
    from mile_meta.kb import KnowledgeBase, build_knowledge_base

    if path:
        return KnowledgeBase.open(path, must_exist=True)
    folder = Path(tempfile.mkdtemp(prefix="mile-meta-bench-"))
    target = folder / "kb.sqlite"
    print(f"building the knowledge base in {target} ...", file=sys.stderr)
    build_knowledge_base(target, ["oboe", "lcdb", "autosklearn", "defaults"])
    return KnowledgeBase.open(target, must_exist=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", help="knowledge base file (default: build one from the snapshot)")
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument(
        "--learners",
        default="AverageRank,GreedyPortfolio,GreedyPortfolio(similar),NearestDatasets,"
        "CollaborativeFiltering,PerformanceModel,Ensemble",
        help="comma-separated learner names",
    )
    parser.add_argument("--budgets", default="1,3,5,10,25", help="adaptive budgets ('' for none)")
    parser.add_argument(
        "--max-datasets",
        type=int,
        default=0,
        help="hold out only every n-th dataset to get about this many",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="write the summary (and per-dataset results) as JSON here")
    args = parser.parse_args()

    from joblib import Parallel, delayed

    from mile_meta.metalearners import KnowledgeBaseView
    from mile_meta.metalearners._default import MIN_DATASETS_PER_PIPELINE

    kb = open_kb(args.kb)
    budgets = tuple(int(b) for b in args.budgets.split(",") if b.strip())
    learner_specs = make_learners(
        [name.strip() for name in args.learners.split(",") if name.strip()]
    )
    corpora = list(CORPORA) if args.corpus == "all" else [args.corpus]
    report: dict = {
        "command": " ".join(sys.argv),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "jobs": args.jobs},
        "corpora": {},
    }
    tables = []
    for corpus in corpora:
        metric, sources = CORPORA[corpus]
        view = KnowledgeBaseView.from_kb(kb, metric, sources=sources)
        view = view.with_pipelines_measured_on(MIN_DATASETS_PER_PIPELINE)
        enough = np.isfinite(view.scores).sum(axis=1) >= MIN_PIPELINES_HELD_OUT
        positions = [p for p in range(view.n_datasets) if enough[p]]
        if args.max_datasets and args.max_datasets < len(positions):
            step = math.ceil(len(positions) / args.max_datasets)
            positions = positions[::step]
        n_chunks = max(1, min(len(positions), args.jobs * 16))
        chunks = [positions[i::n_chunks] for i in range(n_chunks)]
        started = time.perf_counter()
        results = Parallel(n_jobs=args.jobs, verbose=5)(
            delayed(_chunk)(view, chunk, learner_specs, budgets) for chunk in chunks if chunk
        )
        per_dataset = sorted(
            (item for chunk in results for item in chunk), key=lambda r: r["dataset_id"]
        )
        elapsed = time.perf_counter() - started
        summary = summarize(per_dataset, budgets)
        table = markdown(corpus, view, summary, budgets, len(per_dataset))
        print(table + f"\n\n(wall time {elapsed:.0f} s with {args.jobs} processes)\n", flush=True)
        tables.append(table)
        report["corpora"][corpus] = {
            "metric": metric,
            "sources": list(sources),
            "n_held_out": len(per_dataset),
            "n_pipelines": view.n_pipelines,
            "wall_seconds": elapsed,
            "summary": summary,
            "per_dataset": per_dataset,
        }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1, default=float))
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
