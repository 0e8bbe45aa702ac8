"""The searchable pipeline space: per estimator, its hyperparameters and their ranges.

One definition serves the search engine (Optuna draws from it) and the prior exporters
(Optuna, ConfigSpace, FLAML, hyperopt, Ray Tune translate it), so a configuration found by one
is valid in the others. Ranges follow the usual AutoML spaces (auto-sklearn, FLAML) and hold
the values the corpora used where those are plain numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from mile_meta.errors import MileMetaError
from mile_meta.pipelines._boosting import require_library
from mile_meta.pipelines.components import COMPONENTS, make_spec
from mile_meta.pipelines.spec import ParamValue, PipelineSpec

__all__ = [
    "EstimatorSpace",
    "Hyperparameter",
    "estimator_space",
    "search_space",
    "spec_from_config",
]


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: ``float``/``int`` in [low, high] (log-scaled if ``log``) or a
    ``categorical`` among ``choices``; ``default`` is scikit-learn's (or LightGBM's)."""

    name: str
    kind: Literal["float", "int", "categorical"]
    default: ParamValue
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[ParamValue, ...] = ()

    def contains(self, value: ParamValue) -> bool:
        if self.kind == "categorical":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "int" and not float(value).is_integer():
            return False
        assert self.low is not None and self.high is not None
        return self.low <= float(value) <= self.high


@dataclass(frozen=True)
class EstimatorSpace:
    estimator: str  # component name
    family: str
    hyperparameters: tuple[Hyperparameter, ...]
    fixed: tuple[tuple[str, ParamValue], ...] = field(default=())  # always set (e.g. n_jobs)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hyperparameters)

    def hyperparameter(self, name: str) -> Hyperparameter:
        for hyperparameter in self.hyperparameters:
            if hyperparameter.name == name:
                return hyperparameter
        raise KeyError(name)

    def defaults(self) -> dict[str, ParamValue]:
        return {h.name: h.default for h in self.hyperparameters}


def _f(name: str, low: float, high: float, default: float, log: bool = False) -> Hyperparameter:
    return Hyperparameter(name, "float", default, low, high, log)


def _i(name: str, low: int, high: int, default: int, log: bool = False) -> Hyperparameter:
    return Hyperparameter(name, "int", default, low, high, log)


def _c(name: str, choices: Iterable[ParamValue], default: ParamValue) -> Hyperparameter:
    return Hyperparameter(name, "categorical", default, choices=tuple(choices))


def _forest(
    estimator: str, family: str, criteria: tuple[str, ...], default_criterion: str
) -> EstimatorSpace:
    return EstimatorSpace(
        estimator,
        family,
        (
            _c("criterion", criteria, default_criterion),
            _f("max_features", 0.05, 1.0, 1.0 if "Regressor" in estimator else 0.3),
            _i("min_samples_split", 2, 64, 2, log=True),
            _i("min_samples_leaf", 1, 32, 1, log=True),
            _c("bootstrap", (True, False), "Extra" not in estimator),
        ),
        fixed=(("n_estimators", 100), ("n_jobs", 1)),
    )


def _lightgbm(estimator: str) -> EstimatorSpace:
    return EstimatorSpace(
        estimator,
        "lightgbm",
        (
            _i("n_estimators", 16, 1024, 100, log=True),
            _i("num_leaves", 4, 256, 31, log=True),
            _f("learning_rate", 0.005, 0.5, 0.1, log=True),
            _i("min_child_samples", 2, 128, 20, log=True),
            _f("subsample", 0.5, 1.0, 1.0),
            _f("colsample_bytree", 0.3, 1.0, 1.0),
            _f("reg_lambda", 1e-3, 10.0, 1e-3, log=True),
        ),
        fixed=(("n_jobs", 1), ("subsample_freq", 1)),
    )


def _xgboost(estimator: str) -> EstimatorSpace:
    # XGBoost's own defaults (eta 0.3, depth 6); ranges as FLAML's xgb_limitdepth space
    return EstimatorSpace(
        estimator,
        "xgboost",
        (
            _i("n_estimators", 16, 1024, 100, log=True),
            _i("max_depth", 1, 12, 6),
            _f("learning_rate", 0.005, 0.5, 0.3, log=True),
            _f("min_child_weight", 1e-3, 128.0, 1.0, log=True),
            _f("subsample", 0.5, 1.0, 1.0),
            _f("colsample_bytree", 0.3, 1.0, 1.0),
            _f("reg_lambda", 1e-3, 10.0, 1.0, log=True),
        ),
        fixed=(("n_jobs", 1), ("tree_method", "hist")),
    )


