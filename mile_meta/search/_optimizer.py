"""Optimizers: Optuna's TPE (or random sampling) through its ask-and-tell interface.

The space is conditional: an ``estimator`` choice, then that estimator's hyperparameters
(named ``Estimator:parameter``). Initial candidates that lie in the space enter as enqueued
trials (``enqueue_trial``), so TPE learns from the warm start; the others (knowledge-base
pipelines with steps or values the space does not have) run as they are and are not told.
Candidates stopped at a lower fidelity are told as pruned with their intermediate scores,
which TPE ranks below the complete ones.
"""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any, Literal

from mile_meta.pipelines.spec import ParamValue
from mile_meta.search._base import Optimizer, Outcome, Proposal, SearchContext
from mile_meta.search._records import Candidate
from mile_meta.search._space import SearchSpace

__all__ = ["OptunaOptimizer"]


def _distribution(hyperparameter: Any) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if hyperparameter.kind == "categorical":
        return CategoricalDistribution(hyperparameter.choices)
    assert hyperparameter.low is not None and hyperparameter.high is not None
    if hyperparameter.kind == "int":
        return IntDistribution(
            int(hyperparameter.low), int(hyperparameter.high), log=hyperparameter.log
        )
    return FloatDistribution(
        float(hyperparameter.low), float(hyperparameter.high), log=hyperparameter.log
    )


class OptunaOptimizer(Optimizer):
    """Optuna's ``tpe`` (multivariate, grouped for the conditional space) or ``random`` sampler."""

    def __init__(
        self, sampler: Literal["tpe", "random"] = "tpe", n_startup_trials: int = 10
    ) -> None:
        if sampler not in ("tpe", "random"):
            raise ValueError(f"unknown sampler {sampler!r}; use 'tpe' or 'random'")
        self.sampler = sampler
        self.n_startup_trials = n_startup_trials

    def _start(
        self, space: SearchSpace, context: SearchContext, initial: tuple[Candidate, ...]
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler: Any
            if self.sampler == "random":
                sampler = optuna.samplers.RandomSampler(seed=context.seed)
            else:
                sampler = optuna.samplers.TPESampler(
                    seed=context.seed,
                    multivariate=True,
                    group=True,
                    n_startup_trials=self.n_startup_trials,
                    # with candidates in flight (jobs > 1), running trials count as bad ones
                    # so parallel proposals spread out
                    constant_liar=getattr(self, "constant_liar", False),
                )
        storage = getattr(self, "storage", None)  # set by the engine for a resumable search
        self._study = optuna.create_study(
            direction="maximize" if context.metric.higher_is_better else "minimize",
            sampler=sampler,
            storage=storage,
            study_name="mile-meta" if storage else None,
            load_if_exists=bool(storage),
        )
        if storage:  # trials left running by a killed session were lost: failed, not pending
            from optuna.trial import TrialState

            for trial in self._study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                self._study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        self._queue: deque[tuple[Candidate, bool]] = deque()
        for candidate in initial:
            config = space.config_of(candidate.spec)
            if config is not None:
                self._study.enqueue_trial(self._params(candidate.estimator, config))
            self._queue.append((candidate, config is not None))

    @staticmethod
    def _params(estimator: str, config: dict[str, ParamValue]) -> dict[str, Any]:
        return {"estimator": estimator, **{f"{estimator}:{k}": v for k, v in config.items()}}

    def _distributions(self, estimator: str) -> dict[str, Any]:
        from optuna.distributions import CategoricalDistribution

        assert self._space is not None
        distributions = {"estimator": CategoricalDistribution(self._space.estimator_names)}
        for hyperparameter in self._space.estimator(estimator).hyperparameters:
            distributions[f"{estimator}:{hyperparameter.name}"] = _distribution(hyperparameter)
        return distributions

    def _suggest(self, trial: Any) -> tuple[str, dict[str, ParamValue]]:
        assert self._space is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # experimental-feature notes of the grouped TPE
            estimator = trial.suggest_categorical("estimator", self._space.estimator_names)
            config: dict[str, ParamValue] = {}
            for hyperparameter in self._space.estimator(estimator).hyperparameters:
                name = f"{estimator}:{hyperparameter.name}"
                low, high = hyperparameter.low or 0.0, hyperparameter.high or 0.0
                if hyperparameter.kind == "categorical":
                    value = trial.suggest_categorical(name, hyperparameter.choices)
                elif hyperparameter.kind == "int":
                    value = trial.suggest_int(name, int(low), int(high), log=hyperparameter.log)
                else:
                    value = trial.suggest_float(name, low, high, log=hyperparameter.log)
                config[hyperparameter.name] = value
        return estimator, config

    def _ask(self) -> Proposal | None:
        assert self._space is not None
        if self._queue:
            candidate, in_space = self._queue.popleft()
            if not in_space:
                return Proposal(candidate, None)
            trial = self._study.ask()
            self._suggest(trial)  # the enqueued values come back
            return Proposal(candidate, trial)
        trial = self._study.ask()
        estimator, config = self._suggest(trial)
        finished = trial.number
        reason = (
            f"random sample #{finished + 1}"
            if self.sampler == "random" or finished < self.n_startup_trials
            else f"TPE proposal after {finished} observations"
        )
        spec = self._space.spec_for(estimator, config)
        return Proposal(Candidate(spec, reason, "optimizer", config), trial)

    def _tell(self, proposal: Proposal, outcome: Outcome) -> None:
        from optuna.trial import TrialState

        states = {
            "complete": TrialState.COMPLETE,
            "pruned": TrialState.PRUNED,
            "failed": TrialState.FAIL,
        }
        trial = proposal.handle
        if trial is None:
            return
        for stage, score in outcome.stages:
            trial.report(score, step=stage)
        if outcome.status == "complete":
            self._study.tell(trial, outcome.value)
        else:
            self._study.tell(trial, state=states[outcome.status])
