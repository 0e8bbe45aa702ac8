"""What every tool needs from a mile-meta prior, with no import of mile-meta.

This file is copied into every module ``mile-meta priors -o`` writes (after the module's
docstring), so it may import only the standard library, numpy, scikit-learn and — inside functions —
the estimators' own packages. mile-meta uses the same code through
:mod:`mile_meta.priors._standalone`, so a written module and the package behave alike.

``PRIOR`` data (see ``mile_meta.priors._portable``): per estimator the class to build, its
fixed parameters, its standard preprocessing and every hyperparameter with bounds, choices,
default and fitted prior; the starting points (flat: ``"estimator"`` plus
``"<Estimator>:<name>"`` keys), best first; the metric, its direction and its scikit-learn
scorer; and the report of what the tool cannot express.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone


def _draw(hyperparameter: Mapping[str, Any], rng: np.random.RandomState) -> Any:
    """One value of a hyperparameter: from its fitted prior, else uniform (log-uniform where
    log-scaled); always inside its bounds."""
    prior = hyperparameter.get("prior")
    kind = hyperparameter["kind"]
    if kind == "categorical":
        choices = hyperparameter["choices"]
        weights = np.asarray(prior["weights"] if prior else [1.0] * len(choices), dtype=float)
        return choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
    low, high, log = hyperparameter["low"], hyperparameter["high"], hyperparameter["log"]
    scaled_low, scaled_high = (math.log(low), math.log(high)) if log else (low, high)
    if prior is None:
        value = rng.uniform(scaled_low, scaled_high)
        result = math.exp(value) if log else value
    elif prior["distribution"] == "beta":
        share = rng.beta(prior["alpha"], prior["beta"])
        result = low + share * (high - low)
    else:
        for _ in range(100):  # rejection sampling keeps the normal's shape inside the bounds
            value = rng.normal(prior["mu"], prior["sigma"])
            if scaled_low <= value <= scaled_high:
                break
        else:
            value = min(max(prior["mu"], scaled_low), scaled_high)
        result = math.exp(value) if log else value
    result = min(max(float(result), low), high)
    if kind == "int":
        return int(min(max(round(result), math.ceil(low)), math.floor(high)))
    return float(result)


class EncodedLabelsClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that takes only labels 0..k-1 (XGBoost's), fitted on any labels."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, **fit_params: Any) -> EncodedLabelsClassifier:
        self.classes_, encoded = np.unique(np.asarray(y), return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, encoded, **fit_params)
        return self

    def predict_proba(self, X: Any) -> Any:
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> Any:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _PipelineFactory:
    """``factory(**params)`` -> the scikit-learn pipeline of one estimator (picklable)."""

    def __init__(self, portable: PortablePrior, estimator: str) -> None:
        self.portable = portable
        self.estimator = estimator

    def __call__(self, **params: Any) -> Any:
        key = self.portable.key
        point = {key: self.estimator}
        point.update({f"{self.estimator}:{k}": v for k, v in params.items() if k != "n_jobs"})
        return self.portable.make_pipeline(point)


class PortablePrior:
    """A mile-meta prior as plain data (``PRIOR``), and the models its points describe."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.key: str = data["estimator_key"]
        self.estimators: dict[str, Mapping[str, Any]] = {
            entry["estimator"]: entry for entry in data["estimators"]
        }
        self.hyperparameters: dict[str, Mapping[str, Any]] = {
            h["name"]: h for entry in data["estimators"] for h in entry["hyperparameters"]
        }
        self.starting_points: list[dict[str, Any]] = [dict(p) for p in data["starting_points"]]
        self.direction: str = data["direction"]
        self.task_type: str = data["task_type"]
        self.metric: str = data["metric"]
        self.report: list[str] = list(data["report"])

    # -- points ------------------------------------------------------------------------------
    def split(self, point: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(estimator, its parameters) of a flat point; other estimators' keys are ignored."""
        if self.key not in point:
            raise KeyError(f"a point needs the {self.key!r} key; got {sorted(point)}")
        estimator = str(point[self.key])
        if estimator not in self.estimators:
            raise KeyError(f"{estimator!r} is not an estimator of this prior")
        prefix = f"{estimator}:"
        params = {}
        for key, value in point.items():
            if key.startswith(prefix):
                if hasattr(value, "item"):  # numpy scalars from the tools
                    value = value.item()
                if self.hyperparameters.get(key, {}).get("kind") == "int":
                    value = round(value)
                params[key[len(prefix) :]] = value
        return estimator, params

    def estimator_weights(self) -> dict[str, float]:
        """Each estimator's share of the search (family weights split among the family)."""
        return {name: float(entry["weight"]) for name, entry in self.estimators.items()}

    def sample(self, rng: np.random.RandomState) -> dict[str, Any]:
        """A point drawn from the prior: the estimator by weight, then its hyperparameters."""
        names = list(self.estimators)
        weights = np.asarray([max(self.estimators[n]["weight"], 1e-9) for n in names])
        estimator = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        point: dict[str, Any] = {self.key: estimator}
        for hyperparameter in self.estimators[estimator]["hyperparameters"]:
            point[hyperparameter["name"]] = _draw(hyperparameter, rng)
        return point

    # -- models ------------------------------------------------------------------------------
    def make_estimator(self, point: Mapping[str, Any], *, random_state: int | None = 0) -> Any:
        """The unfitted estimator of a point (its fixed parameters included)."""
        estimator, params = self.split(point)
        entry = self.estimators[estimator]
        module_name, class_name = entry["class"].split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        arguments = {**entry["fixed"], **params}
        if random_state is not None and "random_state" in inspect.signature(cls).parameters:
            arguments.setdefault("random_state", random_state)
        model = cls(**arguments)
        condition = entry.get("one_vs_rest_when")
        if condition and all(arguments.get(k) == v for k, v in condition.items()):
            from sklearn.multiclass import OneVsRestClassifier

            model = OneVsRestClassifier(model)
        if entry.get("encode_labels") and self.task_type != "regression":
            model = EncodedLabelsClassifier(model)
        return model

    def make_pipeline(self, point: Mapping[str, Any], *, random_state: int | None = 0) -> Any:
        """A scikit-learn pipeline for any tabular frame: imputation, encoding and scaling as
        the estimator needs them (mile-meta's standard preprocessing), then the estimator."""
        from sklearn.compose import ColumnTransformer, make_column_selector
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import (
            MinMaxScaler,
            OneHotEncoder,
            OrdinalEncoder,
            StandardScaler,
        )

        estimator, _ = self.split(point)
        steps = self.estimators[estimator]["preprocessing"]
        numeric: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
        if steps.get("scaling") == "standard":
            numeric.append(("scale", StandardScaler()))
        elif steps.get("scaling") == "minmax":
            numeric.append(("scale", MinMaxScaler()))
        if steps.get("categorical_encoding") == "ordinal":
            encoder: Any = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        else:
            encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        categorical = Pipeline(
            [("impute", SimpleImputer(strategy="most_frequent")), ("encode", encoder)]
        )
        preprocess = ColumnTransformer(
            [
                ("numeric", Pipeline(numeric), make_column_selector(dtype_include="number")),
                ("categorical", categorical, make_column_selector(dtype_exclude="number")),
            ]
        )
        model = self.make_estimator(point, random_state=random_state)
        return Pipeline([("preprocess", preprocess), ("model", model)])

    def evaluate(
        self, point: Mapping[str, Any], X: Any, y: Any, *, cv: int = 3, random_state: int = 0
    ) -> float:
        """The point's cross-validated score in the prior's metric (see ``direction``)."""
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

        scoring = self.data["scoring"]
        folds = (
            KFold(cv, shuffle=True, random_state=random_state)
            if self.task_type == "regression"
            else StratifiedKFold(cv, shuffle=True, random_state=random_state)
        )
        scores = cross_val_score(
            self.make_pipeline(point, random_state=random_state),
            X,
            y,
            cv=folds,
            scoring=scoring["scorer"],
            error_score="raise",
        )
        return float(scoring["offset"] + scoring["sign"] * np.mean(scores))

    def loss(self, score: float) -> float:
        """A score turned into a loss to minimise (tools that only minimise)."""
        return -score if self.direction == "maximize" else score