def _catboost(estimator: str) -> EstimatorSpace:
    # CatBoost's defaults except 200 iterations (its 1000 are slow at short budgets) with a
    # correspondingly larger step; ranges as AutoGluon's CatBoost search space
    return EstimatorSpace(
        estimator,
        "catboost",
        (
            _i("iterations", 16, 1024, 200, log=True),
            _i("depth", 3, 10, 6),
            _f("learning_rate", 0.005, 0.5, 0.1, log=True),
            _f("l2_leaf_reg", 0.5, 30.0, 3.0, log=True),
        ),
        fixed=(("thread_count", 1),),
    )


def _hist(estimator: str) -> EstimatorSpace:
    return EstimatorSpace(
        estimator,
        "hist_gradient_boosting",
        (
            _f("learning_rate", 0.01, 1.0, 0.1, log=True),
            _i("max_leaf_nodes", 3, 2047, 31, log=True),
            _i("min_samples_leaf", 1, 200, 20, log=True),
            _f("l2_regularization", 1e-10, 1.0, 1e-10, log=True),
        ),
    )


_CLASSIFIERS = (
    _lightgbm("LGBMClassifier"),
    _hist("HistGradientBoostingClassifier"),
    _forest("RandomForestClassifier", "random_forest", ("gini", "entropy"), "gini"),
    _forest("ExtraTreesClassifier", "extra_trees", ("gini", "entropy"), "gini"),
    # after the forests: a search's first defaults stay the cheap, well-known ones
    _xgboost("XGBClassifier"),
    _catboost("CatBoostClassifier"),
    EstimatorSpace(
        "GradientBoostingClassifier",
        "gradient_boosting",
        (
            _f("learning_rate", 0.001, 0.5, 0.1, log=True),
            _i("max_depth", 1, 10, 3),
            _c("max_features", (None, "log2", "sqrt"), None),
            _f("subsample", 0.5, 1.0, 1.0),
        ),
    ),
    EstimatorSpace(
        "LogisticRegression",
        "logistic_regression",
        (
            _f("C", 0.03125, 32768.0, 1.0, log=True),
            _c("l1_ratio", (0.0, 1.0), 0.0),
            _c("solver", ("saga", "liblinear"), "saga"),
        ),
        fixed=(("max_iter", 500),),
    ),
    EstimatorSpace("LinearSVC", "linear_svm", (_f("C", 0.03125, 32768.0, 1.0, log=True),)),
    EstimatorSpace(
        "SVC",
        "kernel_svm",
        (
            _f("C", 0.03125, 32768.0, 1.0, log=True),
            _c("kernel", ("rbf", "poly", "sigmoid"), "rbf"),
            _f("coef0", -1.0, 10.0, 0.0),
        ),
    ),
    EstimatorSpace(
        "KNeighborsClassifier",
        "knn",
        (
            _i("n_neighbors", 1, 100, 5, log=True),
            _c("weights", ("uniform", "distance"), "uniform"),
            _c("p", (1, 2), 2),
        ),
    ),
    EstimatorSpace(
        "DecisionTreeClassifier",
        "decision_tree",
        (
            _c("criterion", ("gini", "entropy"), "gini"),
            _i("max_depth", 1, 30, 30),
            _i("min_samples_split", 2, 64, 2, log=True),
            _i("min_samples_leaf", 1, 32, 1, log=True),
        ),
    ),
    EstimatorSpace(
        "AdaBoostClassifier",
        "adaboost",
        (_i("n_estimators", 50, 500, 50, log=True), _f("learning_rate", 0.01, 3.0, 1.0, log=True)),
    ),
    EstimatorSpace(
        "GaussianNB", "naive_bayes", (_f("var_smoothing", 1e-12, 1e-3, 1e-9, log=True),)
    ),
    EstimatorSpace(
        "MLPClassifier",
        "mlp",
        (
            _f("alpha", 1e-7, 1e-1, 1e-4, log=True),
            _f("learning_rate_init", 1e-4, 0.5, 1e-3, log=True),
            _c("solver", ("adam", "sgd"), "adam"),
        ),
        fixed=(("max_iter", 300), ("early_stopping", True)),
    ),
)

