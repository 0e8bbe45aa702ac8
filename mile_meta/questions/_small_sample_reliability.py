"""``small_sample_reliability``: does a comparison on a subsample pick the same winners?

On each LCDB dataset, the learners ranked by accuracy at a fraction of the largest training
size are compared with their ranking at that largest size (Spearman's ρ over the learners
measured at both, and whether the winner stays the same). The largest size is the largest at
which at least 80 % of the dataset's learners have a result (some ran out of time beyond it);
the small size is the curve's training size nearest to the fraction (in log scale, within a
factor 2 ** 0.3). Results are averaged over the nearest datasets and over all of LCDB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mile_meta.questions._base import Answer, AnswerEvidence, Question
from mile_meta.questions._context import CURVE_METRIC, QuestionContext
from mile_meta.questions._text import number, percent

__all__ = [
    "FRACTIONS",
    "DatasetRankAgreement",
    "RankAgreement",
    "SmallSampleReliability",
    "rank_agreements",
    "spearman",
]

FRACTIONS: tuple[float, ...] = (1 / 16, 1 / 8, 1 / 4, 1 / 2)
"""Fractions of the full training size at which the ranking is compared."""

MIN_LEARNERS = 5
"""Learners a dataset must have at both sizes for a rank correlation to mean something."""

_SIZE_TOLERANCE = 0.3  # in log2 units: the nearest curve size must be within ×1.23 of the target


@dataclass(frozen=True)
class DatasetRankAgreement:
    """On one LCDB dataset: the learners' ranking at ``small_size`` rows vs ``full_size`` rows."""

    dataset_id: str
    fraction: float
    small_size: int
    full_size: int
    n_learners: int
    spearman: float
    same_winner: bool


@dataclass(frozen=True)
class RankAgreement:
    """Rank agreement at one fraction of the data, on similar datasets and over all of LCDB.

    ``user_rows`` is that fraction of the user's rows. ``spearman_*`` are means,
    ``spearman_*_low`` 10th percentiles (a bad case), ``same_winner_*`` the share of datasets
    whose best learner at the fraction is also best on the full data.
    """

    fraction: float
    user_rows: int
    spearman_similar: float
    spearman_similar_low: float
    same_winner_similar: float
    n_similar: int
    spearman_overall: float
    spearman_overall_low: float
    same_winner_overall: float
    n_overall: int


