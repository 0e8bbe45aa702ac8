"""How much the fold cache saves when pipelines share their preprocessing.

    python scripts/benchmark_fold_cache.py [--dataset cces-trump-vote] [--repeats 3]

Evaluates a set of tree pipelines that share one `TabularPreprocessor` (ordinal encoding, no
scaling) on a real dataset, 5-fold CV, once with a fresh cache per pipeline (every fold
preprocessed again) and once with one shared cache; prints the time of each and the saving.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmark_datasets import load_benchmark

from mile_meta.data import dataset_from_frame
from mile_meta.evaluate import FoldCache, evaluate_pipeline
from mile_meta.pipelines import make_spec

PIPELINES = [
    ("DecisionTreeClassifier", {"max_depth": 8}),
    ("DecisionTreeClassifier", {"max_depth": 4}),
    ("ExtraTreesClassifier", {"n_estimators": 20}),
    ("RandomForestClassifier", {"n_estimators": 20}),
    ("HistGradientBoostingClassifier", {"max_iter": 50}),
]


def run(dataset, shared: bool) -> tuple[float, float]:
    cache = FoldCache()
    started = time.perf_counter()
    preprocessing = 0.0
    for estimator, params in PIPELINES:
        result = evaluate_pipeline(
            make_spec(estimator, params),
            dataset,
            cv=5,
            seed=0,
            cache=cache if shared else FoldCache(),
        )
        preprocessing += result.cached_folds
    return time.perf_counter() - started, preprocessing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="cces-trump-vote")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_benchmark(args.dataset)
    dataset = dataset_from_frame(data.frame, data.target, name=data.name)
    cold = [run(dataset, shared=False)[0] for _ in range(args.repeats)]
    warm_runs = [run(dataset, shared=True) for _ in range(args.repeats)]
    warm = [seconds for seconds, _ in warm_runs]
    reused = warm_runs[0][1]
    print(f"dataset {data.name}: {dataset.frame.shape[0]} rows x {dataset.frame.shape[1]} features")
    print(
        f"{len(PIPELINES)} pipelines x 5 folds, shared preprocessing; median of {args.repeats} runs"
    )
    print("| cache | seconds | folds reused |\n| --- | --- | --- |")
    print(f"| none (each pipeline preprocesses) | {statistics.median(cold):.2f} | 0 |")
    print(f"| shared FoldCache | {statistics.median(warm):.2f} | {int(reused)} |")
    print(f"saving: {1 - statistics.median(warm) / statistics.median(cold):.0%}")


if __name__ == "__main__":
    main()
