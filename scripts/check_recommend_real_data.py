"""Real-data check of recommend: datasets whose OpenML id is in the Oboe matrix.

    python scripts/check_recommend_real_data.py [--kb PATH] [--cv 3] [--markdown out.md]

For each dataset of ../shared/benchmarks/datasets.csv whose OpenML id is one of Oboe's
(credit-g 31, phoneme 1489, spambase 44, tic-tac-toe 50, cmc 23, optdigits 28, segment 36,
splice 46, pc1 1068): recommend from its real data with that id excluded from the knowledge
base, then report
- the normalized regret of the best of the top-1 / top-5 on Oboe's own row for that dataset
  ((BER − row min) / (row max − row min), the benchmark's measure), and
- the balanced accuracy (cross-validated on the real data) of each of the top 5 when fitted.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from benchmark_datasets import load_benchmark

from mile_meta.data import dataset_from_frame
from mile_meta.evaluate import FoldCache, evaluate_pipeline
from mile_meta.kb import KnowledgeBase
from mile_meta.recommend import recommend

DATASETS = [
    "credit-g",
    "phoneme",
    "spambase",
    "tic-tac-toe",
    "cmc",
    "optdigits",
    "segment",
    "splice",
    "pc1",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", default=None)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    kb = KnowledgeBase.open(args.kb, must_exist=True)
    lines = [
        f"| dataset | OpenML id | regret top-1 | regret top-5 | top-5 families | CV balanced accuracy of top 5 ({args.cv}-fold) | best of top 5 | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    regrets1, regrets5 = [], []
    for name in DATASETS:
        data = load_benchmark(name)
        started = time.perf_counter()
        dataset = dataset_from_frame(data.frame, data.target, name=name)
        report = recommend(
            dataset, kb=kb, top=5, exclude_datasets=[data.openml_id], metric="balanced_accuracy"
        )
        row = dict(
            kb.db.execute(
                "SELECT pipeline_id, value FROM evaluations WHERE dataset_id = ? AND metric = 'balanced_error_rate'",
                [f"openml:{data.openml_id}"],
            ).fetchall()
        )
        low, high = min(row.values()), max(row.values())

        def regret(k: int) -> float:
            chosen = [
                row[r.pipeline_id] for r in report.recommendations[:k] if r.pipeline_id in row
            ]
            return (min(chosen) - low) / (high - low) if chosen and high > low else float("nan")

        regrets1.append(regret(1))
        regrets5.append(regret(5))
        cache = FoldCache()
        scores = []
        for recommendation in report.recommendations:
            try:
                result = evaluate_pipeline(
                    recommendation.spec,
                    dataset,
                    metric="balanced_accuracy",
                    cv=args.cv,
                    cache=cache,
                )
                scores.append(result.mean)
            except Exception as error:  # report, don't stop
                print(f"{name}: {recommendation.spec.describe()} failed: {error}")
                scores.append(float("nan"))
        seconds = time.perf_counter() - started
        families = ", ".join(r.family for r in report.recommendations)
        line = (
            f"| {name} | {data.openml_id} | {regrets1[-1]:.3f} | {regrets5[-1]:.3f} | {families} | "
            f"{' / '.join(f'{s:.3f}' for s in scores)} | {np.nanmax(scores):.3f} | {seconds:.0f} |"
        )
        print(line, flush=True)
        lines.append(line)
    lines.append(
        f"| **mean** | | {np.nanmean(regrets1):.3f} | {np.nanmean(regrets5):.3f} | | | | |"
    )
    print(lines[-1])
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
