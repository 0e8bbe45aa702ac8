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


def _column_moments(
    numeric: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column: count of known values, mean, and sums of centred squares, cubes, 4th powers.

    One pass over the matrix per power, all columns at once; missing values add nothing.
    """
    missing = np.isnan(numeric)
    has_missing = bool(missing.any())
    if has_missing:
        counts = numeric.shape[0] - missing.sum(axis=0)
    else:
        counts = np.full(numeric.shape[1], numeric.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        totals = np.nansum(numeric, axis=0) if has_missing else numeric.sum(axis=0)
        means = totals / counts
        centred = numeric - means
        if has_missing:
            centred[missing] = 0.0
        # Commons Math refines the mean with the mean residual; doing the same keeps the
        # centred sums (and so the kurtosis of large-offset columns) identical to OpenML's.
        correction = centred.sum(axis=0) / counts
        correction = np.where(np.isfinite(correction), correction, 0.0)
        means = means + correction
        centred -= correction
        if has_missing:
            centred[missing] = 0.0
        squares = centred * centred
        sum_squares = squares.sum(axis=0)
        sum_cubes = np.einsum("ij,ij->j", squares, centred)
        sum_fourths = np.einsum("ij,ij->j", squares, squares)
    return counts.astype(np.float64), means, sum_squares, np.stack([sum_cubes, sum_fourths])


def numeric_statistics(numeric: np.ndarray) -> dict[str, float]:
    """OpenML's 24 ``*OfNumericAtts`` qualities for the columns of ``numeric`` (NaN = missing)."""
    if numeric.shape[1] == 0 or numeric.shape[0] == 0:
        return {}
    n, means, sum_squares, higher = _column_moments(numeric)
    sum_cubes, sum_fourths = higher
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(n > 1, sum_squares / (n - 1), np.where(n == 1, 0.0, np.nan))
        std = np.sqrt(variance)
        skewness = np.where(
            n > 2, n / ((n - 1) * (n - 2)) * sum_cubes / (variance * std), np.nan
        )
        kurtosis = np.where(
            n > 3,
            n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum_fourths / (variance * variance)
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)),
            np.nan,
        )
        means = np.where(n > 0, means, np.nan)
    qualities: dict[str, float] = {}
    for statistic, values in (
        ("MeansOfNumericAtts", means),
        ("StdDevOfNumericAtts", std),
        ("SkewnessOfNumericAtts", skewness),
        ("KurtosisOfNumericAtts", kurtosis),
    ):
        qualities.update(summarize(values, statistic))
    return qualities