_REGRESSORS = (
    _lightgbm("LGBMRegressor"),
    _hist("HistGradientBoostingRegressor"),
    _forest(
        "RandomForestRegressor",
        "random_forest",
        ("squared_error", "absolute_error"),
        "squared_error",
    ),
    _forest(
        "ExtraTreesRegressor", "extra_trees", ("squared_error", "absolute_error"), "squared_error"
    ),
    # after the forests: a search's first defaults stay the cheap, well-known ones
    _xgboost("XGBRegressor"),
    _catboost("CatBoostRegressor"),
    EstimatorSpace(
        "GradientBoostingRegressor",
        "gradient_boosting",
        (
            _f("learning_rate", 0.001, 0.5, 0.1, log=True),
            _i("max_depth", 1, 10, 3),
            _c("loss", ("squared_error", "huber", "absolute_error"), "squared_error"),
            _f("subsample", 0.5, 1.0, 1.0),
        ),
    ),
    EstimatorSpace("Ridge", "linear_model", (_f("alpha", 1e-5, 1e4, 1.0, log=True),)),
    EstimatorSpace(
        "Lasso",
        "linear_model",
        (_f("alpha", 1e-5, 1e2, 1.0, log=True),),
        fixed=(("max_iter", 5000),),
    ),
    EstimatorSpace(
        "ElasticNet",
        "linear_model",
        (_f("alpha", 1e-5, 1e2, 1.0, log=True), _f("l1_ratio", 0.0, 1.0, 0.5)),
        fixed=(("max_iter", 5000),),
    ),
    EstimatorSpace(
        "SVR",
        "kernel_svm",
        (
            _f("C", 0.03125, 32768.0, 1.0, log=True),
            _f("epsilon", 1e-3, 1.0, 0.1, log=True),
            _c("kernel", ("rbf", "poly"), "rbf"),
        ),
    ),
    EstimatorSpace(
        "KNeighborsRegressor",
        "knn",
        (
            _i("n_neighbors", 1, 100, 5, log=True),
            _c("weights", ("uniform", "distance"), "uniform"),
            _c("p", (1, 2), 2),
        ),
    ),
    EstimatorSpace(
        "DecisionTreeRegressor",
        "decision_tree",
        (
            _i("max_depth", 1, 30, 30),
            _i("min_samples_split", 2, 64, 2, log=True),
            _i("min_samples_leaf", 1, 32, 1, log=True),
        ),
    ),
)


def search_space(
    task_type: str,
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    interpretable_only: bool = False,
) -> tuple[EstimatorSpace, ...]:
    """Estimator spaces for a task, filtered by family or estimator name.

    Families whose optional library is not installed (xgboost, catboost) are left out, and
    naming one in ``include`` is an error saying which extra to install.
    """
    spaces = _REGRESSORS if task_type == "regression" else _CLASSIFIERS
    wanted = {name.lower() for name in include} if include else None
    unwanted = {name.lower() for name in exclude} if exclude else set()
    chosen = []
    for space in spaces:
        names = {space.family.lower(), space.estimator.lower()}
        if wanted is not None and not names & wanted:
            continue
        if names & unwanted:
            continue
        info = COMPONENTS[space.estimator]
        if interpretable_only and not info.interpretable:
            continue
        if not info.available:
            if wanted is not None and info.library is not None:
                require_library(info.library)  # raises, naming the extra to install
            continue
        chosen.append(space)
    known = {n for s in spaces for n in (s.family.lower(), s.estimator.lower())}
    unknown = sorted(((wanted or set()) | unwanted) - known)
    if unknown:
        raise MileMetaError(
            f"unknown famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} for {task_type}; "
            f"use {', '.join(sorted({s.family for s in spaces}))}"
        )
    return tuple(chosen)


def estimator_space(estimator: str, task_type: str | None = None) -> EstimatorSpace:
    for space in (*_CLASSIFIERS, *_REGRESSORS):
        if space.estimator == estimator:
            return space
    raise MileMetaError(f"{estimator} is not in the search space")


def spec_from_config(estimator: str, params: Mapping[str, ParamValue]) -> PipelineSpec:
    """The runnable spec of a configuration drawn from the space (fixed values added)."""
    space = estimator_space(estimator)
    merged = {**dict(space.fixed), **dict(params)}
    return make_spec(estimator, merged)
