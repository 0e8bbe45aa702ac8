"""Initial designs: where a search starts.

``WarmStartDesign`` takes the meta-learner's top recommendations (a few per family, so one
family cannot fill the design) and, for each family of the space the knowledge base knows
nothing about, that family's default configuration, so the prior's blind spots cost one
evaluation each. ``DefaultDesign`` starts from every estimator's defaults; ``NoInitialDesign``
leaves everything to the optimizer (the cold baselines).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import zip_longest

from mile_meta.search._base import InitialDesign, SearchContext, admits
from mile_meta.search._records import Candidate
from mile_meta.search._space import SearchSpace

__all__ = ["DefaultDesign", "NoInitialDesign", "WarmStartDesign"]


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
    """The top recommendations of the prior (at most ``per_family`` per family, ``size`` in
    all), interleaved with the defaults of the families the knowledge base holds no results
    for. Without a prior it falls back to :class:`DefaultDesign`."""

    def __init__(
        self, size: int = 8, per_family: int = 2, cover_unseen_families: bool = True
    ) -> None:
        self.size = size
        self.per_family = per_family
        self.cover_unseen_families = cover_unseen_families

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
        recommended: list[Candidate] = []
        per_family: dict[str, int] = {}
        unit = prior.ranking_metric
        for item in prior.report.recommendations:
            if len(recommended) >= self.size:
                break
            if per_family.get(item.family, 0) >= self.per_family:
                continue
            nearest = [e for e in item.evidence if e.rank_on_dataset == 1]
            best_on = (
                f"; best on {nearest[0].dataset_name or nearest[0].dataset_id}" if nearest else ""
            )
            candidate = Candidate(
                item.spec,
                f"recommended #{item.rank}: predicted {item.predicted_score:.3f} {unit} "
                f"[{item.lower:.3f}, {item.upper:.3f}]{best_on}",
                "warm_start",
                space.config_of(item.spec),
            )
            if not admits(space, candidate, context.constraints):
                continue
            per_family[item.family] = per_family.get(item.family, 0) + 1
            recommended.append(candidate)
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
        return interleaved
