"""``Ensemble``: a precise first pick from one learner, completed by a portfolio."""

from __future__ import annotations

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
    """

    orders_by_predicted_score: ClassVar[bool] = False

    def __init__(
        self,
        leader: MetaLearner | None = None,
        portfolio: GreedyPortfolio | None = None,
        n_leading: int = 1,
    ) -> None:
        self.leader = leader
        self.portfolio = portfolio
        self.n_leading = n_leading

    def _fit(self, view: KnowledgeBaseView) -> None:
        leader = self.leader if self.leader is not None else NearestDatasets()
        portfolio = self.portfolio if self.portfolio is not None else GreedyPortfolio()
        self.leader_ = clone(leader).fit(view)
        self.portfolio_ = clone(portfolio).fit(view)

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
        leading = [int(p) for p in leading_order if int(p) not in observed][:slots]
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
