"""``expected_fit_time``: how long each candidate takes to fit on data of the user's size.

The runtime matrix (Oboe's seconds per fit of each configuration on each dataset) gives each
candidate's fit time on the nearest datasets. Each time is scaled to the user's data as

    seconds × (user rows / dataset rows) ** b × (user width / dataset width) ** c

* ``b``, the growth with rows, is the family's exponent measured on LCDB: the slope of
  log(runtime) against log(training size) over the upper four doublings of each learner's
  curve, median over the nearest datasets (over all LCDB datasets when the nearest have no
  curve of that family; 1, linear, when LCDB has none). Rows vary within one dataset there,
  so nothing else changes with them.
* ``c``, the growth with the one-hot encoded width (Oboe's ``OboeEncodedFeatures``, else
  OpenML's ``NumberOfFeatures``), is the candidate's own partial slope over every dataset the
  runtime matrix has for it: least squares of log(runtime) on log(rows) and log(width).
  The recommender's nearest datasets match on size far better than on width (Oboe-only
  datasets are known by their row count alone), so without it a 10,000-column text dataset
  can sit next to an 8-column table. Leave-one-dataset-out on Oboe, width scaling cut the
  typical error of the median estimate from a factor 3.3 to 1.9.

The estimate is the median of the scaled times, the interval their 10th–90th percentile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import family_label, listing, seconds

__all__ = [
    "ExpectedFitTime",
    "FitTimeEstimate",
    "ScaledRuntime",
    "growth_exponents",
    "one_hot_width",
    "width_exponent",
]

DEFAULT_EXPONENT = 1.0
EXPONENT_RANGE = (0.3, 3.0)
"""Growth exponents are clipped to this range: a noisy slope must not explode the scaling."""

WIDTH_EXPONENT_RANGE = (0.0, 2.0)
MIN_DATASETS_FOR_WIDTH = 10
"""Datasets with a fit time, rows and width a candidate needs for its width exponent."""


@dataclass(frozen=True)
class FitTimeEstimate:
    """A candidate's expected fit time on the user's data, in seconds, with a 10–90 % interval.

    ``rank`` is the recommender's rank; ``rows_exponent`` (``b``) and ``width_exponent``
    (``c``) are the exponents its times were scaled with.
    """

    rank: int
    pipeline_id: str
    family: str
    description: str
    seconds: float
    lower_seconds: float
    upper_seconds: float
    rows_exponent: float
    width_exponent: float
    n_datasets: int


@dataclass(frozen=True)
class ScaledRuntime:
    """One measured fit time (seconds) on a knowledge-base dataset and its scaled value;
    ``dataset_width`` is the one-hot encoded feature count (None if unknown: not scaled)."""

    pipeline_id: str
    dataset_id: str
    dataset_rows: int
    dataset_width: int | None
    runtime_seconds: float
    scaled_seconds: float


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
    (Oboe's ``OboeEncodedFeatures`` counts the same way)."""
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
    usable = runtimes[
        (runtimes["runtime_seconds"] > 0) & (runtimes["rows"] > 0) & (runtimes["width"] > 0)
    ].dropna(subset=["runtime_seconds", "rows", "width"])
    if len(usable) < MIN_DATASETS_FOR_WIDTH:
        return None
    design = np.column_stack(
        [
            np.ones(len(usable)),
            np.log(usable["rows"].to_numpy(dtype=float)),
            np.log(usable["width"].to_numpy(dtype=float)),
        ]
    )
    if np.linalg.matrix_rank(design) < 3:
        return None
    target = np.log(usable["runtime_seconds"].to_numpy(dtype=float))
    coefficients = np.linalg.lstsq(design, target, rcond=None)[0]
    return float(np.clip(coefficients[2], *WIDTH_EXPONENT_RANGE))


