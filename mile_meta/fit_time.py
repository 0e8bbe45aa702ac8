"""How long a pipeline takes to fit on the user's data: the one fit-time estimator.

``recommend`` (each recommendation's expected fit time) and the expected-fit-time question
both use it. The knowledge base's fit times were measured on datasets of other sizes, so each
is scaled to the user's data as

    seconds × (user rows / dataset rows) ** b × (user width / dataset width) ** c

* ``b``, the growth with rows, is the family's exponent measured on LCDB: the slope of
  log(runtime) against log(training size) over the upper four doublings of each learner's
  curve, median over LCDB's datasets (1, linear, when LCDB has no curve of that family). Rows
  vary within one dataset there, so nothing else changes with them.
* ``c``, the growth with the one-hot encoded width, is the pipeline's own partial slope over
  every dataset the runtime matrix has for it: least squares of log(runtime) on log(rows) and
  log(width). The recommender's nearest datasets match on size far better than on width
  (Oboe's datasets are known by their row count and width alone), so without it a
  10,000-column text dataset can sit next to an 8-column table. Leave-one-dataset-out on Oboe,
  width scaling cut the typical error of the median estimate from a factor 3.3 to 1.9.

The estimate is the median of the scaled times on the nearest datasets that timed the
pipeline, the interval their 10th–90th percentile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mile_meta._memo import RecentlyUsed

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "DEFAULT_EXPONENT",
    "FitTime",
    "FitTimeScaling",
    "growth_exponents",
    "one_hot_width",
    "scale_times",
    "scaled_fit_time",
    "width_exponent",
    "width_exponents",
]

DEFAULT_EXPONENT = 1.0
EXPONENT_RANGE = (0.3, 3.0)
"""Growth exponents are clipped to this range: a noisy slope must not explode the scaling."""

WIDTH_EXPONENT_RANGE = (0.0, 2.0)
MIN_DATASETS_FOR_WIDTH = 10
"""Datasets with a fit time, rows and width a pipeline needs for its width exponent."""

CURVE_SOURCE, CURVE_METRIC = "lcdb", "predictive_accuracy"


@dataclass(frozen=True)
class FitTime:
    """Expected fit time in seconds with its 10–90 % interval; ``scaled`` holds, per dataset
    timed, (dataset id, its rows, its width or None, measured seconds, scaled seconds)."""

    seconds: float
    lower: float
    upper: float
    rows_exponent: float
    width_exponent: float | None
    scaled: tuple[tuple[str, int, int | None, float, float], ...]


def scaled_fit_time(
    timed: pd.DataFrame,
    everywhere: pd.DataFrame,
    rows: int,
    width: int | None,
    rows_exponent: float,
) -> FitTime | None:
    """One pipeline's fit time on data of ``rows`` × ``width`` (see the module doc).

    ``timed`` are its fits on the nearest datasets, ``everywhere`` on every dataset (for the
    width exponent): columns ``dataset_id``, ``runtime_seconds``, ``rows``, ``width``. None when
    no nearest dataset timed it.
    """
    power = width_exponent(everywhere) if width else None
    seconds = timed["runtime_seconds"].to_numpy(dtype=float)[:, None]
    dataset_rows = timed["rows"].to_numpy(dtype=float)
    dataset_width = timed["width"].to_numpy(dtype=float)
    scaled = scale_times(
        seconds,
        dataset_rows,
        dataset_width,
        rows,
        width,
        np.array([rows_exponent]),
        np.array([np.nan if power is None else power]),
    )[:, 0]
    kept = np.flatnonzero(np.isfinite(scaled))
    if not kept.size:
        return None
    values = scaled[kept]
    return FitTime(
        seconds=float(np.median(values)),
        lower=float(np.quantile(values, 0.1)),
        upper=float(np.quantile(values, 0.9)),
        rows_exponent=rows_exponent,
        width_exponent=power,
        scaled=tuple(
            (
                str(timed["dataset_id"].iloc[i]),
                int(dataset_rows[i]),
                int(dataset_width[i]) if dataset_width[i] > 0 else None,
                float(seconds[i, 0]),
                float(scaled[i]),
            )
            for i in kept
        ),
    )


def scale_times(
    seconds: np.ndarray,
    dataset_rows: np.ndarray,
    dataset_width: np.ndarray,
    rows: int,
    width: int | None,
    rows_exponents: np.ndarray,
    width_exponents: np.ndarray,
) -> np.ndarray:
    """Fit times (datasets × pipelines, NaN where not timed) scaled to ``rows`` × ``width``;
    a dataset of unknown width, or a pipeline without a width exponent (NaN), is scaled by
    rows only. NaN where a time or the dataset's rows are unknown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (seconds > 0) & (dataset_rows > 0)[:, None]
        by_rows = (rows / dataset_rows)[:, None] ** rows_exponents[None, :]
        scaled = np.where(valid, seconds * by_rows, np.nan)
        if width:
            ratio = (width / dataset_width)[:, None]
            usable = (dataset_width > 0)[:, None] & np.isfinite(width_exponents)[None, :]
            scaled = np.where(usable, scaled * ratio ** np.nan_to_num(width_exponents), scaled)
    return scaled


