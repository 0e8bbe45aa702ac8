"""Initial designs: where a search starts.

``WarmStartDesign`` takes the prior's starting configurations (the meta-learner's ranking
projected onto the space: :attr:`mile_meta.priors.Prior.starting_configurations`, what the
exported prior hands another optimizer), a few per family so one family cannot fill the
design, the cheapest of the near-best of each, and, for each family of the space the
knowledge base knows nothing about, that family's default configuration, so the prior's blind
spots cost one evaluation each; with ``context.portfolio`` it also takes the first
configurations of the portfolios AutoML tools ship
(:func:`mile_meta.sources.portfolios.portfolio_configurations`).
``DefaultDesign`` starts from every estimator's defaults; ``NoInitialDesign``
leaves everything to the optimizer (the cold baselines).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import zip_longest
from typing import TYPE_CHECKING

from mile_meta.search._base import InitialDesign, SearchContext, admits
from mile_meta.search._records import Candidate
from mile_meta.search._space import SearchSpace

if TYPE_CHECKING:
    from mile_meta.priors import StartingConfiguration

__all__ = ["DefaultDesign", "NoInitialDesign", "WarmStartDesign"]

_QUICK = {"n_estimators": 16, "num_leaves": 8, "learning_rate": 0.2}


def _ranked(item: StartingConfiguration) -> int:
    """The configuration's rank in the meta-learner's ranking (its best, when several
    ranked pipelines project onto it)."""
    return item.source_ranks[0]


def _defaults(space: SearchSpace, estimators: Iterable[str], reason: str) -> Iterator[Candidate]:
    for estimator in estimators:
        config = space.estimator(estimator).defaults()
        yield Candidate(
            space.spec_for(estimator, config), reason.format(estimator=estimator), "default", config
        )


class NoInitialDesign(InitialDesign):
    """Nothing: the optimizer proposes every candidate."""

    def _select(self, space: SearchSpace, context: SearchContext) -> Iterable[Candidate]:
        return ()


class DefaultDesign(InitialDesign):
    """The default configuration of every estimator in the space, in the space's order."""

    def _select(self, space: SearchSpace, context: SearchContext) -> Iterable[Candidate]:
        return _defaults(space, space.estimator_names, "default configuration of {estimator}")


