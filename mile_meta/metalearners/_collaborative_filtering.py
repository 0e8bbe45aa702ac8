"""``CollaborativeFiltering``: low-rank completion of the dataset × pipeline matrix (Oboe style)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from mile_meta.metalearners._base import Estimate, MetaLearner, Query, normal_interval
from mile_meta.metalearners._features import similarity_weights
from mile_meta.metalearners._view import KnowledgeBaseView

__all__ = ["CollaborativeFiltering"]


class CollaborativeFiltering(MetaLearner):
    """Low-rank model of scores: ``score[d, p] ≈ mean[p] + dataset_factors[d] · pipeline_factors[p]``.

    Fitting fills the missing cells by iterated truncated SVD (EM for a low-rank matrix with
    missing entries), so a sparse matrix is fine. A new dataset's factors get a Gaussian
    prior: centred on the factors of datasets with similar meta-features (side information,
    ``similarity_bandwidth``; ``None`` centres on the average dataset) with the spread of all
    training datasets. Observed scores update it by Bayesian linear regression, which is
    how Oboe turns a few probes into a full row; predictions carry the posterior spread.
    """

    def __init__(
        self,
        n_factors: int = 10,
        similarity_bandwidth: float | None = 0.5,
        n_iterations: int = 30,
        noise_floor: float = 1e-4,
    ) -> None:
        self.n_factors = n_factors
        self.similarity_bandwidth = similarity_bandwidth
        self.n_iterations = n_iterations
        self.noise_floor = noise_floor

    def _fit(self, view: KnowledgeBaseView) -> None:
        scores = self.scores_
        known = np.isfinite(scores)
        filled = self.filled_scores_.copy()
        rank = max(1, min(self.n_factors, min(scores.shape) - 1 if min(scores.shape) > 1 else 1))
        iterations = self.n_iterations if not known.all() else 1
        with threadpool_limits(limits=1):
            self._factorize(scores, known, filled, rank, iterations)

    def _factorize(
        self, scores: np.ndarray, known: np.ndarray, filled: np.ndarray, rank: int, iterations: int
    ) -> None:
        # Small matrices: BLAS threads cost more than they save (and fight other processes).
        for _ in range(iterations):
            column_mean = filled.mean(axis=0)
            left, singular, right = np.linalg.svd(filled - column_mean, full_matrices=False)
            approximation = column_mean + (left[:, :rank] * singular[:rank]) @ right[:rank]
            filled = np.where(known, scores, approximation)
        column_mean = filled.mean(axis=0)
        left, singular, right = np.linalg.svd(filled - column_mean, full_matrices=False)
        self.column_mean_ = column_mean
        self.pipeline_factors_ = right[:rank].T  # (pipelines, rank), orthonormal columns
        self.dataset_factors_ = left[:, :rank] * singular[:rank]
        residual = (filled - column_mean - self.dataset_factors_ @ self.pipeline_factors_.T)[known]
        self.noise_variance_ = max(float(np.mean(residual**2)), self.noise_floor)
        self.factor_covariance_ = np.cov(self.dataset_factors_, rowvar=False).reshape(
            rank, rank
        ) + (1e-6 * np.eye(rank))

    def _estimate(self, query: Query) -> Estimate:
        weights = similarity_weights(query.distances, self.similarity_bandwidth)
        prior_mean = weights @ self.dataset_factors_
        prior_precision = np.linalg.inv(self.factor_covariance_)
        precision = prior_precision.copy()
        information = prior_precision @ prior_mean
        if query.observed_index.size:
            factors = self.pipeline_factors_[query.observed_index]
            centred = query.observed_scores - self.column_mean_[query.observed_index]
            precision = precision + factors.T @ factors / self.noise_variance_
            information = information + factors.T @ centred / self.noise_variance_
        covariance = np.linalg.inv(precision)
        posterior_mean = covariance @ information
        predicted = self.column_mean_ + self.pipeline_factors_ @ posterior_mean
        variance = (
            np.einsum("pr,rs,ps->p", self.pipeline_factors_, covariance, self.pipeline_factors_)
            + self.noise_variance_
        )
        lower, upper = normal_interval(predicted, np.sqrt(variance))
        return Estimate(predicted, lower, upper)
