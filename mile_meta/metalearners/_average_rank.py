"""``AverageRank``: the pipelines that rank best on average over the knowledge base."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mile_meta.metalearners._base import (
    Estimate,
    MetaLearner,
    Query,
    known_or_worst,
    weighted_column_means,
    weighted_column_quantiles,
)
from mile_meta.metalearners._view import KnowledgeBaseView

__all__ = ["AverageRank"]


class AverageRank(MetaLearner):
    """Order by mean rank over the training datasets; ignores the new dataset.

    Each dataset ranks only the pipelines evaluated on it, as a fraction (0 = its best,
    1 = its worst), so a pipeline run on few datasets is not favoured or punished by the
    count; ``prior_strength`` pseudo-datasets at rank 0.5 keep a pipeline with one lucky
    result from the top. The baseline every other learner must beat.
    """

    orders_by_predicted_score: ClassVar[bool] = False
    uses_observed: ClassVar[bool] = False

    def __init__(self, prior_strength: float = 1.0) -> None:
        self.prior_strength = prior_strength

    def _fit(self, view: KnowledgeBaseView) -> None:
        evaluated = np.isfinite(self.scores_)
        counts = evaluated.sum(axis=1, keepdims=True)
        fraction = np.where(evaluated, (self.rank_on_dataset_ - 1) / np.maximum(counts - 1, 1), 0.0)
        total = fraction.sum(axis=0) + 0.5 * self.prior_strength
        self.mean_rank_ = total / (evaluated.sum(axis=0) + self.prior_strength)
        uniform = np.full(self.scores_.shape[0], 1.0 / self.scores_.shape[0])
        self.mean_regret_ = weighted_column_means(self.regret_, uniform)
        self.low_regret_, self.high_regret_ = weighted_column_quantiles(
            self.regret_, uniform, (0.1, 0.9), self.regret_sorted_
        )
        self.order_ = np.argsort(self.mean_rank_, kind="stable")

    def _estimate(self, query: Query) -> Estimate:
        uniform = np.full(self.scores_.shape[0], 1.0 / self.scores_.shape[0])
        predicted, lower, upper = self._scores_from_regret(
            known_or_worst(self.mean_regret_),
            known_or_worst(self.low_regret_),
            known_or_worst(self.high_regret_),
            uniform,
            query,
        )
        return Estimate(predicted, lower, upper, order=self.order_)
