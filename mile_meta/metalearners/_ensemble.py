"""``Ensemble``: a precise first pick from one learner, completed by a portfolio."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from sklearn.base import clone

from mile_meta.metalearners._base import Estimate, MetaLearner, Query
from mile_meta.metalearners._greedy_portfolio import GreedyPortfolio
from mile_meta.metalearners._nearest_datasets import NearestDatasets
from mile_meta.metalearners._view import KnowledgeBaseView

__all__ = ["Ensemble"]


class Ensemble(MetaLearner):
    """The ``leader``'s first ``n_leading`` pipelines, then a portfolio that complements them.

    On the Oboe benchmark the best single guess comes from a narrow neighbourhood (the
    nearest datasets), while the best *set* of guesses comes from a portfolio over a broad
    one; this learner takes each from where it is best. The portfolio treats the leader's
    picks (and observed pipelines) as already in the portfolio, so it adds what they lack.
    Predicted scores and intervals average the two learners'.

    **Described datasets lead.** A knowledge base mixes datasets described by many
    qualities (the defaults corpus: every mile-meta meta-feature) with datasets known by two
    (Oboe's). Distances over all of them can only use the two qualities nearly all share, so
    the nearest "neighbours" of a fully described dataset are often alike in size only. When
    at least ``min_described`` training datasets carry ``described_by`` qualities or more,
    the first pick for a query described as well comes from a ``leader`` fitted on those
    datasets alone and on the pipelines measured on at least half of them (a dense matrix,
    full distances); the rest is as above. A query known by few qualities (an Oboe dataset)
    is led as before.
    """

    orders_by_predicted_score: ClassVar[bool] = False

    def __init__(
        self,
        leader: MetaLearner | None = None,
        portfolio: GreedyPortfolio | None = None,
        n_leading: int = 1,
        described_by: int = 10,
        min_described: int = 20,
    ) -> None:
        self.leader = leader
        self.portfolio = portfolio
        self.n_leading = n_leading
        self.described_by = described_by
        self.min_described = min_described

    def _fit(self, view: KnowledgeBaseView) -> None:
        leader = self.leader if self.leader is not None else NearestDatasets()
        portfolio = self.portfolio if self.portfolio is not None else GreedyPortfolio()
        self.leader_ = clone(leader).fit(view)
        self.portfolio_ = clone(portfolio).fit(view)
        self.described_leader_: MetaLearner | None = None
        self.described_positions_ = np.zeros(0, dtype=int)
        described = _described_view(view, self.described_by)
        if described is None or described.n_datasets < self.min_described:
            return
        dense = described.with_pipelines_measured_on(math.ceil(described.n_datasets / 2))
        if dense.n_pipelines < 2 or dense.n_datasets < self.min_described:
            return
        self.described_leader_ = clone(leader).fit(dense)
        self.described_positions_ = np.array(
            [self.pipeline_position_[p] for p in dense.pipeline_ids], dtype=int
        )

    def _estimate(self, query: Query) -> Estimate:
        leading_estimate = self.leader_._estimate(query)
        weights = self.portfolio_.dataset_weights(query)
        portfolio_estimate = self.portfolio_._estimate(query)
        leading_order = (
            leading_estimate.order
            if leading_estimate.order is not None
            else np.argsort(-leading_estimate.predicted, kind="stable")
        )
        observed = set(query.observed_index.tolist())
        slots = max(0, self.n_leading - len(observed))
        first = self._described_first_pick(query, observed) if slots else None
        leading = [] if first is None else [first]
        leading += [int(p) for p in leading_order if int(p) not in observed | set(leading)]
        leading = leading[:slots]
        chosen = np.array(sorted(observed) + leading, dtype=int)
        tie_breaker = -portfolio_estimate.predicted  # higher predicted score first
        rest = self.portfolio_.portfolio_order(weights, chosen, tie_breaker)
        order = np.concatenate([np.array(leading, dtype=int), rest]).astype(int)
        return Estimate(
            predicted=(leading_estimate.predicted + portfolio_estimate.predicted) / 2,
            lower=(leading_estimate.lower + portfolio_estimate.lower) / 2,
            upper=(leading_estimate.upper + portfolio_estimate.upper) / 2,
            order=order,
            dataset_weights=weights,
        )

    def _described_first_pick(self, query: Query, observed: set[int]) -> int | None:
        """The described datasets' leader's first pick (a position of this learner), or None
        when there is no such leader or the query is not described as well."""
        learner = getattr(self, "described_leader_", None)
        if learner is None:
            return None
        features = learner.feature_space_.transform_mapping(query.meta_features)
        if np.isfinite(features).sum() < min(self.described_by, features.size):
            return None
        inner = {int(p): i for i, p in enumerate(self.described_positions_)}
        seen = [
            (inner[int(p)], float(score))
            for p, score in zip(query.observed_index, query.observed_scores, strict=True)
            if int(p) in inner
        ]
        sub_query = Query(
            features,
            learner.feature_space_.distances(features, learner.features_),
            np.array([position for position, _ in seen], dtype=int),
            np.array([score for _, score in seen], dtype=float),
            query.meta_features,
        )
        estimate = learner._estimate(sub_query)
        order = (
            estimate.order
            if estimate.order is not None
            else np.argsort(-estimate.predicted, kind="stable")
        )
        for position in order:
            outer = int(self.described_positions_[int(position)])
            if outer not in observed:
                return outer
        return None


def _described_view(view: KnowledgeBaseView, described_by: int) -> KnowledgeBaseView | None:
    """``view`` restricted to the datasets known by at least ``described_by`` qualities."""
    known = np.isfinite(view.meta_features.to_numpy(dtype=float)).sum(axis=1)
    ids = [d for d, count in zip(view.dataset_ids, known, strict=True) if count >= described_by]
    return view.only(ids) if ids else None
