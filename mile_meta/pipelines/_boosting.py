"""XGBoost and CatBoost as scikit-learn estimators a ``PipelineSpec`` can name.

The libraries are optional (extras ``xgboost`` and ``catboost``) and imported only when a
model is fitted, with an error naming the extra to install. The wrappers exist because a
spec's hyperparameters are checked against the estimator's signature (the libraries take
``**kwargs``), because ``XGBClassifier`` refuses labels that are not 0..k-1, and so both
follow the scikit-learn contract (``clone``, ``get_params``, learned state in ``*_``).
Defaults are single-threaded (``n_jobs`` / ``thread_count`` = 1): a search runs one model per
core, and benchmarks give every tool one core per job.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight

from mile_meta.errors import MileMetaError

__all__ = [
    "CatBoostClassifier",
    "CatBoostRegressor",
    "XGBClassifier",
    "XGBRegressor",
    "missing_library",
    "require_library",
]

# importable module -> the mile-meta extra that installs it
OPTIONAL_LIBRARIES = {"xgboost": "xgboost", "catboost": "catboost"}


def missing_library(module: str) -> bool:
    """True when the optional library ``module`` cannot be imported here."""
    if module in sys.modules:  # imported already, or blocked (None)
        return sys.modules[module] is None
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def require_library(module: str) -> Any:
    """Import an optional model library, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        extra = OPTIONAL_LIBRARIES.get(module, module)
        raise MileMetaError(
            f"the {module} models need the {module} package; install it with "
            f"`pip install 'mile-meta[{extra}]'` or leave the family out (--exclude {module})"
        ) from error


def _weights(class_weight: str | None, y: Any, sample_weight: Any) -> Any:
    if class_weight is None:
        return sample_weight
    if class_weight != "balanced":
        raise ValueError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    balanced = compute_sample_weight("balanced", y)
    return balanced if sample_weight is None else balanced * np.asarray(sample_weight)


class _Booster(BaseEstimator):
    """Keeps the fitted library model in ``model_``; subclasses say how to make it.

    ``library_class`` / ``library_fixed`` / ``library_needs_encoded_labels`` say how the
    library's own class stands in for the wrapper where mile-meta is absent (the modules
    ``mile-meta priors -o`` writes).
    """

    library_class: ClassVar[str] = ""
    library_fixed: ClassVar[tuple[tuple[str, Any], ...]] = ()
    library_needs_encoded_labels: ClassVar[bool] = False

    def _library_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params(deep=False).items() if k != "class_weight"}

    def _make(self, classification: bool) -> Any:
        raise NotImplementedError

    def predict(self, X: Any) -> Any:
        return self.model_.predict(np.asarray(X))


class _BoosterClassifier(ClassifierMixin, _Booster):
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BoosterClassifier:
        self._validate_params()
        self.label_encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.label_encoder_.classes_
        encoded = self.label_encoder_.transform(y)
        weights = _weights(getattr(self, "class_weight", None), encoded, sample_weight)
        self.model_ = self._make(classification=True)
        self.model_.fit(np.asarray(X), encoded, sample_weight=weights)
        return self

    def predict_proba(self, X: Any) -> Any:
        probabilities = np.asarray(self.model_.predict_proba(np.asarray(X)))
        if probabilities.ndim == 1:  # one class seen in training
            probabilities = probabilities[:, None]
        return probabilities

    def predict(self, X: Any) -> Any:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _BoosterRegressor(RegressorMixin, _Booster):
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BoosterRegressor:
        self._validate_params()
        self.model_ = self._make(classification=False)
        self.model_.fit(np.asarray(X), np.asarray(y, dtype=np.float64), sample_weight=sample_weight)
        return self


def _positive_int() -> list[Any]:
    return [Interval(Integral, 1, None, closed="left")]


def _non_negative() -> list[Any]:
    return [Interval(Real, 0, None, closed="left")]


def _fraction() -> list[Any]:
    return [Interval(Real, 0, 1, closed="right")]


_SEED: list[Any] = ["random_state", None]
_CLASS_WEIGHT: list[Any] = [StrOptions({"balanced"}), None]


class _XGBParams(_Booster):
    """XGBoost's scikit-learn hyperparameters (its defaults, except one thread)."""

    # what scikit-learn's ``_validate_params`` checks (a pinned value is checked before fitting)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": _positive_int(),
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 0, None, closed="left")],
        "max_leaves": [Interval(Integral, 0, None, closed="left")],
        "grow_policy": [StrOptions({"depthwise", "lossguide"})],
        "min_child_weight": _non_negative(),
        "gamma": _non_negative(),
        "subsample": _fraction(),
        "colsample_bytree": _fraction(),
        "colsample_bylevel": _fraction(),
        "reg_alpha": _non_negative(),
        "reg_lambda": _non_negative(),
        "max_bin": [Interval(Integral, 2, None, closed="left")],
        "tree_method": [StrOptions({"hist", "approx", "exact", "auto"})],
        "n_jobs": [Integral],
        "verbosity": [Interval(Integral, 0, 3, closed="both")],
        "random_state": _SEED,
        "class_weight": _CLASS_WEIGHT,
    }

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.3,
        max_depth: int = 6,
        max_leaves: int = 0,
        grow_policy: str = "depthwise",
        min_child_weight: float = 1.0,
        gamma: float = 0.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        colsample_bylevel: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 1.0,
        max_bin: int = 256,
        tree_method: str = "hist",
        n_jobs: int = 1,
        verbosity: int = 0,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.grow_policy = grow_policy
        self.min_child_weight = min_child_weight
        self.gamma = gamma
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.colsample_bylevel = colsample_bylevel
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.verbosity = verbosity
        self.random_state = random_state

    def _make(self, classification: bool) -> Any:
        xgboost = require_library("xgboost")
        cls = xgboost.XGBClassifier if classification else xgboost.XGBRegressor
        return cls(**self._library_params())


