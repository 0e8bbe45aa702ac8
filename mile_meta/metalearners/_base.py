"""``MetaLearner``: the one extension point of the recommender.

Contract (every implementation is run through ``tests/metalearners/test_contract.py``):

* ``__init__`` only stores hyperparameters (scikit-learn convention, so ``get_params``,
  ``set_params`` and ``sklearn.base.clone`` work); learned state ends in ``_``.
* ``fit(view)`` learns from a :class:`KnowledgeBaseView` and returns ``self``.
* ``rank(meta_features, observed=None)`` returns a :class:`Ranking` of every pipeline in the
  view, once each. ``meta_features`` maps OpenML quality names to values (missing or unknown
  names are fine); ``observed`` maps pipeline ids to scores measured on the new dataset, in
  the metric's own unit (adaptive mode), and a learner that uses them re-ranks the rest.

A subclass implements ``_fit(view)`` and ``_estimate(query) -> Estimate``; the public
methods validate inputs, place observed pipelines, attach evidence and expected runtimes,
and convert to the metric's unit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator

from mile_meta.errors import ModelError
from mile_meta.metalearners._features import MetaFeatureSpace, similarity_weights
from mile_meta.metalearners._ranking import Evidence, RankedPipeline, Ranking
from mile_meta.metalearners._view import KnowledgeBaseView, normalized_regret

__all__ = ["Estimate", "MetaLearner", "Query"]

# Evidence and runtimes lean on the datasets closest in meta-features; this bandwidth (in
# standardized log units) makes a dataset twice as large count about half as much.
EVIDENCE_BANDWIDTH = 0.5
Z_10_90 = 1.2815515655446004  # standard normal 90 % quantile
FILL_PRIOR_DATASETS = 3.0  # pseudo-datasets behind a pipeline's filled regret (_mean_fill)
LEVEL_POOLING = 2.0  # pseudo-observations behind the neighbours' level (see _scores_from_regret)


@dataclass(frozen=True)
class Query:
    """A new dataset as the learners see it (view orientation: higher is better)."""

    features: np.ndarray  # scaled meta-features, NaN where unknown
    distances: np.ndarray  # to each training dataset, NaN where nothing is shared
    observed_index: np.ndarray  # pipeline positions evaluated on the new dataset
    observed_scores: np.ndarray  # their scores, higher is better
    meta_features: Mapping[str, float | None] = field(default_factory=dict)  # as given


@dataclass(frozen=True)
class Estimate:
    """A learner's answer before it becomes a :class:`Ranking` (view orientation).

    ``order`` lists pipeline positions in the order to try them (None: by predicted score);
    ``dataset_weights`` says how much each training dataset informed the answer (None: by
    meta-feature similarity), used for evidence and runtimes.
    """

    predicted: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    order: np.ndarray | None = None
    dataset_weights: np.ndarray | None = None


class MetaLearner(BaseEstimator, ABC):
    """Base class of meta-learners; see the module docstring for the contract."""

    #: False for portfolio-style learners, whose order is not by predicted score.
    orders_by_predicted_score: ClassVar[bool] = True
    #: Whether ``observed`` changes the order of the pipelines not yet evaluated.
    uses_observed: ClassVar[bool] = True

    # -- public --------------------------------------------------------------------------
    def fit(self, view: KnowledgeBaseView) -> Self:
        """Learn from ``view``; returns ``self``."""
        if not isinstance(view, KnowledgeBaseView):
            raise TypeError(f"fit expects a KnowledgeBaseView, got {type(view).__name__}")
        evaluated = np.isfinite(view.scores)
        if view.n_datasets < 2 or view.n_pipelines < 1 or not evaluated.any():
            raise ModelError(
                f"{type(self).__name__} needs results of at least one pipeline on two datasets; "
                f"the {view.metric} view has {view.n_datasets} datasets and "
                f"{view.n_pipelines} pipelines"
            )
        self.metric_ = view.metric
        self.higher_is_better_ = view.higher_is_better
        self.pipeline_ids_ = tuple(view.pipeline_ids)
        self.families_ = tuple(str(f) for f in view.pipelines["family"].fillna("unknown"))
        self.dataset_ids_ = tuple(view.dataset_ids)
        self.dataset_names_ = tuple(view.dataset_names)
        self.scores_ = np.array(view.scores, dtype=float)
        self.best_ = np.nanmax(np.where(evaluated, self.scores_, -np.inf), axis=1)
        self.worst_ = np.nanmin(np.where(evaluated, self.scores_, np.inf), axis=1)
        with np.errstate(divide="ignore"):
            self.log_runtime_ = np.log(
                np.where(view.runtime_seconds > 0, view.runtime_seconds, np.nan)
            )
        self.feature_space_ = MetaFeatureSpace.fit(view.meta_features)
        self.features_ = self.feature_space_.transform_frame(view.meta_features)
        self._derive()
        self._fit(view)
        return self

    # Learned state recomputed from ``scores_`` after unpickling instead of being saved:
    # it would triple the size of a saved model.
    _DERIVED_STATE: ClassVar[tuple[str, ...]] = (
        "regret_",
        "rank_on_dataset_",
        "pipeline_position_",
        "filled_scores_",
        "filled_regret_",
        "regret_sorted_",
    )

    def _derive(self) -> None:
        self.regret_ = normalized_regret(self.scores_)
        self.rank_on_dataset_ = _ranks_within_rows(self.scores_)
        self.pipeline_position_ = {pid: i for i, pid in enumerate(self.pipeline_ids_)}
        self.filled_scores_ = _additive_fill(self.scores_)
        self.filled_regret_ = _mean_fill(self.regret_)
        self.regret_sorted_ = column_sort(self.regret_)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        for name in self._DERIVED_STATE:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "scores_" in state:
            self._derive()
            self._restore()

    def _restore(self) -> None:
        """Recompute a subclass's own derived state after unpickling (default: none)."""

    def rank(
        self,
        meta_features: Mapping[str, float | None],
        observed: Mapping[str, float] | None = None,
        *,
        evidence: int = 3,
    ) -> Ranking:
        """Rank every pipeline for a new dataset described by ``meta_features``.

        ``observed`` maps pipeline ids to scores measured on the new dataset (metric's own
        unit); ``evidence`` is the number of knowledge-base datasets cited per pipeline.
        """
        if not hasattr(self, "pipeline_ids_"):
            raise ModelError(f"{type(self).__name__} is not fitted; call fit(view) first")
        query = self._query(meta_features, observed)
        estimate = self._estimate(query)
        return self._assemble(estimate, query, evidence)

    # -- for subclasses ------------------------------------------------------------------
    @abstractmethod
    def _fit(self, view: KnowledgeBaseView) -> None:
        """Learn what ``_estimate`` needs (the base has stored the shared state)."""

    @abstractmethod
    def _estimate(self, query: Query) -> Estimate:
        """Predicted scores, intervals and optionally an order for ``query``."""

    def _scores_from_regret(
        self,
        expected_regret: np.ndarray,
        low_regret: np.ndarray,
        high_regret: np.ndarray,
        weights: np.ndarray,
        query: Query,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Map normalized regrets to scores with the weighted datasets' best and worst scores.

        Observed scores on the new dataset then shift every prediction by their mean
        residual: they say how hard this dataset is compared with its neighbours.
        """
        best = float(np.sum(weights * self.best_))
        worst = float(np.sum(weights * self.worst_))
        spread = max(best - worst, 0.0)
        predicted = best - expected_regret * spread
        lower = best - high_regret * spread
        upper = best - low_regret * spread
        observed = query.observed_index.size
        if observed:
            # Partial pooling: a residual is part dataset (easier or harder than its
            # neighbours), part the pipeline itself; one observation moves the level a third
            # of the way, many move it nearly all the way.
            residual = float(np.mean(query.observed_scores - predicted[query.observed_index]))
            shift = residual * observed / (observed + LEVEL_POOLING)
            predicted, lower, upper = predicted + shift, lower + shift, upper + shift
        return predicted, lower, upper

    def _observation_log_likelihood(self, query: Query, noise: float) -> np.ndarray:
        """Log-likelihood of each training dataset having produced the observed scores.

        ``noise`` is a fraction of the median best−worst spread of the training datasets,
        so the same setting works for accuracies and for log-losses. Missing cells are
        filled by an additive dataset + pipeline model.
        """
        if not query.observed_index.size:
            return np.zeros(self.scores_.shape[0])
        scale = noise * self._median_spread()
        filled = self.filled_scores_[:, query.observed_index]
        residual = (filled - query.observed_scores[None, :]) / scale
        return -0.5 * np.sum(residual**2, axis=1)

    def _median_spread(self) -> float:
        spread = self.best_ - self.worst_
        finite = spread[np.isfinite(spread) & (spread > 0)]
        return float(np.median(finite)) if finite.size else 1.0

    # -- internals -----------------------------------------------------------------------
    def _query(
        self, meta_features: Mapping[str, float | None], observed: Mapping[str, float] | None
    ) -> Query:
        if meta_features is None:
            meta_features = {}
        if not isinstance(meta_features, Mapping):
            raise TypeError("meta_features must map OpenML quality names to numbers")
        features = self.feature_space_.transform_mapping(meta_features)
        distances = self.feature_space_.distances(features, self.features_)
        index: list[int] = []
        scores: list[float] = []
        sign = 1.0 if self.higher_is_better_ else -1.0
        for pipeline_id, value in (observed or {}).items():
            position = self.pipeline_position_.get(str(pipeline_id))
            if position is None:
                raise ModelError(
                    f"observed pipeline {pipeline_id} is not one this meta-learner ranks; "
                    "pass ids taken from its ranking"
                )
            number = float(value)
            if not np.isfinite(number):
                raise ModelError(
                    f"observed score of {pipeline_id} is {value!r}; pass a finite number"
                )
            index.append(position)
            scores.append(sign * number)
        return Query(
            features,
            distances,
            np.array(index, dtype=int),
            np.array(scores, dtype=float),
            dict(meta_features),
        )

    def _assemble(self, estimate: Estimate, query: Query, n_evidence: int) -> Ranking:
        # No prediction beyond what the knowledge base has seen (a linear model can overshoot).
        low_end, high_end = float(np.nanmin(self.scores_)), float(np.nanmax(self.scores_))
        predicted = np.clip(np.array(estimate.predicted, dtype=float), low_end, high_end)
        lower = np.minimum(
            np.clip(np.array(estimate.lower, dtype=float), low_end, high_end), predicted
        )
        upper = np.maximum(
            np.clip(np.array(estimate.upper, dtype=float), low_end, high_end), predicted
        )
        observed_mask = np.zeros(predicted.shape[0], dtype=bool)
        if query.observed_index.size:
            observed_mask[query.observed_index] = True
            predicted[query.observed_index] = query.observed_scores
            lower[query.observed_index] = query.observed_scores
            upper[query.observed_index] = query.observed_scores
        order = self._merged_order(estimate.order, predicted, observed_mask)

        weights = estimate.dataset_weights
        if weights is None:
            weights = similarity_weights(query.distances, EVIDENCE_BANDWIDTH)
        runtimes = self._expected_runtimes(weights)
        evidence = self._evidence(weights, query.distances, n_evidence)

        sign = 1.0 if self.higher_is_better_ else -1.0
        # in the metric's unit; for a lower-is-better metric the interval's ends swap
        scores = (sign * predicted).tolist()
        lows = (sign * (lower if sign > 0 else upper)).tolist()
        highs = (sign * (upper if sign > 0 else lower)).tolist()
        seconds = [value if np.isfinite(value) else None for value in runtimes.tolist()]
        was_observed = observed_mask.tolist()
        ranked = [
            RankedPipeline(
                pipeline_id=self.pipeline_ids_[position],
                family=self.families_[position],
                predicted_score=scores[position],
                lower=lows[position],
                upper=highs[position],
                expected_runtime_seconds=seconds[position],
                evidence=evidence[position],
                observed_score=scores[position] if was_observed[position] else None,
            )
            for position in order
        ]
        return Ranking(self.metric_, self.higher_is_better_, type(self).__name__, tuple(ranked))

    def _merged_order(
        self, order: np.ndarray | None, predicted: np.ndarray, observed_mask: np.ndarray
    ) -> list[int]:
        if order is None:
            # stable sort: ties keep the view's order, so rankings are deterministic
            order = np.argsort(-predicted, kind="stable")
        seen = set()
        unobserved = []
        for position in order:
            position = int(position)
            if position not in seen and not observed_mask[position]:
                unobserved.append(position)
            seen.add(position)
        unobserved.extend(
            i
            for i in np.argsort(-predicted, kind="stable")
            if i not in seen and not observed_mask[i]
        )
        observed = sorted(np.flatnonzero(observed_mask).tolist(), key=lambda i: -predicted[i])
        # An observed pipeline goes just before the first untried one predicted to do worse.
        merged: list[int] = []
        next_observed = 0
        for position in unobserved:
            while (
                next_observed < len(observed)
                and predicted[observed[next_observed]] >= predicted[position]
            ):
                merged.append(observed[next_observed])
                next_observed += 1
            merged.append(position)
        merged.extend(observed[next_observed:])
        return merged

    def _expected_runtimes(self, weights: np.ndarray) -> np.ndarray:
        """Weighted geometric mean of each pipeline's runtimes (NaN if never timed)."""
        return np.exp(weighted_column_means(self.log_runtime_, weights))

    def _evidence(
        self, weights: np.ndarray, distances: np.ndarray, n_evidence: int
    ) -> list[tuple[Evidence, ...]]:
        n_pipelines = self.scores_.shape[1]
        if n_evidence <= 0:
            return [()] * n_pipelines
        tie_break = np.where(np.isfinite(distances), distances, np.inf)
        order = np.lexsort((tie_break, -weights))
        evaluated = np.isfinite(self.scores_[order])
        # the first n_evidence evaluated rows of each column, in weight order
        chosen = evaluated & (np.cumsum(evaluated, axis=0) <= n_evidence)
        columns, positions = np.nonzero(chosen.T)  # sorted by column, then position
        rows = order[positions]
        sign = 1.0 if self.higher_is_better_ else -1.0
        observed_scores = (sign * self.scores_[rows, columns]).tolist()
        ranks = self.rank_on_dataset_[rows, columns].tolist()
        described = {
            row: (
                self.dataset_ids_[row],
                self.dataset_names_[row],
                float(distances[row]) if np.isfinite(distances[row]) else None,
            )
            for row in set(rows.tolist())
        }
        grouped: list[list[Evidence]] = [[] for _ in range(n_pipelines)]
        for column, row, score, rank in zip(
            columns.tolist(), rows.tolist(), observed_scores, ranks, strict=True
        ):
            dataset_id, name, distance = described[row]
            grouped[column].append(Evidence(dataset_id, name, distance, score, rank))
        return [tuple(items) for items in grouped]


def _ranks_within_rows(scores: np.ndarray) -> np.ndarray:
    """1 for the best evaluated pipeline of each dataset (ties share the better rank)."""
    filled = np.where(np.isfinite(scores), scores, -np.inf)
    # rank = 1 + number of pipelines strictly better
    order = np.sort(filled, axis=1)[:, ::-1]
    ranks = np.empty(scores.shape, dtype=int)
    for row in range(scores.shape[0]):
        ranks[row] = 1 + np.searchsorted(-order[row], -filled[row], side="left")
    return ranks


def _additive_fill(scores: np.ndarray) -> np.ndarray:
    """Fill NaN cells with dataset mean + pipeline effect (a two-way additive model)."""
    evaluated = np.isfinite(scores)
    if evaluated.all():
        return scores.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        row_mean = np.where(evaluated, scores, 0.0).sum(axis=1) / evaluated.sum(axis=1)
        row_mean = np.where(np.isfinite(row_mean), row_mean, np.nanmean(scores))
        centred = np.where(evaluated, scores - row_mean[:, None], 0.0)
        column_effect = centred.sum(axis=0) / evaluated.sum(axis=0)
    column_effect = np.where(np.isfinite(column_effect), column_effect, 0.0)
    return np.where(evaluated, scores, row_mean[:, None] + column_effect[None, :])


def _mean_fill(regret: np.ndarray) -> np.ndarray:
    """Normalized regret with missing cells set to the pipeline's mean regret, shrunk toward
    the mean of all known regrets by :data:`FILL_PRIOR_DATASETS` pseudo-datasets (1, the
    worst, for a pipeline never run).

    Without shrinkage a pipeline evaluated on one dataset only — auto-sklearn's incumbents,
    a pipeline only the user ran — gets that dataset's regret (often 0: it was the only one
    there) on every dataset it never saw, and a portfolio picks it first everywhere.
    """
    known = np.isfinite(regret)
    total = known.sum(axis=0)
    overall = float(np.mean(regret[known])) if known.any() else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sums = np.where(known, regret, 0.0).sum(axis=0)
        column_mean = (sums + FILL_PRIOR_DATASETS * overall) / (total + FILL_PRIOR_DATASETS)
    column_mean = np.where(total > 0, column_mean, 1.0)  # never run: the worst
    return np.where(known, regret, column_mean[None, :])


def column_sort(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's ascending order and sorted values (unknown entries last, as inf)."""
    filled = np.where(np.isfinite(values), values, np.inf)
    order = np.argsort(filled, axis=0, kind="stable")
    return order, np.take_along_axis(filled, order, axis=0)


def weighted_column_quantiles(
    values: np.ndarray,
    weights: np.ndarray,
    quantiles: tuple[float, ...],
    sorted_columns: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Weighted quantiles of each column over its finite entries (NaN for an empty column).

    ``sorted_columns`` is ``column_sort(values)`` when the caller computed it once already.
    """
    order, sorted_values = sorted_columns if sorted_columns is not None else column_sort(values)
    sorted_weights = np.where(np.isfinite(sorted_values), weights[order], 0.0)
    cumulative = np.cumsum(sorted_weights, axis=0)
    total = cumulative[-1]
    out = []
    for quantile in quantiles:
        position = np.argmax(cumulative >= quantile * total[None, :] - 1e-12, axis=0)
        chosen = sorted_values[position, np.arange(values.shape[1])]
        out.append(np.where((total > 0) & np.isfinite(chosen), chosen, np.nan))
    return out


def weighted_column_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each column over its finite entries (NaN for an empty column)."""
    known = np.isfinite(values)
    if known.all():
        return np.asarray(weights @ values / weights.sum())
    total = weights @ known
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (weights @ np.where(known, values, 0.0)) / total, np.nan)


def known_or_worst(regret: np.ndarray) -> np.ndarray:
    """Regret with unknown entries (a pipeline never run) set to 1, the worst."""
    return np.where(np.isfinite(regret), regret, 1.0)


def normal_interval(mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 10–90 % interval of a normal distribution."""
    return mean - Z_10_90 * std, mean + Z_10_90 * std
