"""Pruners: what a search leaves out, with the reason for every cut.

``PriorPruner`` reads the prior's evidence: a family whose pipelines never reach the top of
the rankings on the nearest knowledge-base datasets is dropped, and numeric ranges (and
categorical choices) are narrowed to the span of the configurations the meta-learner ranks
well. Families the knowledge base has no results for are kept untouched.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from mile_meta.pipelines.space import EstimatorSpace, Hyperparameter
from mile_meta.search._base import CandidatePruner, SearchContext
from mile_meta.search._records import Cut
from mile_meta.search._space import SearchSpace, _describe_range

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
    A range is narrowed to the span of the estimator's configurations in the best
    ``good_fraction`` of the ranking (at least ``min_configurations`` of them), widened by a
    factor 2 (log scale) or a tenth of the range, when that removes at least a fifth of it.
    """

    def __init__(
        self,
        top_fraction: float = 0.1,
        min_datasets: int = 3,
        good_fraction: float = 0.25,
        min_configurations: int = 3,
        narrow_ranges: bool = True,
    ) -> None:
        self.top_fraction = top_fraction
        self.min_datasets = min_datasets
        self.good_fraction = good_fraction
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
            good_rank = max(self.min_configurations, math.ceil(self.good_fraction * count))
            for estimator_space in pruned.estimators:
                configurations = [
                    (item.rank, pruned.config_of(item.spec))
                    for item in ranking
                    if item.spec.estimator.component == estimator_space.estimator
                ]
                known = [(rank, config) for rank, config in configurations if config is not None]
                good = [config for rank, config in known if rank <= good_rank]
                if len(good) < self.min_configurations:
                    continue
                narrowed, estimator_cuts = self._narrow(
                    estimator_space, good, [config for _, config in known], good_rank, count
                )
                if estimator_cuts:
                    pruned = pruned.replace_estimator(narrowed)
                    cuts.extend(estimator_cuts)
        return pruned, cuts

    def _narrow(
        self,
        space: EstimatorSpace,
        good: list[dict],
        every: list[dict],
        good_rank: int,
        count: int,
    ) -> tuple[EstimatorSpace, list[Cut]]:
        cuts: list[Cut] = []
        hyperparameters = []
        why = (
            f"span of the {len(good)} {space.estimator} configurations ranked in the top "
            f"{good_rank} of {count} for data like this"
        )
        for hyperparameter in space.hyperparameters:
            narrowed = hyperparameter
            values = [config[hyperparameter.name] for config in good]
            if hyperparameter.kind == "categorical":
                tried = {config[hyperparameter.name] for config in every}
                keep = tuple(
                    c for c in hyperparameter.choices if c in set(values) or c not in tried
                )
                if keep and len(keep) < len(hyperparameter.choices):
                    default = hyperparameter.default if hyperparameter.default in keep else keep[0]
                    narrowed = dataclasses.replace(hyperparameter, choices=keep, default=default)
            elif len(set(values)) >= 2:
                narrowed = _span(hyperparameter, [float(v) for v in values if v is not None])
            if narrowed != hyperparameter:
                kept = _share(hyperparameter, narrowed)
                cuts.append(
                    Cut(
                        "choices" if hyperparameter.kind == "categorical" else "range",
                        f"{space.estimator}.{hyperparameter.name}",
                        why,
                        "prior",
                        _describe_range(hyperparameter),
                        _describe_range(narrowed),
                        kept,
                    )
                )
            hyperparameters.append(narrowed)
        return dataclasses.replace(space, hyperparameters=tuple(hyperparameters)), cuts


def _span(hyperparameter: Hyperparameter, values: list[float]) -> Hyperparameter:
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    if hyperparameter.log and low > 0:
        new_low, new_high = max(low, min(values) / 2), min(high, max(values) * 2)
        width, new_width = math.log(high / low), math.log(new_high / new_low)
    else:
        margin = (high - low) / 10
        new_low, new_high = max(low, min(values) - margin), min(high, max(values) + margin)
        width, new_width = high - low, new_high - new_low
    if hyperparameter.kind == "int":
        new_low, new_high = math.floor(new_low), math.ceil(new_high)
    if new_width > 0.8 * width or new_high <= new_low:
        return hyperparameter
    default = hyperparameter.default
    if isinstance(default, int | float) and not new_low <= float(default) <= new_high:
        clipped = min(max(float(default), new_low), new_high)
        default = round(clipped) if hyperparameter.kind == "int" else clipped
    return dataclasses.replace(hyperparameter, low=new_low, high=new_high, default=default)


def _share(before: Hyperparameter, after: Hyperparameter) -> float:
    """Share of ``before``'s range (log-scaled where it is) or choices that ``after`` keeps."""
    if before.kind == "categorical":
        return len(after.choices) / len(before.choices)
    assert before.low is not None and before.high is not None
    assert after.low is not None and after.high is not None
    if before.log and before.low > 0:
        return math.log(after.high / after.low) / math.log(before.high / before.low)
    return (after.high - after.low) / (before.high - before.low)