class ExpectedFitTime(Question):
    id = "expected_fit_time"
    title = "How long will each candidate take to fit on data of this size?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        candidates = context.candidates()
        nearest = context.nearest_datasets()
        shapes = context.kb.dataset_sizes()
        candidate_ids = [c.pipeline_id for c in candidates]
        runtimes = context.evaluations(report.knowledge_base_metric)
        runtimes = runtimes[
            runtimes["pipeline_id"].isin(candidate_ids) & (runtimes["runtime_seconds"] > 0)
        ].join(shapes, on="dataset_id")
        near_ids = [d.dataset_id for d in nearest]
        exponents, exponent_origin = self._exponents(context)
        user_width = one_hot_width(context.dataset.frame)
        rows: list[FitTimeEstimate] = []
        points: list[ScaledRuntime] = []
        for candidate in candidates:
            everywhere = runtimes[runtimes["pipeline_id"] == candidate.pipeline_id]
            measured = everywhere[
                everywhere["dataset_id"].isin(near_ids) & everywhere["rows"].notna()
            ]
            if measured.empty:
                continue
            rows_exponent = exponents.get(candidate.family, DEFAULT_EXPONENT)
            width_power = width_exponent(everywhere)
            scaled = []
            for row in measured.itertuples():
                value = float(row.runtime_seconds) * (context.n_rows / row.rows) ** rows_exponent
                width = None if pd.isna(row.width) else int(row.width)
                if width and width_power is not None:
                    value *= (user_width / width) ** width_power
                scaled.append(value)
                points.append(
                    ScaledRuntime(
                        candidate.pipeline_id,
                        str(row.dataset_id),
                        int(row.rows),
                        width,
                        float(row.runtime_seconds),
                        value,
                    )
                )
            rows.append(
                FitTimeEstimate(
                    rank=candidate.rank,
                    pipeline_id=candidate.pipeline_id,
                    family=candidate.family,
                    description=candidate.spec.describe(),
                    seconds=float(np.median(scaled)),
                    lower_seconds=float(np.quantile(scaled, 0.1)),
                    upper_seconds=float(np.quantile(scaled, 0.9)),
                    rows_exponent=rows_exponent,
                    width_exponent=0.0 if width_power is None else width_power,
                    n_datasets=len(scaled),
                )
            )
        if not rows:
            raise CannotAnswer(
                "the knowledge base holds no fit times of the candidates on the nearest datasets"
            )
        total = sum(row.seconds for row in rows)
        described = [
            f"#{row.rank} {family_label(row.family)} ≈ {seconds(row.seconds)} "
            f"({seconds(row.lower_seconds)} to {seconds(row.upper_seconds)})"
            for row in rows
        ]
        fastest = min(rows, key=lambda row: row.seconds)
        slowest = max(rows, key=lambda row: row.seconds)
        used_families = list(dict.fromkeys(row.family for row in rows))
        exponent_text = listing(
            f"{family_label(f)} b = {exponents.get(f, DEFAULT_EXPONENT):.2f}" for f in used_families
        )
        width_text = listing(
            f"{family_label(f)} c = "
            f"{np.median([r.width_exponent for r in rows if r.family == f]):.2f}"
            for f in used_families
        )
        summary = (
            f"Scaled to the {context.n_rows:,} rows and {user_width:,} one-hot encoded columns "
            f"of {context.dataset.name}, one fit takes: "
            f"{'; '.join(described)}. All {len(rows)} candidates once: about {seconds(total)}; "
            f"with 5-fold cross-validation about {seconds(5 * total)}. The slowest, "
            f"#{slowest.rank}, costs {slowest.seconds / max(fastest.seconds, 1e-9):.0f}× the "
            f"fastest, #{fastest.rank}. Times were measured by the knowledge base's sources on "
            "their hardware and scaled by (your rows / their rows)^b × (your columns / their "
            f"columns)^c with {exponent_text} ({exponent_origin}) and {width_text} (median; "
            "fitted per candidate across the knowledge base's datasets)."
        )
        used_ids = {p.dataset_id for p in points}
        evidence = AnswerEvidence(
            datasets=tuple(d for d in nearest if d.dataset_id in used_ids),
            pipelines=tuple(row.pipeline_id for row in rows),
            sources=tuple(
                sorted(
                    set(runtimes.loc[runtimes["dataset_id"].isin(used_ids), "source"])
                    | ({"lcdb"} if exponents else set())
                )
            ),
            metric=None,
            points=tuple(points),
        )
        method = (
            "Fit time per candidate on each nearest dataset (runtime matrix), scaled by "
            "(your rows / dataset rows)^b × (your one-hot width / dataset width)^c; b = median "
            "slope of log(runtime) on log(training size) over the upper four doublings of the "
            "family's LCDB curves; c = the candidate's partial slope of log(runtime) on "
            "log(width) given log(rows) over all datasets in the runtime matrix. Estimate: "
            "median of the scaled times; interval: their 10th–90th percentile."
        )
        return self.answered(summary, tuple(rows), evidence, method)

    @staticmethod
    def _exponents(context: QuestionContext) -> tuple[dict[str, float], str]:
        try:
            curves = context.require_learning_curves()
        except CannotAnswer:
            return {}, "no LCDB runtimes: linear growth assumed"
        curves = curves[curves["family"].isin({c.family for c in context.candidates()})]
        try:
            near = {d.dataset_id for d in context.nearest_curve_datasets()}
        except CannotAnswer:
            near = set()
        overall = growth_exponents(curves)
        nearby = growth_exponents(curves, near) if near else {}
        return {
            **overall,
            **nearby,
        }, "b from LCDB runtimes on the nearest datasets, else on all LCDB datasets"
