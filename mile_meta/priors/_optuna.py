"""Optuna: distributions, ``enqueue_trial`` of the starting configurations, a prior sampler.

    exported = export(prior, "optuna")
    study = optuna.create_study(direction="maximize", sampler=exported.sampler(n_prior_trials=20))
    exported.enqueue(study)                        # the starting configurations run first
    study.optimize(exported.objective(X, y), n_trials=50)

:class:`PriorSampler` draws from the prior (family weights, fitted distributions) for the first
``n_prior_trials`` trials of the study — enqueued trials count, and their values win — then
hands every decision to another sampler (TPE by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import EstimatorSpace, Hyperparameter, spec_from_config
from mile_meta.priors._base import (
    ESTIMATOR_KEY,
    ExportedPrior,
    Exporter,
    ExportNote,
    flat_name,
    prior_notes,
    split_flat_point,
)
from mile_meta.priors._prior import HyperparameterPrior, Prior

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OptunaExporter", "OptunaPrior", "PriorSampler", "optuna_distribution"]


def optuna_distribution(hyperparameter: Hyperparameter) -> BaseDistribution:
    """The Optuna distribution of one hyperparameter of the space."""
    if hyperparameter.kind == "categorical":
        return CategoricalDistribution(hyperparameter.choices)
    assert hyperparameter.low is not None and hyperparameter.high is not None
    if hyperparameter.kind == "int":
        return IntDistribution(
            int(hyperparameter.low), int(hyperparameter.high), log=hyperparameter.log
        )
    return FloatDistribution(hyperparameter.low, hyperparameter.high, log=hyperparameter.log)


def draw_from_prior(
    distribution: HyperparameterPrior, rng: np.random.RandomState
) -> float | int | Any:
    """One value drawn from a fitted distribution, inside its bounds."""
    if distribution.distribution == "categorical":
        index = rng.choice(len(distribution.choices), p=np.asarray(distribution.weights))
        return distribution.choices[int(index)]
    assert distribution.low is not None and distribution.high is not None
    if distribution.distribution == "beta":
        assert distribution.alpha is not None and distribution.beta is not None
        share = rng.beta(distribution.alpha, distribution.beta)
        return distribution.low + share * (distribution.high - distribution.low)
    assert distribution.mu is not None and distribution.sigma is not None
    low, high = distribution.low, distribution.high
    if distribution.log:
        low, high = math.log(low), math.log(high)
    for _ in range(100):  # rejection sampling keeps the normal's shape inside the bounds
        value = rng.normal(distribution.mu, distribution.sigma)
        if low <= value <= high:
            break
    else:
        value = min(max(distribution.mu, low), high)
    result = math.exp(value) if distribution.log else value
    result = min(max(result, distribution.low), distribution.high)
    if distribution.integer:
        return int(
            min(max(round(result), math.ceil(distribution.low)), math.floor(distribution.high))
        )
    return float(result)


def _suggest(trial: optuna.Trial, name: str, distribution: BaseDistribution) -> Any:
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, log=distribution.log)
    assert isinstance(distribution, FloatDistribution)
    return trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)


class PriorSampler(BaseSampler):
    """Draw from the prior for the first ``n_prior_trials`` trials, then use ``after``.

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
        self._prior = prior
        self._n_prior_trials = n_prior_trials
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=seed)
        self._after = after if after is not None else TPESampler(seed=seed)
        self._distributions = {flat_name(*d.key): d for d in prior.distributions}
        self._estimator_weights = prior.estimator_weights()

    def _in_prior_phase(self, trial: FrozenTrial) -> bool:
        return trial.number < self._n_prior_trials

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()
        self._after.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._in_prior_phase(trial):
            return {}
        return self._after.infer_relative_search_space(study, trial)

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        if self._in_prior_phase(trial):
            return {}
        return self._after.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if not self._in_prior_phase(trial):
            return self._after.sample_independent(study, trial, param_name, param_distribution)
        if param_name == ESTIMATOR_KEY and isinstance(param_distribution, CategoricalDistribution):
            weights = np.array(
                [self._estimator_weights.get(str(c), 0.0) for c in param_distribution.choices]
            )
            if weights.sum() <= 0:
                weights = np.ones(len(weights))
            index = self._rng.choice(len(weights), p=weights / weights.sum())
            return param_distribution.choices[int(index)]
        fitted = self._distributions.get(param_name)
        if fitted is not None and _compatible(fitted, param_distribution):
            return draw_from_prior(fitted, self._rng)
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._after.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._after.after_trial(study, trial, state, values)