class WarmStartDesign(InitialDesign):
    """The prior's starting configurations, family by family, interleaved with the defaults
    of the families the knowledge base holds no results for; without a prior, every default.

    Families whose best recommendation ranks in the top ``top_fraction`` take turns in the
    order of that rank (at most ``per_family`` each, ``size`` in all). From a family it takes
    the cheapest configuration (by the knowledge base's fit times) among those ranked within
    ``window`` (a share of the ranking) of the family's best: on small budgets a configuration
    nearly as good but ten times faster is the better first step.
    """

    def __init__(
        self,
        size: int = 8,
        per_family: int = 2,
        top_fraction: float = 0.05,
        window: float = 0.05,
        cover_unseen_families: bool = True,
    ) -> None:
        self.size = size
        self.per_family = per_family
        self.top_fraction = top_fraction
        self.window = window
        self.cover_unseen_families = cover_unseen_families

    def _first(self, space: SearchSpace, context: SearchContext) -> Candidate | None:
        # A small LightGBM: a fraction of a second on most data, rarely a bad model. It is
        # in the optimizer's space, so TPE learns from it too.
        for estimator in ("LGBMClassifier", "LGBMRegressor"):
            if space.allows(estimator):
                config = {**space.estimator(estimator).defaults(), **_QUICK}
                config = {k: v for k, v in config.items() if k in space.estimator(estimator).names}
                return Candidate(
                    space.spec_for(estimator, config),
                    "quick start: a small LightGBM, so a model exists however short the budget",
                    "default",
                    config,
                )
        return None

    def _recommended(self, space: SearchSpace, context: SearchContext) -> list[Candidate]:
        """Starting configurations of the prior, a few per family, the cheapest near each best."""
        prior = context.prior
        assert prior is not None
        count = len(prior.report.recommendations)  # the ranking's length, which the shares read
        cutoff = max(2 * self.size, round(self.top_fraction * count))
        span = max(3, round(self.window * count))
        starting = prior.prior.starting_configurations
        by_family: dict[str, list[StartingConfiguration]] = {}
        for item in starting:
            probe = Candidate(item.spec(), "", "warm_start")
            if admits(space, probe, context.constraints):
                by_family.setdefault(item.family, []).append(item)
        known_times = sorted(i.expected_fit_seconds for i in starting if i.expected_fit_seconds)
        typical = known_times[len(known_times) // 2] if known_times else 1.0
        families = [items for items in by_family.values() if _ranked(items[0]) <= cutoff]
        evidence = {r.pipeline_id: r.evidence for r in prior.report.recommendations}
        chosen: list[Candidate] = []
        for _turn in range(self.per_family):
            for items in families:
                if not items or len(chosen) >= self.size:
                    continue
                best = items[0]
                near = [i for i in items if _ranked(i) <= _ranked(best) + span]
                pick = min(near, key=lambda i: (i.expected_fit_seconds or typical, _ranked(i)))
                items.remove(pick)
                winner = [
                    e.dataset_name or e.dataset_id
                    for e in evidence[pick.pipeline_id]
                    if e.rank_on_dataset == 1
                ]
                chosen.append(
                    self._candidate(space, pick, best, len(near), prior.ranking_metric, winner)
                )
        return chosen

    @staticmethod
    def _candidate(
        space: SearchSpace,
        item: StartingConfiguration,
        best: StartingConfiguration,
        near: int,
        unit: str,
        best_on: list[str],
    ) -> Candidate:
        where = f"; best on {best_on[0]}" if best_on else ""
        why = (
            f"; the fastest of the {near} {item.family} configurations ranked near the "
            f"family's best (#{_ranked(best)})"
            if item is not best and near > 1
            else ""
        )
        # the ranked pipeline as the space holds it: a value outside it was replaced
        adapted = "" if item.exact else "; adapted to the search space"
        spec = item.spec()
        return Candidate(
            spec,
            f"recommended #{_ranked(item)}: predicted {item.predicted_score:.3f} {unit} "
            f"[{item.lower:.3f}, {item.upper:.3f}]{where}{why}{adapted}",
            "warm_start",
            space.config_of(spec),
        )

    def _select(self, space: SearchSpace, context: SearchContext) -> Iterable[Candidate]:
        prior = context.prior
        if prior is None:
            return list(
                _defaults(
                    space,
                    space.estimator_names,
                    "default configuration of {estimator} (no knowledge-base prior)",
                )
            )
        recommended = self._recommended(space, context)
        unseen: list[Candidate] = []
        if self.cover_unseen_families:
            known = {item.family for item in prior.report.recommendations}
            estimators = [s.estimator for s in space.estimators if s.family not in known]
            unseen = list(
                _defaults(
                    space,
                    estimators,
                    "default configuration of {estimator}: the knowledge base holds no "
                    "results for its family",
                )
            )
        interleaved = [
            c for pair in zip_longest(recommended, unseen) for c in pair if c is not None
        ]
        return [*interleaved, *self._portfolio(space, context)]

    @staticmethod
    def _portfolio(space: SearchSpace, context: SearchContext) -> list[Candidate]:
        """The first ``context.portfolio`` shipped portfolio configurations the space admits."""
        if context.portfolio <= 0:
            return []
        from mile_meta.sources.portfolios import portfolio_candidates

        meta_features = context.prior.meta_features if context.prior is not None else None
        chosen: list[Candidate] = []
        for item in portfolio_candidates(context.task_type, meta_features, context.kb):
            candidate = Candidate(item.spec, f"portfolio: {item.describe()}", "warm_start")
            if not admits(space, candidate, context.constraints):
                continue
            chosen.append(
                Candidate(item.spec, candidate.reason, "warm_start", space.config_of(item.spec))
            )
            if len(chosen) >= context.portfolio:
                break
        return chosen
