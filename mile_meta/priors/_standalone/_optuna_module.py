"""Optuna from a mile-meta prior, with no import of mile-meta (copied into written modules).

``OptunaPortable(PRIOR)``: ``distributions()`` (flat name -> Optuna distribution),
``suggest(trial)`` (define-by-run: the estimator, then its hyperparameters; returns the flat
point), ``enqueue(study)`` (the starting points, best first), ``sampler()`` (a
:class:`PriorSampler`: the prior for the first trials, then TPE) and ``objective(X, y)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

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

from mile_meta.priors._standalone._common_module import (  # standalone: inlined
    PortablePrior,  # standalone: inlined
    _draw,  # standalone: inlined
)  # standalone: inlined


def _distribution(hyperparameter: Mapping[str, Any]) -> BaseDistribution:
    if hyperparameter["kind"] == "categorical":
        return CategoricalDistribution(hyperparameter["choices"])
    if hyperparameter["kind"] == "int":
        return IntDistribution(
            int(hyperparameter["low"]), int(hyperparameter["high"]), log=hyperparameter["log"]
        )
    return FloatDistribution(
        hyperparameter["low"], hyperparameter["high"], log=hyperparameter["log"]
    )


class PriorSampler(BaseSampler):
    """Draw from the prior for the first ``n_prior_trials`` trials, then use ``after``.

    Trial numbers count from the study's first trial, enqueued ones included: with ten
    enqueued starting points and ``n_prior_trials=20`` the prior shapes trials 10-19 (an
    enqueued trial's values win). The estimator is drawn by its weight, each hyperparameter
    from its fitted prior (uniform where it has none); afterwards ``after`` (TPE by default)
    decides everything.
    """

    def __init__(
        self,
        prior: PortablePrior,
        *,
        n_prior_trials: int = 20,
        seed: int | None = None,
        after: BaseSampler | None = None,
    ) -> None:
        self._portable = prior
        self._n_prior_trials = n_prior_trials
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=seed)
        self._after = after if after is not None else TPESampler(seed=seed)

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
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
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
        portable = self._portable
        if param_name == portable.key and isinstance(param_distribution, CategoricalDistribution):
            weights = portable.estimator_weights()
            shares = np.array([weights.get(str(c), 0.0) for c in param_distribution.choices])
            if shares.sum() <= 0:
                shares = np.ones(len(shares))
            index = self._rng.choice(len(shares), p=shares / shares.sum())
            return param_distribution.choices[int(index)]
        hyperparameter = portable.hyperparameters.get(param_name)
        if hyperparameter is not None and _distribution(hyperparameter) == param_distribution:
            return _draw(hyperparameter, self._rng)
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


class OptunaPortable(PortablePrior):
    """The prior for Optuna (see the module doc)."""

    def distributions(self) -> dict[str, BaseDistribution]:
        """Flat name -> Optuna distribution, ``"estimator"`` first."""
        result: dict[str, BaseDistribution] = {
            self.key: CategoricalDistribution(list(self.estimators))
        }
        result.update({name: _distribution(h) for name, h in self.hyperparameters.items()})
        return result

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Define-by-run: suggest the estimator, then its hyperparameters; the flat point."""
        estimator = trial.suggest_categorical(self.key, list(self.estimators))
        point: dict[str, Any] = {self.key: estimator}
        for hyperparameter in self.estimators[estimator]["hyperparameters"]:
            name = hyperparameter["name"]
            if hyperparameter["kind"] == "categorical":
                point[name] = trial.suggest_categorical(name, hyperparameter["choices"])
            elif hyperparameter["kind"] == "int":
                point[name] = trial.suggest_int(
                    name,
                    int(hyperparameter["low"]),
                    int(hyperparameter["high"]),
                    log=hyperparameter["log"],
                )
            else:
                point[name] = trial.suggest_float(
                    name, hyperparameter["low"], hyperparameter["high"], log=hyperparameter["log"]
                )
        return point

    def enqueue(self, study: optuna.Study, *, limit: int | None = None) -> int:
        """Enqueue the starting points (best first); returns how many were queued."""
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
        """A :class:`PriorSampler` drawing from this prior for the first trials."""
        return PriorSampler(self, n_prior_trials=n_prior_trials, seed=seed, after=after)

    def objective(self, X: Any, y: Any, *, cv: int = 3) -> Callable[[Any], float]:
        """An objective: the cross-validated score of the trial's pipeline (``direction``)."""

        def objective(trial: Any) -> float:
            return self.evaluate(self.suggest(trial), X, y, cv=cv)

        return objective
