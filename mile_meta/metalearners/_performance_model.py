"""``PerformanceModel``: a LightGBM model of normalized score from meta-features and pipeline."""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from mile_meta.metalearners._base import Estimate, MetaLearner, Query
from mile_meta.metalearners._features import similarity_weights
from mile_meta.metalearners._view import KnowledgeBaseView

__all__ = ["PerformanceModel"]

_EVIDENCE_BANDWIDTH = 0.5


class PerformanceModel(MetaLearner):
    """Gradient-boosted trees predicting a pipeline's normalized regret on a dataset.

    One row per evaluated (dataset, pipeline): the dataset's scaled meta-features (missing
    values left to LightGBM) and the pipeline's descriptors: its position and family as
    categories, and ``n_pipeline_factors`` leading singular vectors of the training regret
    matrix (which pipelines behave alike). Intervals add the 10 % and 90 % quantiles of each
    pipeline's training residuals. Observed scores on the new dataset correct the remaining
    predictions by the residuals of the observed pipelines, spread to pipelines that
    behave alike (correlation of their regrets over the training datasets).
    """

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        n_pipeline_factors: int = 4,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_pipeline_factors = n_pipeline_factors
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, view: KnowledgeBaseView) -> None:
        import lightgbm

        regret = self.filled_regret_
        n_datasets, n_pipelines = regret.shape
        families = sorted(set(self.families_))
        self.family_codes_ = np.array([families.index(f) for f in self.families_], dtype=float)
        centred = regret - regret.mean(axis=0)
        with threadpool_limits(limits=1):  # a small matrix: threads only cost
            _, singular, right = np.linalg.svd(centred, full_matrices=False)
        k = min(self.n_pipeline_factors, right.shape[0])
        self.pipeline_descriptors_ = np.column_stack(
            [
                np.arange(n_pipelines, dtype=float),
                self.family_codes_,
                regret.mean(axis=0),
                right[:k].T * singular[:k] / np.sqrt(n_datasets),
            ]
        )
        rows, columns = np.nonzero(np.isfinite(self.regret_))
        design = np.column_stack([self.features_[rows], self.pipeline_descriptors_[columns]])
        target = self.regret_[rows, columns]
        n_features = self.features_.shape[1]
        self.model_ = lightgbm.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.9,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            verbose=-1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.model_.fit(design, target, categorical_feature=[n_features, n_features + 1])
        residual = target - self.model_.predict(design)
        low = np.full(n_pipelines, np.nan)
        high = np.full(n_pipelines, np.nan)
        for column in range(n_pipelines):
            values = residual[columns == column]
            if values.size:
                low[column], high[column] = np.quantile(values, [0.1, 0.9])
        spread = np.nanmedian(high - low) if np.isfinite(high - low).any() else 0.2
        self.residual_low_ = np.where(np.isfinite(low), low, -spread / 2)
        self.residual_high_ = np.where(np.isfinite(high), high, spread / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = np.corrcoef(regret, rowvar=False)
        self.pipeline_correlation_ = np.nan_to_num(correlation, nan=0.0)

    def _estimate(self, query: Query) -> Estimate:
        n_pipelines = self.pipeline_descriptors_.shape[0]
        design = np.column_stack(
            [np.repeat(query.features[None, :], n_pipelines, axis=0), self.pipeline_descriptors_]
        )
        expected = np.clip(self.model_.predict(design), 0.0, 1.0)
        weights = similarity_weights(query.distances, _EVIDENCE_BANDWIDTH)
        if query.observed_index.size:
            expected = self._corrected(expected, weights, query)
        low = np.clip(expected + self.residual_low_, 0.0, 1.0)
        high = np.clip(expected + self.residual_high_, 0.0, 1.0)
        predicted, lower, upper = self._scores_from_regret(expected, low, high, weights, query)
        return Estimate(predicted, lower, upper)

    def _corrected(self, expected: np.ndarray, weights: np.ndarray, query: Query) -> np.ndarray:
        """Spread the observed pipelines' residuals to correlated pipelines."""
        best = float(np.sum(weights * self.best_))
        worst = float(np.sum(weights * self.worst_))
        spread = max(best - worst, 1e-9)
        observed_regret = np.clip((best - query.observed_scores) / spread, 0.0, 1.0)
        # What is left of the observed pipelines' residuals after this correction is the
        # dataset's level, which _scores_from_regret shifts.
        residual = observed_regret - expected[query.observed_index]
        similarity = np.clip(self.pipeline_correlation_[:, query.observed_index], 0.0, 1.0)
        total = similarity.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            correction = np.where(
                total > 0, (similarity**2 @ residual) / np.maximum(total, 1e-9), 0.0
            )
        return np.clip(expected + correction, 0.0, 1.0)
