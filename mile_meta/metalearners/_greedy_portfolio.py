"""``GreedyPortfolio``: pipelines chosen so the best of the first k is as good as possible."""

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
from mile_meta.metalearners._features import similarity_weights
from mile_meta.metalearners._view import KnowledgeBaseView

__all__ = ["GreedyPortfolio"]


class GreedyPortfolio(MetaLearner):
    """Greedy portfolio over weighted training datasets (auto-sklearn 2.0 style, conditioned).

    Step i adds the pipeline that most lowers the weighted mean, over training datasets, of
    the normalized regret of the best pipeline chosen so far; a pipeline that repeats what
    is already in the portfolio gains nothing, so the first k are complementary.

    The weights make the portfolio about the new dataset:

    * ``similarity_bandwidth`` (standardized log-quality units) weights training datasets by
      meta-feature similarity; ``None`` weights them all the same (the classic portfolio).
    * observed scores re-weight them by how likely each was to produce those scores
      (Gaussian, ``observation_noise`` as a fraction of the typical best−worst spread), and
      the portfolio continues from the observed pipelines instead of repeating them.
    * ``uniform_share`` of the weight stays spread over all datasets, a guard against
      trusting a few neighbours too much.

    After ``portfolio_size`` pipelines the rest follow by weighted mean regret.
    """

    orders_by_predicted_score: ClassVar[bool] = False

    def __init__(
        self,
        portfolio_size: int = 25,
        similarity_bandwidth: float | None = 0.5,
        observation_noise: float = 0.15,
        uniform_share: float = 0.1,
    ) -> None:
        self.portfolio_size = portfolio_size
        self.similarity_bandwidth = similarity_bandwidth
        self.observation_noise = observation_noise
        self.uniform_share = uniform_share

    _DERIVED_STATE = (*MetaLearner._DERIVED_STATE, "filled_regret32_")

    def _fit(self, view: KnowledgeBaseView) -> None:
        self._restore()

    def _restore(self) -> None:
        # single precision halves the memory the greedy steps stream through
        self.filled_regret32_ = self.filled_regret_.astype(np.float32)

    def dataset_weights(self, query: Query) -> np.ndarray:
        """Weight of each training dataset for ``query`` (sums to 1)."""
        prior = similarity_weights(query.distances, self.similarity_bandwidth)
        log_weights = np.log(np.maximum(prior, 1e-300))
        log_weights = log_weights + self._observation_log_likelihood(query, self.observation_noise)
        weights = np.exp(log_weights - log_weights.max())
        weights /= weights.sum()
        n = weights.shape[0]
        return (1.0 - self.uniform_share) * weights + self.uniform_share / n

    def _estimate(self, query: Query) -> Estimate:
        weights = self.dataset_weights(query)
        mean_regret = known_or_worst(weighted_column_means(self.regret_, weights))
        low, high = weighted_column_quantiles(
            self.regret_, weights, (0.1, 0.9), self.regret_sorted_
        )
        predicted, lower, upper = self._scores_from_regret(
            mean_regret, known_or_worst(low), known_or_worst(high), weights, query
        )
        order = self.portfolio_order(weights, query.observed_index, mean_regret)
        return Estimate(predicted, lower, upper, order=order, dataset_weights=weights)

    def portfolio_order(
        self, weights: np.ndarray, already_chosen: np.ndarray, tie_breaker: np.ndarray
    ) -> np.ndarray:
        """Pipeline positions completing a portfolio that already holds ``already_chosen``.

        The first ``portfolio_size`` are greedy; the rest follow by ``tie_breaker`` (lower
        first); ``already_chosen`` is not repeated.
        """
        return _greedy_order(
            self.filled_regret32_, weights, already_chosen, self.portfolio_size, tie_breaker
        )


def _greedy_order(
    regret: np.ndarray,
    weights: np.ndarray,
    already_tried: np.ndarray,
    size: int,
    tie_breaker: np.ndarray,
) -> np.ndarray:
    """Greedy portfolio positions, then the remaining pipelines by ``tie_breaker``."""
    n_datasets, n_pipelines = regret.shape
    current = np.ones(n_datasets, dtype=regret.dtype)
    if already_tried.size:
        current = np.minimum(current, regret[:, already_tried].min(axis=1))
    available = np.ones(n_pipelines, dtype=bool)
    available[already_tried] = False
    # equal gains (nothing left to gain) fall back to the mean regret
    penalty = 1e-9 * tie_breaker
    weights = weights.astype(regret.dtype)
    chosen: list[int] = []
    for _ in range(min(size, int(available.sum()))):
        gain = weights @ np.maximum(current[:, None] - regret, 0.0) - penalty
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        current = np.minimum(current, regret[:, best])
    rest = np.flatnonzero(available)
    rest = rest[np.argsort(tie_breaker[rest], kind="stable")]
    return np.concatenate([np.array(chosen, dtype=int), rest]).astype(int)
