"""``expected_fit_time``: how long each candidate takes to fit on data of the user's size.

The runtime matrix (Oboe's seconds per fit of each configuration on each dataset) gives each
candidate's fit time on the nearest datasets. Each time is scaled to the user's row count as
``seconds × (user rows / dataset rows) ** b``, where ``b`` is the family's growth exponent
measured on LCDB: the slope of log(runtime) against log(training size) over the upper four
doublings of each learner's curve, median over the nearest datasets (over all LCDB datasets
when the nearest have no curve of that family; 1, linear, when LCDB has none). The estimate
is the median of the scaled times, the interval their 10th–90th percentile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import family_label, listing, seconds

__all__ = ["ExpectedFitTime", "FitTimeEstimate", "ScaledRuntime", "growth_exponents"]

DEFAULT_EXPONENT = 1.0
EXPONENT_RANGE = (0.3, 3.0)
"""Growth exponents are clipped to this range: a noisy slope must not explode the scaling."""


@dataclass(frozen=True)
class FitTimeEstimate:
    """A candidate's expected fit time on the user's rows, in seconds, with a 10–90 % interval.

    ``rank`` is the recommender's rank; ``growth_exponent`` the ``b`` used for scaling.
    """

    rank: int
    pipeline_id: str
    family: str
    description: str
    seconds: float
    lower_seconds: float
    upper_seconds: float
    growth_exponent: float
    n_datasets: int


@dataclass(frozen=True)
class ScaledRuntime:
    """One measured fit time (seconds) on a knowledge-base dataset and its scaled value."""

    pipeline_id: str
    dataset_id: str
    dataset_rows: int
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


class ExpectedFitTime(Question):
    id = "expected_fit_time"
    title = "How long will each candidate take to fit on data of this size?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        candidates = context.candidates()
        nearest = context.nearest_datasets()
        dataset_rows = {d.dataset_id: d.n_rows for d in nearest if d.n_rows}
        runtimes = context.evaluations(report.knowledge_base_metric)
        runtimes = runtimes[
            runtimes["dataset_id"].isin(dataset_rows)
            & runtimes["pipeline_id"].isin([c.pipeline_id for c in candidates])
            & (runtimes["runtime_seconds"] > 0)
        ]
        exponents, exponent_origin = self._exponents(context)
        rows: list[FitTimeEstimate] = []
        points: list[ScaledRuntime] = []
        for candidate in candidates:
            measured = runtimes[runtimes["pipeline_id"] == candidate.pipeline_id]
            if measured.empty:
                continue
            exponent = exponents.get(candidate.family, DEFAULT_EXPONENT)
            scaled = []
            for row in measured.itertuples():
                rows_there = dataset_rows[str(row.dataset_id)]
                value = float(row.runtime_seconds) * (context.n_rows / rows_there) ** exponent
                scaled.append(value)
                points.append(
                    ScaledRuntime(
                        candidate.pipeline_id,
                        str(row.dataset_id),
                        rows_there,
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
                    growth_exponent=exponent,
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
        summary = (
            f"Scaled to the {context.n_rows:,} rows of {context.dataset.name}, one fit takes: "
            f"{'; '.join(described)}. All {len(rows)} candidates once: about {seconds(total)}; "
            f"with 5-fold cross-validation about {seconds(5 * total)}. The slowest, "
            f"#{slowest.rank}, costs {slowest.seconds / max(fastest.seconds, 1e-9):.0f}× the "
            f"fastest, #{fastest.rank}. Times were measured by the knowledge base's sources on "
            "their hardware and scaled by "
            f"(your rows / their rows)^b with {exponent_text} ({exponent_origin})."
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
            "(your rows / dataset rows)^b; b = median slope of log(runtime) on log(training "
            "size) over the upper four doublings of the family's LCDB curves. Estimate: median "
            "of the scaled times; interval: their 10th–90th percentile."
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
