"""Incremental refits: a bigger (or smaller) ensemble from one already fitted on the same fold.

Only where the result equals a fresh fit bit for bit (``tests/reuse/test_incremental.py``
checks each case against a fresh fit):

* forests (random forest, extra trees): growing ``n_estimators`` continues with
  ``warm_start`` (scikit-learn skips the seeds the first trees used, so the new trees are the
  ones a fresh fit would grow); shrinking keeps the first trees (tree *i* depends only on its
  seed).
* gradient boosting (scikit-learn): growing continues with ``warm_start`` (stage *i* depends on
  stages before it only) unless early stopping (``n_iter_no_change``) could stop it elsewhere.
* LightGBM ``gbdt``: shrinking predicts with the first ``num_iteration`` trees; growing
  continues from the fitted booster (``init_model``) only without row or column subsampling,
  whose random streams restart on continuation and would make other trees.

Other estimators (histogram gradient boosting, whose early stopping turns itself on for large
data; ``dart`` boosting, which reweights earlier trees) are always refitted.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from mile_meta.pipelines import Step, component_info

__all__ = ["Incremental", "incremental_for"]

_FORESTS = {
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
}
_BOOSTING = {"GradientBoostingClassifier", "GradientBoostingRegressor"}
_LIGHTGBM = {"LGBMClassifier", "LGBMRegressor"}
# LightGBM parameters (and aliases) that switch on row or column subsampling
_LIGHTGBM_SUBSAMPLING = {
    "subsample": 1.0,
    "bagging_fraction": 1.0,
    "sub_row": 1.0,
    "colsample_bytree": 1.0,
    "feature_fraction": 1.0,
    "sub_feature": 1.0,
    "colsample_bynode": 1.0,
    "feature_fraction_bynode": 1.0,
    "pos_bagging_fraction": 1.0,
    "neg_bagging_fraction": 1.0,
}


# LightGBM's other names for the number of trees: a spec using one is left alone
_LIGHTGBM_SIZE_ALIASES = {
    "num_iterations",
    "num_iteration",
    "n_iter",
    "num_tree",
    "num_trees",
    "num_round",
    "num_rounds",
    "nrounds",
    "num_boost_round",
    "max_iter",
}


class Incremental:
    """How one estimator step can be resized: ``grow`` from a smaller fit, ``shrink`` from a
    bigger one (either may be unavailable)."""

    def __init__(self, step: Step, size: int, can_grow: bool, can_shrink: bool) -> None:
        self.step = step
        self.size = size
        self.can_grow = can_grow
        self.can_shrink = can_shrink

    def lineage(self) -> dict[str, Any]:
        """The step without its size: fits of one lineage differ only in their size."""
        params = {k: v for k, v in self.step.params if k != "n_estimators"}
        return {"component": self.step.component, "params": params}

    def grow(self, fitted: Any, X: Any, y: Any) -> Any:
        """A copy of ``fitted`` (a smaller fit of this lineage) grown to ``size``."""
        name = self.step.component
        if name in _LIGHTGBM:
            extra = self.size - int(fitted.get_params()["n_estimators"])
            model = copy.deepcopy(fitted)
            model.set_params(n_estimators=extra)
            model.fit(X, y, init_model=fitted.booster_)
            model.set_params(n_estimators=self.size)
            return model
        model = copy.deepcopy(fitted)
        model.set_params(warm_start=True, n_estimators=self.size)
        model.fit(X, y)
        model.set_params(warm_start=False)
        return model

    def shrink(self, fitted: Any) -> Any:
        """``fitted`` (a bigger fit of this lineage) cut down to its first ``size`` members."""
        if self.step.component in _LIGHTGBM:
            return FirstIterations(fitted, self.size)
        model = copy.copy(fitted)  # shares the trees; the list is new
        model.estimators_ = list(fitted.estimators_[: self.size])
        model.n_estimators = self.size
        return model


class FirstIterations:
    """A fitted LightGBM model that predicts with its first ``iterations`` trees only."""

    def __init__(self, model: Any, iterations: int) -> None:
        self.model = model
        self.iterations = iterations
        if hasattr(model, "classes_"):
            self.classes_ = model.classes_

    def predict(self, X: Any) -> Any:
        return self.model.predict(X, num_iteration=self.iterations)

    def __getattr__(self, name: str) -> Any:
        if name == "predict_proba" and hasattr(self.model, "predict_proba"):
            return lambda X: self.model.predict_proba(X, num_iteration=self.iterations)
        raise AttributeError(name)


def _default_size(component: str) -> int:
    cls = component_info(component).load()
    default = inspect.signature(cls).parameters["n_estimators"].default
    return int(default)


def incremental_for(step: Step) -> Incremental | None:
    """How ``step`` can be resized, or None if it must always be fitted afresh."""
    name = step.component
    params = step.param_dict
    size = params.get("n_estimators")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        return None
    if name in _FORESTS:
        return Incremental(step, int(size or _default_size(name)), True, True)
    if name in _BOOSTING:
        if params.get("n_iter_no_change") is not None:
            return None
        return Incremental(step, int(size or _default_size(name)), True, False)
    if name in _LIGHTGBM:
        boosting = params.get("boosting_type", params.get("boosting", "gbdt"))
        if boosting != "gbdt" or "early_stopping_round" in params:
            return None
        if _LIGHTGBM_SIZE_ALIASES & set(params):
            return None
        subsampled = any(
            key in params and params[key] != full for key, full in _LIGHTGBM_SUBSAMPLING.items()
        )
        return Incremental(step, int(size or _default_size(name)), not subsampled, True)
    return None