def _compatible(fitted: HyperparameterPrior, distribution: BaseDistribution) -> bool:
    if fitted.distribution == "categorical":
        return isinstance(distribution, CategoricalDistribution) and set(
            map(repr, fitted.choices)
        ) == set(map(repr, distribution.choices))
    if isinstance(distribution, IntDistribution | FloatDistribution):
        return (
            fitted.low is not None
            and fitted.high is not None
            and math.isclose(distribution.low, fitted.low)
            and math.isclose(distribution.high, fitted.high)
        )
    return False


@dataclass(frozen=True)
class OptunaPrior(ExportedPrior):
    """The prior for Optuna; ``distributions`` maps flat names to Optuna distributions."""

    tool: ClassVar[str] = "optuna"
    distributions: Mapping[str, BaseDistribution] = None  # type: ignore[assignment]
    spaces: tuple[EstimatorSpace, ...] = ()

    def enqueue(self, study: optuna.Study, *, limit: int | None = None) -> int:
        """Enqueue the starting configurations (best first); returns how many were queued."""
        points = self.starting_points[:limit] if limit is not None else self.starting_points
        for point in points:
            study.enqueue_trial(dict(point), skip_if_exists=True)
        return len(points)

    def sampler(
        self,
        *,
        n_prior_trials: int = 20,
        seed: int | None = None,
        after: BaseSampler | None = None,
    ) -> PriorSampler:
        return PriorSampler(self.prior, n_prior_trials=n_prior_trials, seed=seed, after=after)

    def suggest_config(self, trial: optuna.Trial) -> tuple[str, dict[str, Any]]:
        """Define-by-run: pick an estimator, then its hyperparameters (flat names)."""
        names = [space.estimator for space in self.spaces]
        estimator = trial.suggest_categorical(ESTIMATOR_KEY, names)
        space = next(s for s in self.spaces if s.estimator == estimator)
        params: dict[str, Any] = {}
        for hyperparameter in space.hyperparameters:
            name = flat_name(estimator, hyperparameter.name)
            distribution = self.distributions[name]
            params[hyperparameter.name] = _suggest(trial, name, distribution)
        return estimator, params

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

    def _export(self, prior: Prior) -> OptunaPrior:
        spaces = prior.space()
        distributions: dict[str, BaseDistribution] = {
            ESTIMATOR_KEY: CategoricalDistribution([s.estimator for s in spaces])
        }
        for space in spaces:
            for hyperparameter in space.hyperparameters:
                distributions[flat_name(space.estimator, hyperparameter.name)] = (
                    optuna_distribution(hyperparameter)
                )
        points = tuple(
            {
                ESTIMATOR_KEY: start.estimator,
                **{flat_name(start.estimator, k): v for k, v in start.params},
            }
            for start in prior.starting_configurations
        )
        notes = prior_notes(prior)
        notes.append(
            ExportNote(
                "distributions",
                "Optuna's distributions are uniform/log-uniform; the fitted priors act through "
                "PriorSampler (exported.sampler()) for the first trials only",
            )
        )
        return OptunaPrior(
            prior=prior,
            starting_points=points,
            report=tuple(notes),
            distributions=distributions,
            spaces=spaces,
        )

    def _module_usage(self) -> str:
        return (
            "    import optuna, this_module as p\n"
            "    study = optuna.create_study(direction=p.DIRECTION, sampler=p.EXPORTED.sampler(n_prior_trials=20))\n"
            "    p.EXPORTED.enqueue(study)\n"
            "    study.optimize(p.EXPORTED.objective(X, y), n_trials=50)   # or your own objective:\n"
            "    #   spec = p.EXPORTED.suggest(trial); model = mile_meta.pipelines.build_pipeline(spec)"
        )

    def _module_names(self) -> str:
        return "DISTRIBUTIONS = dict(EXPORTED.distributions)\nDIRECTION = EXPORTED.direction\n"
