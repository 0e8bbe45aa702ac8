"""``expected_fit_time``: how long each candidate takes to fit on data of the user's size.

The answer states, for the shortlist, what :mod:`mile_meta.fit_time` estimates (the same
estimator ``recommend`` prints its fit times with): each candidate's fit times on the nearest
datasets (the runtime matrix), scaled to the user's rows and one-hot width; and how they were
scaled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mile_meta.fit_time import (
    FitTimeScaling,
    growth_exponents,
    one_hot_width,
    scaled_fit_time,
    width_exponent,
)
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


class ExpectedFitTime(Question):
    id = "expected_fit_time"
    title = "How long will each candidate take to fit on data of this size?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        candidates = context.candidates()
        nearest = context.nearest_datasets()
        scaling = FitTimeScaling.of(context.kb)
        candidate_ids = [c.pipeline_id for c in candidates]
        runtimes = context.evaluations(report.knowledge_base_metric)
        runtimes = runtimes[
            runtimes["pipeline_id"].isin(candidate_ids) & (runtimes["runtime_seconds"] > 0)
        ].join(scaling.sizes, on="dataset_id")
        near_ids = [d.dataset_id for d in nearest]
        user_width = one_hot_width(context.dataset.frame)
        rows: list[FitTimeEstimate] = []
        points: list[ScaledRuntime] = []
        for candidate in candidates:
            everywhere = runtimes[runtimes["pipeline_id"] == candidate.pipeline_id]
            estimate = scaled_fit_time(
                everywhere[everywhere["dataset_id"].isin(near_ids)],
                everywhere,
                context.n_rows,
                user_width,
                scaling.rows_exponent(candidate.family),
            )
            if estimate is None:
                continue
            points.extend(
                ScaledRuntime(candidate.pipeline_id, *scaled) for scaled in estimate.scaled
            )
            rows.append(
                FitTimeEstimate(
                    rank=candidate.rank,
                    pipeline_id=candidate.pipeline_id,
                    family=candidate.family,
                    description=candidate.spec.describe(),
                    seconds=estimate.seconds,
                    lower_seconds=estimate.lower,
                    upper_seconds=estimate.upper,
                    rows_exponent=estimate.rows_exponent,
                    width_exponent=estimate.width_exponent or 0.0,
                    n_datasets=len(estimate.scaled),
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
            f"{family_label(f)} b = {scaling.rows_exponent(f):.2f}" for f in used_families
        )
        exponent_origin = (
            "from LCDB's runtimes, median over its datasets"
            if scaling.rows_exponents
            else "no LCDB runtimes: linear growth assumed"
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
                    | ({"lcdb"} if scaling.rows_exponents else set())
                )
            ),
            metric=None,
            points=tuple(points),
        )
        method = (
            "Fit time per candidate on each nearest dataset (runtime matrix), scaled by "
            "(your rows / dataset rows)^b × (your one-hot width / dataset width)^c "
            "(mile_meta.fit_time, the estimator recommend's fit times come from); b = median "
            "slope of log(runtime) on log(training size) over the upper four doublings of the "
            "family's LCDB curves; c = the candidate's partial slope of log(runtime) on "
            "log(width) given log(rows) over all datasets in the runtime matrix. Estimate: "
            "median of the scaled times; interval: their 10th–90th percentile."
        )
        return self.answered(summary, tuple(rows), evidence, method)
