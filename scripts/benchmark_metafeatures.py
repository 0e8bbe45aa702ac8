"""Time compute_metafeatures on a synthetic numeric frame, on one core.

The target is < 1 s for 100,000 rows x 100 numeric features without landmarkers; with
landmarkers the time budget bounds the extra cost (landmarkers that would not fit are left
out and listed).

    python scripts/benchmark_metafeatures.py
    python scripts/benchmark_metafeatures.py --rows 20000 --columns 50 --repeats 5
"""

from __future__ import annotations

import os

# One core: set before numpy loads its BLAS.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mile_meta.metafeatures import compute_metafeatures  # noqa: E402


def synthetic_frame(rows: int, columns: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Numeric features with a few missing values and a binary target that depends on them."""
    generator = np.random.default_rng(seed)
    values = generator.normal(size=(rows, columns))
    values[generator.random(size=values.shape) < 0.001] = np.nan
    frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(columns)])
    target = pd.Series(
        np.where(np.nan_to_num(values[:, 0]) + generator.normal(size=rows) > 0, "a", "b")
    )
    return frame, target


def _median_seconds(
    frame: pd.DataFrame, target: pd.Series, repeats: int, **options
) -> tuple[float, list[float], tuple[str, ...]]:
    timings = []
    skipped: tuple[str, ...] = ()
    for _ in range(repeats):
        started = time.perf_counter()
        result = compute_metafeatures(frame, target, **options)
        timings.append(time.perf_counter() - started)
        skipped = result.skipped_landmarkers
    return statistics.median(timings), timings, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    frame, target = synthetic_frame(arguments.rows, arguments.columns)
    compute_metafeatures(frame.head(100), target.head(100))  # warm imports and caches

    print(f"{arguments.rows:,} rows x {arguments.columns} numeric features, 1 thread")
    for label, options in (
        ("no landmarkers", {"landmarkers": False}),
        ("landmarkers, budget 1 s", {"landmarkers": True, "time_budget_seconds": 1.0}),
        ("landmarkers, budget 5 s (default)", {"landmarkers": True}),
    ):
        median, timings, skipped = _median_seconds(frame, target, arguments.repeats, **options)
        runs = ", ".join(f"{t:.3f}" for t in timings)
        note = f"  skipped: {', '.join(skipped)}" if skipped else ""
        print(f"  {label:<36} median {median:.3f} s  (runs: {runs}){note}")


if __name__ == "__main__":
    main()