def rank_agreements(
    curves: pd.DataFrame, fractions: tuple[float, ...] = FRACTIONS
) -> list[DatasetRankAgreement]:
    """Per dataset and fraction, the agreement of small-size and full-size learner rankings.

    ``curves`` has columns dataset_id, pipeline_id, train_size, value (higher is better).
    """
    results: list[DatasetRankAgreement] = []
    means = curves.groupby(["dataset_id", "pipeline_id", "train_size"])["value"].mean()
    wide = means.unstack("train_size")
    all_sizes = wide.columns.to_numpy(dtype=float)
    values = wide.to_numpy(dtype=float)
    dataset_ids = wide.index.get_level_values("dataset_id")
    # plain numpy per dataset: this runs over every LCDB dataset on each answer
    for dataset_id, rows in pd.Series(np.arange(len(wide))).groupby(dataset_ids):
        table = values[rows.to_numpy()]
        measured = table.shape[0]
        counts = np.sum(~np.isnan(table), axis=0)
        needed = max(MIN_LEARNERS, int(np.ceil(0.8 * measured)))
        full_columns = np.nonzero(counts >= needed)[0]
        if len(full_columns) == 0:
            continue
        full_column = full_columns[np.argmax(all_sizes[full_columns])]
        full = all_sizes[full_column]
        smaller = np.nonzero((all_sizes < full) & (counts > 0))[0]
        if len(smaller) == 0:
            continue
        for fraction in fractions:
            gaps = np.abs(np.log2(all_sizes[smaller]) - np.log2(fraction * full))
            if gaps.min() > _SIZE_TOLERANCE:
                continue
            small_column = smaller[np.argmin(gaps)]
            at_small, at_full = table[:, small_column], table[:, full_column]
            both = ~np.isnan(at_small) & ~np.isnan(at_full)
            if both.sum() < MIN_LEARNERS:
                continue
            rho = spearman(at_small[both], at_full[both])
            if not np.isfinite(rho):
                continue  # every learner tied at one of the sizes
            results.append(
                DatasetRankAgreement(
                    dataset_id=str(dataset_id),
                    fraction=fraction,
                    small_size=int(all_sizes[small_column]),
                    full_size=int(full),
                    n_learners=int(both.sum()),
                    spearman=rho,
                    same_winner=bool(np.argmax(at_small[both]) == np.argmax(at_full[both])),
                )
            )
    return results


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (as Spearman's ρ needs)."""
    order = np.argsort(values, kind="mergesort")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(values))
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = np.cumsum(starts)[inverse]
    bounds = np.r_[np.nonzero(starts)[0], len(values)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def spearman(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation (NaN if either side is constant)."""
    a, b = _average_ranks(first), _average_ranks(second)
    a, b = a - a.mean(), b - b.mean()
    scale = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / scale) if scale > 0 else float("nan")


def _summaries(values: list[DatasetRankAgreement]) -> tuple[float, float, float, int]:
    if not values:
        return float("nan"), float("nan"), float("nan"), 0
    rhos = np.array([v.spearman for v in values])
    return (
        float(rhos.mean()),
        float(np.quantile(rhos, 0.1)),
        float(np.mean([v.same_winner for v in values])),
        len(values),
    )


def _fraction_label(fraction: float) -> str:
    return f"1/{round(1 / fraction)}" if fraction < 1 else "all"


class SmallSampleReliability(Question):
    id = "small_sample_reliability"
    title = "How reliable is a model comparison on a sample of this data?"

    def _answer(self, context: QuestionContext) -> Answer:
        curves = context.require_learning_curves()
        nearest = context.nearest_curve_datasets()
        near_ids = {d.dataset_id for d in nearest}
        agreements = rank_agreements(curves)
        rows = []
        for fraction in FRACTIONS:
            at_fraction = [a for a in agreements if a.fraction == fraction]
            similar = _summaries([a for a in at_fraction if a.dataset_id in near_ids])
            overall = _summaries(at_fraction)
            rows.append(
                RankAgreement(
                    fraction,
                    round(fraction * context.n_rows),
                    *similar,
                    *overall,
                )
            )
        quarter = next(row for row in rows if row.fraction == 1 / 4)
        n = context.n_rows
        similar_known = quarter.n_similar > 0
        lead = (
            f"With 25 % of your {n:,} rows ({quarter.user_rows:,} rows), learner rankings agree "
            f"with the full-data ranking at ρ ≈ {number(quarter.spearman_similar, 2)} on the "
            f"{quarter.n_similar} nearest LCDB datasets "
            f"(ρ ≈ {number(quarter.spearman_overall, 2)} over all {quarter.n_overall}); the "
            f"best learner stays best in {percent(quarter.same_winner_similar)} of them"
            if similar_known
            else f"With 25 % of your {n:,} rows ({quarter.user_rows:,} rows), learner rankings "
            f"agree with the full-data ranking at ρ ≈ {number(quarter.spearman_overall, 2)} "
            f"over {quarter.n_overall} LCDB datasets (none of the nearest datasets has curves "
            "long enough); the best learner stays best in "
            f"{percent(quarter.same_winner_overall)} of them"
        )
        key = "spearman_similar" if similar_known else "spearman_overall"
        others = "; ".join(
            f"{_fraction_label(row.fraction)} ({row.user_rows:,} rows): "
            f"ρ ≈ {number(getattr(row, key), 2)}"
            for row in rows
            if row.fraction != 1 / 4
        )
        worst = min(rows, key=lambda row: row.fraction)
        low = worst.spearman_similar_low if similar_known else worst.spearman_overall_low
        summary = (
            f"{lead}. At other fractions: {others}. In the worst tenth of datasets, a "
            f"{_fraction_label(worst.fraction)} sample gives ρ below {number(low, 2)}: "
            "shortlist on a sample, but decide between close candidates on the full data."
        )
        used = [a for a in agreements if a.dataset_id in near_ids]
        evidence = AnswerEvidence(
            datasets=tuple(d for d in nearest if d.dataset_id in {a.dataset_id for a in used}),
            pipelines=tuple(sorted(set(curves["pipeline_id"]))),
            sources=("lcdb",),
            metric=CURVE_METRIC,
            points=tuple(agreements),
        )
        method = (
            "Per LCDB dataset: Spearman's ρ between the learners' accuracies at a fraction of "
            "the largest training size (nearest curve size) and at the largest size at which "
            "80 % of its learners have results; mean and 10th percentile over the nearest "
            "datasets and over all LCDB datasets."
        )
        return self.answered(summary, tuple(rows), evidence, method)
