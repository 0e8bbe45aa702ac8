"""hyperopt: a conditional space with prior-shaped distributions, and ``points_to_evaluate``.

    exported = export(prior, "hyperopt")
    trials = exported.trials()      # the starting configurations, evaluated first
    best = hyperopt.fmin(objective, exported.space, algo=hyperopt.tpe.suggest, max_evals=50,
                         trials=trials)
    spec = exported.spec_of(hyperopt.space_eval(exported.space, best))

The space is ``hp.pchoice("estimator", ...)`` weighted by the family weights, each option a
dict ``{"estimator": name, "<Estimator>:<name>": ...}``. A fitted normal becomes
``hp.normal`` (``hp.lognormal`` where log-scaled; ``q``-variants for integers) clipped to the
space's bounds, so every drawn value lies in the space. hyperopt has no beta: a beta prior
becomes a clipped normal with the same mean and variance (reported). Points to evaluate name
the option index of ``estimator`` and the values of that option's labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines.space import Hyperparameter
from mile_meta.priors._base import (
    ESTIMATOR_KEY,
    ExportedPrior,
    Exporter,
    ExportNote,
    flat_name,
    prior_notes,
)
from mile_meta.priors._prior import HyperparameterPrior, Prior

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HyperoptExporter", "HyperoptPrior"]


def _require_hyperopt() -> tuple[Any, Any]:
    try:
        from hyperopt import hp
        from hyperopt.pyll import scope
    except ImportError:  # pragma: no cover - the priors extra installs it
        raise MileMetaError(
            "the hyperopt format needs hyperopt; install it with `pip install 'mile-meta[priors]'`"
        ) from None
    return hp, scope


def _clip(scope: Any, node: Any, low: float, high: float, integer: bool) -> Any:
    clipped = scope.minimum(scope.maximum(node, low), high)
    return scope.int(clipped) if integer else scope.float(clipped)


def _uniform(hp: Any, scope: Any, label: str, hyperparameter: Hyperparameter) -> Any:
    if hyperparameter.kind == "categorical":
        return hp.choice(label, list(hyperparameter.choices))
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    if hyperparameter.kind == "int":
        if hyperparameter.log:
            node = hp.qloguniform(label, math.log(low), math.log(high), 1)
        else:
            node = hp.quniform(label, low, high, 1)
        return _clip(scope, node, low, high, True)
    if hyperparameter.log:
        return _clip(scope, hp.loguniform(label, math.log(low), math.log(high)), low, high, False)
    return hp.uniform(label, low, high)


def _shaped(
    hp: Any, scope: Any, label: str, hyperparameter: Hyperparameter, fitted: HyperparameterPrior
) -> tuple[Any, str | None]:
    if fitted.distribution == "categorical":
        weights = dict(zip(map(repr, fitted.choices), fitted.weights, strict=True))
        options = [(weights.get(repr(c), 0.0), c) for c in hyperparameter.choices]
        total = sum(w for w, _ in options)
        return hp.pchoice(label, [(w / total, c) for w, c in options]), None
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    integer = hyperparameter.kind == "int"
    note = None
    if fitted.distribution == "beta":
        assert fitted.alpha is not None and fitted.beta is not None
        a, b = fitted.alpha, fitted.beta
        mean = a / (a + b)
        spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        mu, sigma = low + mean * (high - low), spread * (high - low)
        log = False
        note = (
            "hyperopt has no beta distribution; a clipped normal with its mean and variance is used"
        )
    else:
        assert fitted.mu is not None and fitted.sigma is not None
        mu, sigma, log = fitted.mu, fitted.sigma, fitted.log
    if log:
        node = hp.qlognormal(label, mu, sigma, 1) if integer else hp.lognormal(label, mu, sigma)
    else:
        node = hp.qnormal(label, mu, sigma, 1) if integer else hp.normal(label, mu, sigma)
    return _clip(scope, node, low, high, integer), note


@dataclass(frozen=True)
class HyperoptPrior(ExportedPrior):
    """``space`` (a pyll graph) and ``points_to_evaluate`` for ``hyperopt.fmin``.

    ``starting_points`` are the configurations as ``space_eval`` returns them (flat names);
    ``points_to_evaluate`` are the same in hyperopt's label form.
    """

    tool: ClassVar[str] = "hyperopt"
    space: Any = None
    points_to_evaluate: tuple[dict[str, Any], ...] = ()
    estimators: tuple[str, ...] = field(default=())

    def trials(self) -> Any:
        """A ``hyperopt.Trials`` holding the starting configurations, to pass as ``trials=``.

        ``fmin`` only reads ``points_to_evaluate`` when it creates the ``Trials`` itself; with
        this object the starting configurations run first whatever else is passed.
        """
        from hyperopt import Trials
        from hyperopt.base import Domain
        from hyperopt.fmin import generate_trial

        # TPE reads every label of the space from each trial, active or not
        labels = Domain(lambda point: 0.0, self.space).params
        documents = []
        for tid, point in enumerate(self.points_to_evaluate):
            document = generate_trial(tid, dict(point))
            for label in labels:
                document["misc"]["idxs"].setdefault(label, [])
                document["misc"]["vals"].setdefault(label, [])
            documents.append(document)
        trials = Trials()
        trials.insert_trial_docs(documents)
        trials.refresh()
        return trials

    def objective(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        *,
        metric: str | None = None,
        cv: int = 3,
        seed: int = 0,
    ) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """An ``fmin`` objective: the loss is the cross-validated score, negated where higher
        is better, with the spec and score in the result."""
        from hyperopt import STATUS_OK

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

        def objective(point: Mapping[str, Any]) -> dict[str, Any]:
            spec = self.spec_of(point)
            result = evaluate_pipeline(
                spec, dataset, metric=chosen, cv=cv, seed=seed, record=False, cache=cache
            )
            loss = -result.mean if result.higher_is_better else result.mean
            return {"loss": loss, "status": STATUS_OK, "score": result.mean, "spec": spec.to_json()}

        return objective


class HyperoptExporter(Exporter[HyperoptPrior]):
    tool = "hyperopt"
    extra = "priors"

    def _export(self, prior: Prior) -> HyperoptPrior:
        hp, scope = _require_hyperopt()
        spaces = prior.space()
        weights = prior.estimator_weights()
        notes = prior_notes(prior)
        options = []
        for estimator_space in spaces:
            option: dict[str, Any] = {ESTIMATOR_KEY: estimator_space.estimator}
            for hyperparameter in estimator_space.hyperparameters:
                label = flat_name(estimator_space.estimator, hyperparameter.name)
                fitted = prior.distribution(estimator_space.estimator, hyperparameter.name)
                if fitted is None:
                    option[label] = _uniform(hp, scope, label, hyperparameter)
                    continue
                option[label], note = _shaped(hp, scope, label, hyperparameter, fitted)
                if note:
                    notes.append(
                        ExportNote(f"{estimator_space.estimator}.{hyperparameter.name}", note)
                    )
            share = max(weights.get(estimator_space.estimator, 0.0), 1e-6)
            options.append((share, option))
        total = sum(share for share, _ in options)
        space = hp.pchoice(ESTIMATOR_KEY, [(share / total, option) for share, option in options])
        estimators = tuple(s.estimator for s in spaces)
        points, labels = [], []
        for start in prior.starting_configurations:
            flat = {flat_name(start.estimator, k): v for k, v in start.params}
            points.append({ESTIMATOR_KEY: start.estimator, **flat})
            label_values: dict[str, Any] = {ESTIMATOR_KEY: estimators.index(start.estimator)}
            space_of = next(s for s in spaces if s.estimator == start.estimator)
            for hyperparameter in space_of.hyperparameters:
                value = start.config[hyperparameter.name]
                label = flat_name(start.estimator, hyperparameter.name)
                if hyperparameter.kind == "categorical":
                    # choice labels take the option's index
                    value = [repr(c) for c in hyperparameter.choices].index(repr(value))
                label_values[label] = value
            labels.append(label_values)
        return HyperoptPrior(
            prior=prior,
            starting_points=tuple(points),
            report=tuple(notes),
            space=space,
            points_to_evaluate=tuple(labels),
            estimators=estimators,
        )

    def _module_usage(self) -> str:
        return (
            "    import hyperopt, this_module as p\n"
            "    trials = p.EXPORTED.trials()   # holds the starting configurations (POINTS_TO_EVALUATE)\n"
            "    best = hyperopt.fmin(p.EXPORTED.objective(X, y), p.SPACE, algo=hyperopt.tpe.suggest,\n"
            "                         max_evals=50, trials=trials)\n"
            "    spec = p.EXPORTED.spec_of(hyperopt.space_eval(p.SPACE, best))"
        )

    def _module_names(self) -> str:
        return (
            "SPACE = EXPORTED.space\n"
            "POINTS_TO_EVALUATE = [dict(point) for point in EXPORTED.points_to_evaluate]\n"
        )
