"""Moments of the numeric attributes: OpenML's ``Statistical`` characterizer.

For every numeric attribute (the target too when it is numeric: OpenML loops over all
attributes) OpenML takes the mean, standard deviation, skewness and kurtosis of its known
values with Apache Commons Math, then summarises each of the four lists by mean, min, max and
quartiles. Commons Math's conventions, checked against OpenML's published values:

* standard deviation with ``n - 1``; 0 for a single value;
* skewness and kurtosis are the bias-corrected sample estimators (the ones Excel and
  ``scipy.stats.skew(bias=False)`` / ``kurtosis(bias=False)`` give), kurtosis as *excess*
  kurtosis; undefined (NaN) below 3 / 4 values and for constant attributes (0/0);
* a statistic that is not finite for an attribute is left out of the summary;
* quartiles use Commons Math's default percentile, position ``p * (n + 1)`` with linear
  interpolation, clamped to the extremes (numpy's ``method="weibull"``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["numeric_statistics", "summarize"]


def summarize(values: np.ndarray, name: str) -> dict[str, float]:
    """Mean/Min/Max/Quartile1-3 of the finite ``values`` as ``<Summary><name>`` qualities.

    Nothing is returned when no value is finite: a summary of nothing is absent, not NaN.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return {}
    quartiles = np.percentile(finite, [25.0, 50.0, 75.0], method="weibull")
    return {
        f"Mean{name}": float(finite.mean()),
        f"Min{name}": float(finite.min()),
        f"Max{name}": float(finite.max()),
        f"Quartile1{name}": float(quartiles[0]),
        f"Quartile2{name}": float(quartiles[1]),
        f"Quartile3{name}": float(quartiles[2]),
    }


def _column_sums(values: np.ndarray) -> tuple[int, float, float, float, float] | None:
    """Known values, mean, and sums of centred squares, cubes and 4th powers of one column.

    None when the column has no known value. A constant column gets zero sums even when its
    float mean is one ulp off (which would give it a large, meaningless skewness); exactly,
    its deviations are 0 and its skewness and kurtosis 0/0.
    """
    missing = np.isnan(values)
    if missing.any():
        values = values[~missing]
    if values.size == 0:
        return None
    mean = float(values.mean())
    centred = values - mean
    squares = centred * centred
    spread = float(squares.sum())
    if spread <= 1e-20 * values.size * mean * mean and values.min() == values.max():
        return values.size, mean, 0.0, 0.0, 0.0
    return (
        values.size,
        mean,
        spread,
        float(np.dot(squares, centred)),
        float(np.dot(squares, squares)),
    )


def _column_moments(numeric: np.ndarray) -> np.ndarray:
    """Rows: count of known values, mean, sums of centred squares, cubes and 4th powers;
    one column per attribute (NaN mean for an attribute without known values).

    Column by column on purpose: one column (800 kB for 100,000 rows) stays in the CPU cache
    for all five passes, where whole-matrix passes would stream the matrix from memory five
    times; the per-column Python overhead is a few microseconds.
    """
    moments = np.zeros((5, numeric.shape[1]))
    moments[1] = np.nan
    # Values near 1e300 overflow to inf in the powers, as they do in Java; such statistics
    # are not finite and drop out of the summaries, so the warnings are noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for column in range(numeric.shape[1]):
            sums = _column_sums(np.ascontiguousarray(numeric[:, column]))
            if sums is not None:
                moments[:, column] = sums
    return moments


def numeric_statistics(numeric: np.ndarray) -> dict[str, float]:
    """OpenML's 24 ``*OfNumericAtts`` qualities for the columns of ``numeric`` (NaN = missing)."""
    if numeric.shape[1] == 0 or numeric.shape[0] == 0:
        return {}
    n, means, sum_squares, sum_cubes, sum_fourths = _column_moments(numeric)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        variance = np.where(n > 1, sum_squares / (n - 1), np.where(n == 1, 0.0, np.nan))
        std = np.sqrt(variance)
        skewness = np.where(n > 2, n / ((n - 1) * (n - 2)) * sum_cubes / (variance * std), np.nan)
        kurtosis = np.where(
            n > 3,
            n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum_fourths / (variance * variance)
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)),
            np.nan,
        )
    qualities: dict[str, float] = {}
    for statistic, values in (
        ("MeansOfNumericAtts", means),
        ("StdDevOfNumericAtts", std),
        ("SkewnessOfNumericAtts", skewness),
        ("KurtosisOfNumericAtts", kurtosis),
    ):
        qualities.update(summarize(values, statistic))
    return qualities
