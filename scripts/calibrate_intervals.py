"""Calibrate the recommender's 10-90 % intervals on held-out datasets (split conformal).

    python scripts/calibrate_intervals.py --kb KB [--jobs 2]

For every 4th dataset of a ranking metric's matrix (every 2nd for r2: the calibration split), fit the
default learner without it, rank its pipelines and collect, for each pipeline evaluated there,
``(truth − predicted) / (upper − lower)`` (view orientation: higher is better). The 10th and
90th percentiles of that ratio are the offsets that turn the learner's interval into one
that covers 80 % of held-out results: ``[predicted + q10 · width, predicted + q90 · width]``.
Prints the constants for ``mile_meta.ranking.INTERVAL_CALIBRATION``; the LODO benchmark then
measures the calibrated coverage on the other datasets.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from joblib import Parallel, delayed

METRICS = {  # metric -> (sources, hold out every n-th dataset: r2 has few)
    "r2": (("autosklearn", "defaults"), 2),
    "predictive_accuracy": (("defaults", "lcdb"), 4),
    "balanced_accuracy": (("defaults", "oboe"), 4),
}


PRINTED = 10  # recommend prints the first 10 by default: those intervals are calibrated


def _ratios(view, positions, metric):  # type: ignore[no-untyped-def]
    from mile_meta.metalearners import DEFAULT_LEARNERS, GreedyPortfolio

    out = []
    for position in positions:
        dataset_id = view.dataset_ids[position]
        learner = DEFAULT_LEARNERS.get(metric, GreedyPortfolio)().fit(view.without([dataset_id]))
        meta = {k: float(v) for k, v in view.meta_features.loc[dataset_id].items() if v == v}
        ranking = learner.rank(meta, evidence=0)
        sign = 1.0 if view.higher_is_better else -1.0
        index = {pid: i for i, pid in enumerate(view.pipeline_ids)}
        position_of = {item.pipeline_id: rank for rank, item in enumerate(ranking)}
        for item in ranking:
            truth = view.scores[position, index[item.pipeline_id]]
            if not np.isfinite(truth):
                continue
            predicted = sign * item.predicted_score
            low, high = sorted((sign * item.lower, sign * item.upper))
            width = max(high - low, 1e-6)
            out.append(((truth - predicted) / width, position_of[item.pipeline_id]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--metrics", default=",".join(METRICS))
    args = parser.parse_args()
    from mile_meta.kb import KnowledgeBase
    from mile_meta.metalearners import KnowledgeBaseView
    from mile_meta.metalearners._default import MIN_DATASETS_PER_PIPELINE

    with KnowledgeBase.open(args.kb, must_exist=True) as kb:
        for metric, (sources, every) in METRICS.items():
            if metric not in args.metrics.split(","):
                continue
            present = [s for s in sources if s in kb.source_names()]
            view = KnowledgeBaseView.from_kb(kb, metric, sources=present)
            view = view.with_pipelines_measured_on(MIN_DATASETS_PER_PIPELINE)
            enough = np.isfinite(view.scores).sum(axis=1) >= 3
            positions = [p for p in range(view.n_datasets) if enough[p]][::every]
            chunks = [positions[i :: args.jobs * 4] for i in range(args.jobs * 4)]
            parts = Parallel(n_jobs=args.jobs)(
                delayed(_ratios)(view, chunk, metric) for chunk in chunks if chunk
            )
            pairs = [pair for part in parts for pair in part]
            ratios = np.array([r for r, _ in pairs])
            printed = np.array([r for r, rank in pairs if rank < PRINTED])
            first = np.array([r for r, rank in pairs if rank == 0])
            q10, q90 = np.quantile(printed, [0.1, 0.9])
            print(
                f'"{metric}": ({q10:.3f}, {q90:.3f}),  # {len(positions)} held-out datasets, '
                f"the first {PRINTED} of each ranking ({printed.size} results); all "
                f"{ratios.size}: ({np.quantile(ratios, 0.1):.3f}, {np.quantile(ratios, 0.9):.3f})"
                f"; top-1: ({np.quantile(first, 0.1):.3f}, {np.quantile(first, 0.9):.3f}); "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