def width_exponents(
    seconds: np.ndarray, dataset_rows: np.ndarray, dataset_width: np.ndarray
) -> np.ndarray:
    """:func:`width_exponent` of each column of ``seconds`` (datasets × pipelines); NaN where
    it cannot be fitted."""
    result = np.full(seconds.shape[1], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rows, log_width = np.log(dataset_rows), np.log(dataset_width)
        log_seconds = np.log(seconds)
    shape_known = np.isfinite(log_rows) & np.isfinite(log_width) & (dataset_rows > 0)
    for column in range(seconds.shape[1]):
        usable = shape_known & np.isfinite(log_seconds[:, column]) & (seconds[:, column] > 0)
        if usable.sum() < MIN_DATASETS_FOR_WIDTH:
            continue
        design = np.column_stack([np.ones(int(usable.sum())), log_rows[usable], log_width[usable]])
        if np.linalg.matrix_rank(design) < 3:
            continue
        coefficients = np.linalg.lstsq(design, log_seconds[usable, column], rcond=None)[0]
        result[column] = float(np.clip(coefficients[2], *WIDTH_EXPONENT_RANGE))
    return result


def growth_exponents(curves: pd.DataFrame, dataset_ids: set[str] | None = None) -> dict[str, float]:
    """Per family, the median slope of log(runtime) on log(training size) in LCDB curves.

    Only the upper four doublings of each curve count: below them, fixed overheads dominate.
    """
    if dataset_ids is not None:
        curves = curves[curves["dataset_id"].isin(dataset_ids)]
    keys = ["dataset_id", "pipeline_id", "family"]
    largest = curves.groupby(keys)["train_size"].transform("max")
    upper = curves[(curves["train_size"] >= largest / 16) & (curves["runtime_seconds"] > 0)]
    # least-squares slope per curve from sums, one pass instead of one fit per curve
    x = np.log(upper["train_size"].to_numpy(dtype=float))
    y = np.log(upper["runtime_seconds"].to_numpy(dtype=float))
    sums = (
        pd.DataFrame({"x": x, "y": y, "xx": x * x, "xy": x * y}, index=upper.index)
        .join(upper[keys])
        .groupby(keys)
        .agg(k=("x", "size"), x=("x", "sum"), y=("y", "sum"), xx=("xx", "sum"), xy=("xy", "sum"))
    )
    sums = sums[sums["k"] >= 3]
    spread = sums["xx"] - sums["x"] ** 2 / sums["k"]
    slopes = (sums["xy"] - sums["x"] * sums["y"] / sums["k"]) / spread.where(spread > 1e-12)
    slopes = slopes.dropna()
    medians = slopes.groupby(level="family").median()
    return {
        str(family): float(np.clip(value, *EXPONENT_RANGE)) for family, value in medians.items()
    }


def one_hot_width(frame: pd.DataFrame) -> int:
    """Columns after one-hot encoding: one per numeric column, one per category otherwise
    (Oboe's ``OboeEncodedFeatures`` and OpenML's ``NumberOfFeaturesAfterBinarization`` count
    the same way)."""
    return int(
        sum(
            1 if pd.api.types.is_numeric_dtype(frame[column]) else max(frame[column].nunique(), 1)
            for column in frame.columns
        )
    )


def width_exponent(runtimes: pd.DataFrame) -> float | None:
    """Partial slope of log(runtime) on log(width), controlling for log(rows).

    ``runtimes`` has columns runtime_seconds, rows, width (one row per dataset); None when
    fewer than :data:`MIN_DATASETS_FOR_WIDTH` rows are usable or the design is degenerate.
    """
    power = width_exponents(
        runtimes["runtime_seconds"].to_numpy(dtype=float)[:, None],
        runtimes["rows"].to_numpy(dtype=float),
        runtimes["width"].to_numpy(dtype=float),
    )[0]
    return None if np.isnan(power) else float(power)


@dataclass(frozen=True)
class FitTimeScaling:
    """What scaling needs from a knowledge base: every dataset's rows and width, and each
    family's growth with rows (LCDB's curves)."""

    sizes: pd.DataFrame  # rows, width; index dataset_id
    rows_exponents: dict[str, float]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> FitTimeScaling:
        """Read (about a second), then kept per knowledge-base content."""

        def read() -> FitTimeScaling:
            curves = kb.learning_curves(CURVE_METRIC, CURVE_SOURCE)
            return cls(kb.dataset_sizes(), growth_exponents(curves) if not curves.empty else {})

        return _SCALINGS.get((str(kb.path), kb.ingest_stamp(), kb.view_key()), read)

    def rows_exponent(self, family: str) -> float:
        return self.rows_exponents.get(family, DEFAULT_EXPONENT)


_SCALINGS: RecentlyUsed[FitTimeScaling] = RecentlyUsed(4)
