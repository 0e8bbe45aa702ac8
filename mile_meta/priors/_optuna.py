"""Optuna: distributions, ``enqueue_trial`` of the starting configurations, a prior sampler.

    exported = export(prior, "optuna")
    study = optuna.create_study(direction="maximize", sampler=exported.sampler(n_prior_trials=20))
    exported.enqueue(study)                        # the starting configurations run first
    study.optimize(exported.objective(X, y), n_trials=50)

:class:`PriorSampler` draws from the prior (family weights, fitted distributions) for the first
``n_prior_trials`` trials of the study — enqueued trials count, and their values win — then
hands every decision to another sampler (TPE by default). It lives in the standalone Optuna
runtime (``_standalone/_optuna_module.py``), which the module ``mile-meta priors --format
optuna -o FILE`` writes also carries, so a study without mile-meta installed samples alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler

from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import EstimatorSpace, spec_from_config
from mile_meta.priors._base import (
    ExportedPrior,
    Exporter,
    ExportNote,
    prior_notes,
    split_flat_point,
)
from mile_meta.priors._portable import portable_prior
from mile_meta.priors._prior import Prior
from mile_meta.priors._standalone._optuna_module import OptunaPortable
from mile_meta.priors._standalone._optuna_module import PriorSampler as _PortableSampler

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OptunaExporter", "OptunaPrior", "PriorSampler"]


class PriorSampler(_PortableSampler):
    """Draw from ``prior`` for the first ``n_prior_trials`` trials, then use ``after``.

    Trial numbers count from the study's first trial, enqueued ones included: with ten
    enqueued starting configurations and ``n_prior_trials=20`` the prior shapes trials 10-19.
    Parameters the prior has no fitted distribution for are drawn uniformly (log-uniformly
    where the space is log-scaled).
    """

    def __init__(
        self,
        prior: Prior,
        *,
        n_prior_trials: int = 20,
        seed: int | None = None,
        after: BaseSampler | None = None,
    ) -> None:
        super().__init__(
            OptunaPortable(portable_prior(prior)),
            n_prior_trials=n_prior_trials,
            seed=seed,
            after=after,
        )


@dataclass(frozen=True)
class OptunaPrior(ExportedPrior):
    """The prior for Optuna; ``distributions`` maps flat names to Optuna distributions."""

    tool: ClassVar[str] = "optuna"
    distributions: Mapping[str, BaseDistribution] = field(default_factory=dict)
    spaces: tuple[EstimatorSpace, ...] = ()
    runtime: OptunaPortable = None  # type: ignore[assignment]

    def enqueue(self, study: optuna.Study, *, limit: int | None = None) -> int:
        """Enqueue the starting configurations (best first); returns how many were queued."""
        return self.runtime.enqueue(study, limit=limit)

    def sampler(
        self,
        *,
        n_prior_trials: int = 20,
        seed: int | None = None,
        after: BaseSampler | None = None,
    ) -> _PortableSampler:
        return self.runtime.sampler(n_prior_trials=n_prior_trials, seed=seed, after=after)

    def suggest_config(self, trial: optuna.Trial) -> tuple[str, dict[str, Any]]:
        """Define-by-run: pick an estimator, then its hyperparameters (flat names)."""
        return split_flat_point(self.runtime.suggest(trial))

    def suggest(self, trial: optuna.Trial) -> PipelineSpec:
        """Define-by-run: the runnable spec of the trial's configuration."""
        estimator, params = self.suggest_config(trial)
        return spec_from_config(estimator, params)

    def objective(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        *,
        metric: str | None = None,
        cv: int = 3,
        seed: int = 0,
    ) -> Callable[[optuna.Trial], float]:
        """An objective: the cross-validated score (prior's metric unless given) of the trial."""
        from mile_meta.data import Dataset
        from mile_meta.evaluate import FoldCache, evaluate_pipeline

        dataset = Dataset(
            name=self.prior.dataset_name,
            frame=X.reset_index(drop=True),
            target=y.reset_index(drop=True),
            task_type=self.prior.task_type,
        )
        cache = FoldCache()
        chosen = metric or self.prior.metric

        def objective(trial: optuna.Trial) -> float:
            spec = self.suggest(trial)
            result = evaluate_pipeline(
                spec, dataset, metric=chosen, cv=cv, seed=seed, record=False, cache=cache
            )
            return result.mean

        return objective

    @property
    def direction(self) -> str:
        return "maximize" if self.prior.higher_is_better else "minimize"

    def point_config(self, point: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return split_flat_point(point)


class OptunaExporter(Exporter[OptunaPrior]):
    tool = "optuna"
    extra = "priors"

    runtime_class = "OptunaPortable"
    needs = "optuna"

    def _export(self, prior: Prior) -> OptunaPrior:
        notes = prior_notes(prior)
        notes.append(
            ExportNote(
                "distributions",
                "Optuna's distributions are uniform/log-uniform; the fitted priors act through "
                "the prior sampler (sampler()) for the first trials only",
            )
        )
        runtime = OptunaPortable(portable_prior(prior, tuple(notes)))
        return OptunaPrior(
            prior=prior,
            starting_points=tuple(runtime.starting_points),
            report=tuple(notes),
            distributions=runtime.distributions(),
            spaces=prior.space(),
            runtime=runtime,
        )

    def _module_usage(self) -> str:
        return (
            "    import optuna\n"
            "    import prior_optuna as p   # this file\n"
            "    study = optuna.create_study(direction=p.DIRECTION, sampler=p.EXPORTED.sampler(n_prior_trials=20))\n"
            "    p.EXPORTED.enqueue(study)                                # the starting points run first\n"
            "    study.optimize(p.EXPORTED.objective(X, y), n_trials=50)  # or your own objective:\n"
            "    #   point = p.EXPORTED.suggest(trial); model = p.EXPORTED.make_pipeline(point)"
        )

    def _module_names(self) -> tuple[str, ...]:
        return ("DISTRIBUTIONS = EXPORTED.distributions()", "DIRECTION = EXPORTED.direction")