class XGBClassifier(_BoosterClassifier, _XGBParams):
    """``xgboost.XGBClassifier`` on any labels; ``class_weight="balanced"`` reweights rows."""

    library_class = "xgboost:XGBClassifier"
    library_fixed = (("verbosity", 0),)
    library_needs_encoded_labels = True

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.3,
        max_depth: int = 6,
        max_leaves: int = 0,
        grow_policy: str = "depthwise",
        min_child_weight: float = 1.0,
        gamma: float = 0.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        colsample_bylevel: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 1.0,
        max_bin: int = 256,
        tree_method: str = "hist",
        n_jobs: int = 1,
        verbosity: int = 0,
        random_state: int | None = None,
        class_weight: str | None = None,
    ) -> None:
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            max_leaves=max_leaves,
            grow_policy=grow_policy,
            min_child_weight=min_child_weight,
            gamma=gamma,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            colsample_bylevel=colsample_bylevel,
            reg_alpha=reg_alpha,
            reg_lambda=reg_lambda,
            max_bin=max_bin,
            tree_method=tree_method,
            n_jobs=n_jobs,
            verbosity=verbosity,
            random_state=random_state,
        )
        self.class_weight = class_weight


class XGBRegressor(_BoosterRegressor, _XGBParams):
    """``xgboost.XGBRegressor`` (squared error)."""

    library_class = "xgboost:XGBRegressor"
    library_fixed = (("verbosity", 0),)


class _CatBoostParams(_Booster):
    """CatBoost's hyperparameters the spaces and portfolios use (one thread, no files)."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "iterations": _positive_int(),
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "depth": [Interval(Integral, 1, 16, closed="both")],
        "l2_leaf_reg": _non_negative(),
        "grow_policy": [StrOptions({"SymmetricTree", "Depthwise", "Lossguide"})],
        "random_strength": _non_negative(),
        "bagging_temperature": _non_negative(),
        "border_count": [Interval(Integral, 1, 65535, closed="both")],
        "one_hot_max_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_ctr_complexity": [Interval(Integral, 1, None, closed="left"), None],
        "thread_count": [Integral],
        "random_state": _SEED,
        "class_weight": _CLASS_WEIGHT,
    }

    def __init__(
        self,
        iterations: int = 200,
        learning_rate: float = 0.1,
        depth: int = 6,
        l2_leaf_reg: float = 3.0,
        grow_policy: str = "SymmetricTree",
        random_strength: float = 1.0,
        bagging_temperature: float = 1.0,
        border_count: int = 254,
        one_hot_max_size: int | None = None,
        max_ctr_complexity: int | None = None,
        thread_count: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.grow_policy = grow_policy
        self.random_strength = random_strength
        self.bagging_temperature = bagging_temperature
        self.border_count = border_count
        self.one_hot_max_size = one_hot_max_size
        self.max_ctr_complexity = max_ctr_complexity
        self.thread_count = thread_count
        self.random_state = random_state

    # quiet, and no catboost_info/ folder in the working directory
    library_fixed = (("verbose", False), ("allow_writing_files", False))

    def _make(self, classification: bool) -> Any:
        catboost = require_library("catboost")
        params = {k: v for k, v in self._library_params().items() if v is not None}
        params.update(dict(self.library_fixed))
        cls = catboost.CatBoostClassifier if classification else catboost.CatBoostRegressor
        return cls(**params)


class CatBoostClassifier(_BoosterClassifier, _CatBoostParams):
    """``catboost.CatBoostClassifier``; ``class_weight="balanced"`` reweights rows."""

    library_class = "catboost:CatBoostClassifier"

    def __init__(
        self,
        iterations: int = 200,
        learning_rate: float = 0.1,
        depth: int = 6,
        l2_leaf_reg: float = 3.0,
        grow_policy: str = "SymmetricTree",
        random_strength: float = 1.0,
        bagging_temperature: float = 1.0,
        border_count: int = 254,
        one_hot_max_size: int | None = None,
        max_ctr_complexity: int | None = None,
        thread_count: int = 1,
        random_state: int | None = None,
        class_weight: str | None = None,
    ) -> None:
        super().__init__(
            iterations=iterations,
            learning_rate=learning_rate,
            depth=depth,
            l2_leaf_reg=l2_leaf_reg,
            grow_policy=grow_policy,
            random_strength=random_strength,
            bagging_temperature=bagging_temperature,
            border_count=border_count,
            one_hot_max_size=one_hot_max_size,
            max_ctr_complexity=max_ctr_complexity,
            thread_count=thread_count,
            random_state=random_state,
        )
        self.class_weight = class_weight


class CatBoostRegressor(_BoosterRegressor, _CatBoostParams):
    """``catboost.CatBoostRegressor`` (RMSE)."""

    library_class = "catboost:CatBoostRegressor"
