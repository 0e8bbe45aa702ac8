"""hyperopt from a mile-meta prior, with no import of mile-meta (copied into written modules).

``HyperoptPortable(PRIOR)``: ``space()`` — ``hp.pchoice("estimator", ...)`` weighted by the
family weights, each option a dict of that estimator's hyperparameters, a fitted normal as
``hp.normal``/``hp.lognormal`` (``q``-variants for integers) clipped to the bounds, a beta as
the clipped normal with its mean and variance (hyperopt has no beta), categorical weights as
``hp.pchoice``; ``points_to_evaluate()`` — the starting points in the form
``fmin(points_to_evaluate=...)`` takes; ``objective(X, y)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hyperopt import STATUS_OK, hp
from hyperopt.pyll import scope

from mile_meta.priors._standalone._common_module import PortablePrior  # standalone: inlined


def _clip(node: Any, low: float, high: float, integer: bool) -> Any:
    clipped = scope.minimum(scope.maximum(node, low), high)
    return scope.int(clipped) if integer else scope.float(clipped)


def _node(hyperparameter: Mapping[str, Any]) -> Any:
    label, kind, prior = hyperparameter["name"], hyperparameter["kind"], hyperparameter["prior"]
    if kind == "categorical":
        choices = hyperparameter["choices"]
        if prior is None:
            return hp.choice(label, choices)
        total = sum(prior["weights"])
        return hp.pchoice(
            label, [(w / total, c) for w, c in zip(prior["weights"], choices, strict=True)]
        )
    low, high, log = hyperparameter["low"], hyperparameter["high"], hyperparameter["log"]
    integer = kind == "int"
    if prior is None:
        if log:
            node = (
                hp.qloguniform(label, math.log(low), math.log(high), 1)
                if integer
                else hp.loguniform(label, math.log(low), math.log(high))
            )
        else:
            node = hp.quniform(label, low, high, 1) if integer else hp.uniform(label, low, high)
        return _clip(node, low, high, integer)
    if prior["distribution"] == "beta":
        a, b = prior["alpha"], prior["beta"]
        mean = a / (a + b)
        spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        mu, sigma, log = low + mean * (high - low), spread * (high - low), False
    else:
        mu, sigma = prior["mu"], prior["sigma"]
    if log:
        node = hp.qlognormal(label, mu, sigma, 1) if integer else hp.lognormal(label, mu, sigma)
    else:
        node = hp.qnormal(label, mu, sigma, 1) if integer else hp.normal(label, mu, sigma)
    return _clip(node, low, high, integer)


class HyperoptPortable(PortablePrior):
    """The prior for hyperopt (see the module doc)."""

    def space(self) -> Any:
        """The conditional, prior-shaped space; a sample is a flat point."""
        options = []
        for name, entry in self.estimators.items():
            option: dict[str, Any] = {self.key: name}
            for hyperparameter in entry["hyperparameters"]:
                option[hyperparameter["name"]] = _node(hyperparameter)
            options.append((max(entry["weight"], 1e-6), option))
        total = sum(share for share, _ in options)
        return hp.pchoice(self.key, [(share / total, option) for share, option in options])

    def points_to_evaluate(self) -> list[dict[str, Any]]:
        """The starting points as ``fmin(points_to_evaluate=...)`` takes them: every label
        of the space (choices by index); labels of the other estimators hold their defaults,
        because hyperopt's TPE reads every label from every trial and ``fmin`` builds these
        trials with each given label active."""
        names = list(self.estimators)
        points = []
        for start in self.starting_points:
            point: dict[str, Any] = {self.key: names.index(start[self.key])}
            for name, hyperparameter in self.hyperparameters.items():
                value = start.get(name, hyperparameter["default"])
                if hyperparameter["kind"] == "categorical":
                    value = [repr(c) for c in hyperparameter["choices"]].index(repr(value))
                point[name] = value
            points.append(point)
        return points

    def objective(self, X: Any, y: Any, *, cv: int = 3) -> Callable[[Any], dict[str, Any]]:
        """An ``fmin`` objective: the loss is the cross-validated score (negated where
        higher is better); the score is kept in the result."""

        def objective(point: Mapping[str, Any]) -> dict[str, Any]:
            score = self.evaluate(point, X, y, cv=cv)
            return {"loss": self.loss(score), "status": STATUS_OK, "score": score}

        return objective
