"""``NearestDatasets``: what worked on the most similar knowledge-base datasets."""

from __future__ import annotations

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

__all__ = ["NearestDatasets"]


class NearestDatasets(MetaLearner):
    """k nearest datasets on normalized meta-features (auto-sklearn 1.0 style).

    Distances are L1 on standardized log-qualities (mean over the qualities both datasets
    have). A pipeline's expected regret is the mean over the ``n_neighbors`` nearest
    datasets where it was evaluated, shrunk towards its mean over all datasets by
    ``shrinkage`` pseudo-neighbours (few neighbours, or none that ran it, fall back to the
    global picture). Observed scores on the new dataset move datasets that produced similar
    scores closer: each observation adds its squared standardized residual
    (``observation_noise`` as a fraction of the typical best−worst spread) to the distance.
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        shrinkage: float = 2.0,
        observation_noise: float = 0.075,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage
        self.observation_noise = observation_noise

    def _fit(self, view: KnowledgeBaseView) -> None:
        uniform = np.full(self.scores_.shape[0], 1.0 / self.scores_.shape[0])
        self.global_regret_ = known_or_worst(weighted_column_means(self.regret_, uniform))

    def neighbours(self, query: Query) -> np.ndarray:
        """Positions of the nearest training datasets, nearest first."""
        distances = np.where(
            np.isfinite(query.distances),
            query.distances,
            np.nanmax(query.distances, initial=0.0) + 1.0,
        )
        # likelihood of the observations as extra distance (log-likelihood is -0.5 z²)
        score = distances - self._observation_log_likelihood(query, self.observation_noise)
        k = max(1, min(self.n_neighbors, score.shape[0]))
        nearest = np.argpartition(score, k - 1)[:k]
        return nearest[np.argsort(score[nearest], kind="stable")]

    def _estimate(self, query: Query) -> Estimate:
        nearest = self.neighbours(query)
        weights = np.zeros(self.scores_.shape[0])
        weights[nearest] = 1.0 / nearest.size
        regret = self.regret_[nearest]
        known = np.isfinite(regret)
        count = known.sum(axis=0)
        total = np.where(known, regret, 0.0).sum(axis=0)
        expected = (total + self.shrinkage * self.global_regret_) / (count + self.shrinkage)
        low, high = weighted_column_quantiles(
            self.regret_, weights, (0.1, 0.9), self.regret_sorted_
        )
        low = np.where(np.isfinite(low), low, expected)
        high = np.where(np.isfinite(high), high, expected)
        predicted, lower, upper = self._scores_from_regret(expected, low, high, weights, query)
        return Estimate(predicted, lower, upper, dataset_weights=weights)
