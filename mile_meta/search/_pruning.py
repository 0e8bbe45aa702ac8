"""Pruners: what a search leaves out, with the reason for every cut.

``PriorPruner`` reads the prior: a family whose pipelines never reach the top of the rankings
on the nearest knowledge-base datasets is dropped (the ranking's evidence), and numeric ranges
and categorical choices are narrowed to where the prior's fitted distributions put the good
values (:meth:`mile_meta.priors.HyperparameterPrior.interval` and ``likely_choices``, what
the exported prior hands another optimizer). Families and hyperparameters the knowledge base
has no results for are kept untouched.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mile_meta.pipelines.space import EstimatorSpace, Hyperparameter
from mile_meta.search._base import CandidatePruner, SearchContext
from mile_meta.search._records import Cut
from mile_meta.search._space import SearchSpace, _describe_range

if TYPE_CHECKING:
    from mile_meta.priors import Prior

__all__ = ["NoPruning", "PriorPruner"]


class NoPruning(CandidatePruner):
    """Keeps the whole space."""

    def _prune(
        self, space: SearchSpace, context: SearchContext
    ) -> tuple[SearchSpace, Sequence[Cut]]:
        return space, ()


class PriorPruner(CandidatePruner):
    """Drops families and narrows ranges by the prior.

    A family is dropped when, on each of at least ``min_datasets`` nearest datasets with
    results, none of its pipelines ranked in the best ``top_fraction`` of the pipelines.
    A numeric range is narrowed to the central ``coverage`` of the prior's distribution for it,
    and categorical choices to those with at least ``min_weight`` of its weight, when the
    distribution was fitted to at least ``min_configurations`` good configurations and the
    narrowing removes at least a fifth of the range (or a choice).
    """

    def __init__(
        self,
        top_fraction: float = 0.1,
        min_datasets: int = 3,
        coverage: float = 0.9,
        min_weight: float = 0.1,
        min_configurations: int = 3,
        narrow_ranges: bool = True,
    ) -> None:
        self.top_fraction = top_fraction
        self.min_datasets = min_datasets
        self.coverage = coverage
        self.min_weight = min_weight
        self.min_configurations = min_configurations
        self.narrow_ranges = narrow_ranges

    def _prune(
        self, space: SearchSpace, context: SearchContext
    ) -> tuple[SearchSpace, Sequence[Cut]]:
        prior = context.prior
        if prior is None:
            return space, ()
        ranking = prior.report.recommendations
        count = len(ranking)
        threshold = max(3, math.ceil(self.top_fraction * count))
        cuts: list[Cut] = []
        dropped: list[str] = []
        for family in space.families:
            best_rank: dict[str, int] = {}
            names: dict[str, str] = {}
            for item in ranking:
                if item.family != family:
                    continue
                for evidence in item.evidence:
                    if evidence.rank_on_dataset is None:
                        continue
                    current = best_rank.get(evidence.dataset_id, evidence.rank_on_dataset)
                    best_rank[evidence.dataset_id] = min(current, evidence.rank_on_dataset)
                    names[evidence.dataset_id] = evidence.dataset_name or evidence.dataset_id
            if len(best_rank) < self.min_datasets:
                continue  # too little evidence to judge: keep it
            best = min(best_rank.values())
            if best > threshold:
                estimators = [s.estimator for s in space.estimators if s.family == family]
                dropped.extend(estimators)
                cuts.append(
                    Cut(
                        "family",
                        family,
                        f"never in the top {threshold} of {count} pipelines on the "
                        f"{len(best_rank)} nearest datasets with results (best rank {best})",
                        "prior",
                        ", ".join(estimators),
                        None,
                        0.0,
                    )
                )
        pruned = space.without(dropped)
        if not pruned.estimators:  # the prior never empties the space
            return space, ()
        if self.narrow_ranges:
            for estimator_space in pruned.estimators:
                narrowed, estimator_cuts = self._narrow(estimator_space, prior.prior)
                if estimator_cuts:
                    pruned = pruned.replace_estimator(narrowed)
                    cuts.extend(estimator_cuts)
        return pruned, cuts

    def _narrow(self, space: EstimatorSpace, prior: Prior) -> tuple[EstimatorSpace, list[Cut]]:
        cuts: list[Cut] = []
        hyperparameters = []
        neighbours = len(prior.provenance.neighbour_datasets)
        for hyperparameter in space.hyperparameters:
            narrowed = hyperparameter
            fitted = prior.distribution(space.estimator, hyperparameter.name)
            if fitted is None or fitted.support < self.min_configurations:
                hyperparameters.append(hyperparameter)
                continue
            if hyperparameter.kind == "categorical":
                likely = set(fitted.likely_choices(self.min_weight))
                keep = tuple(c for c in hyperparameter.choices if c in likely)
                if keep and len(keep) < len(hyperparameter.choices):
                    default = hyperparameter.default if hyperparameter.default in keep else keep[0]
                    narrowed = dataclasses.replace(hyperparameter, choices=keep, default=default)
                what = f"choices with at least {self.min_weight:.0%} of the prior's weight"
            else:
                interval = fitted.interval(self.coverage)
                if interval is not None:
                    narrowed = _within(hyperparameter, *interval)
                what = f"central {self.coverage:.0%} of the prior's distribution"
            if narrowed != hyperparameter:
                cuts.append(
                    Cut(
                        "choices" if hyperparameter.kind == "categorical" else "range",
                        f"{space.estimator}.{hyperparameter.name}",
                        f"{what}, fitted to the {fitted.support} good {space.estimator} "
                        f"configurations on the {neighbours} nearest datasets",
                        "prior",
                        _describe_range(hyperparameter),
                        _describe_range(narrowed),
                        _share(hyperparameter, narrowed),
                    )
                )
            hyperparameters.append(narrowed)
        return dataclasses.replace(space, hyperparameters=tuple(hyperparameters)), cuts


def _within(hyperparameter: Hyperparameter, low: float, high: float) -> Hyperparameter:
    """``hyperparameter`` limited to [low, high] when that removes at least a fifth of its
    (log-)range; the default is clipped into the new range."""
    assert hyperparameter.low is not None and hyperparameter.high is not None
    new_low, new_high = max(hyperparameter.low, low), min(hyperparameter.high, high)
    if hyperparameter.kind == "int":
        new_low, new_high = math.floor(new_low), math.ceil(new_high)
    if new_high <= new_low:
        return hyperparameter
    candidate = dataclasses.replace(hyperparameter, low=new_low, high=new_high)
    if _share(hyperparameter, candidate) > 0.8:
        return hyperparameter
    default = hyperparameter.default
    if isinstance(default, int | float) and not new_low <= float(default) <= new_high:
        clipped = min(max(float(default), new_low), new_high)
        default = round(clipped) if hyperparameter.kind == "int" else clipped
    return dataclasses.replace(candidate, default=default)


def _share(before: Hyperparameter, after: Hyperparameter) -> float:
    """Share of ``before``'s range (log-scaled where it is) or choices that ``after`` keeps."""
    if before.kind == "categorical":
        return len(after.choices) / len(before.choices)
    assert before.low is not None and before.high is not None
    assert after.low is not None and after.high is not None
    if before.log and before.low > 0:
        return math.log(after.high / after.low) / math.log(before.high / before.low)
    return (after.high - after.low) / (before.high - before.low)
