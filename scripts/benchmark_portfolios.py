"""Do the anchors' portfolios make a better first handful of candidates than the defaults?

    python scripts/benchmark_portfolios.py [--k 6] [--cv 3] [--max-rounds 1000] [--datasets a,b]
        [--shared ../shared/benchmarks]

For each real dataset of ``../shared/benchmarks/`` it cross-validates two lists of ``k``
candidates, one core each, and prints the best score of each list and the time the list took:

- ``defaults``: the default configuration of the first ``k`` estimators of the search space
  (what ``DefaultDesign`` starts from: LightGBM, HistGB, XGBoost, CatBoost, forests, ...);
- ``portfolio``: the first ``k`` of ``portfolio_configurations`` (AutoGluon, FLAML and
  auto-sklearn 2.0 taking turns), given the dataset's four FLAML meta-features.

Boosting rounds above ``--max-rounds`` are capped (FLAML's portfolio has up to 23 045) so
one dataset stays within minutes. Scores: balanced accuracy (classification) or R²
(regression), mean over the folds. The table goes to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchmark_datasets
from benchmark_datasets import load_benchmark

from mile_meta.pipelines import PipelineSpec, build_pipeline
from mile_meta.pipelines.space import search_space, spec_from_config
from mile_meta.sources.portfolios import portfolio_configurations

DATASETS = (
    "credit-g",
    "phoneme",
    "pc1",
    "titanic",
    "cmc",
    "segment",
    "abalone",
    "concrete",
)


def _capped(spec: PipelineSpec, max_rounds: int) -> PipelineSpec:
    params = spec.estimator.param_dict
    for name in ("n_estimators", "iterations"):
        value = params.get(name)
        if isinstance(value, int) and value > max_rounds:
            return spec.with_estimator_params(**{name: max_rounds})
    return spec


def _score(spec: PipelineSpec, data, cv: int) -> float:
    X = data.frame.drop(columns=[data.target])
    y = data.frame[data.target]
    regression = data.task == "regression"
    splitter = (KFold if regression else StratifiedKFold)(cv, shuffle=True, random_state=0)
    scoring = "r2" if regression else "balanced_accuracy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(
                np.mean(cross_val_score(build_pipeline(spec), X, y, cv=splitter, scoring=scoring))
            )
        except Exception as error:  # a failing candidate scores nothing; say which
            print(f"  {spec.describe()[:60]} failed: {error}", file=sys.stderr)
            return float("nan")


def _meta_features(data) -> dict[str, float]:
    X = data.frame.drop(columns=[data.target])
    numeric = X.select_dtypes("number").shape[1]
    return {
        "NumberOfInstances": float(len(X)),
        "NumberOfFeatures": float(X.shape[1]),
        "NumberOfClasses": 0.0
        if data.task == "regression"
        else float(data.frame[data.target].nunique()),
        "PercentageOfNumericFeatures": 100.0 * numeric / max(1, X.shape[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=1000)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument(
        "--shared",
        type=Path,
        default=benchmark_datasets.SHARED,
        help="folder of datasets.csv (default: ../shared/benchmarks next to the checkout)",
    )
    args = parser.parse_args()
    benchmark_datasets.SHARED = args.shared
    print(
        "| dataset | task | rows | defaults best (s) | portfolio best (s) | portfolio - defaults |"
    )
    print("|---|---|---|---|---|---|")
    differences = []
    for name in args.datasets.split(","):
        data = load_benchmark(name)
        spaces = search_space(data.task)[: args.k]
        lists = {
            "defaults": [spec_from_config(s.estimator, s.defaults()) for s in spaces],
            "portfolio": list(
                portfolio_configurations(data.task, _meta_features(data), limit=args.k)
            ),
        }
        cells = {}
        for label, specs in lists.items():
            started = time.perf_counter()
            scores = [_score(_capped(spec, args.max_rounds), data, args.cv) for spec in specs]
            seconds = time.perf_counter() - started
            cells[label] = (np.nanmax(scores), seconds)
        difference = cells["portfolio"][0] - cells["defaults"][0]
        differences.append(difference)
        print(
            f"| {name} | {data.task} | {len(data.frame)} | {cells['defaults'][0]:.4f} "
            f"({cells['defaults'][1]:.0f}) | {cells['portfolio'][0]:.4f} "
            f"({cells['portfolio'][1]:.0f}) | {difference:+.4f} |",
            flush=True,
        )
    wins = sum(d > 0 for d in differences)
    print(
        f"\nportfolio better on {wins} of {len(differences)}; "
        f"mean difference {np.mean(differences):+.4f}"
    )


if __name__ == "__main__":
    main()
