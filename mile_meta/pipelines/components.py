"""The component registry: every name a ``PipelineSpec`` step may use, and how to build it.

Component names are the scikit-learn / LightGBM class names users already know
(``RandomForestClassifier``), plus ``TabularPreprocessor``, the first step of every spec.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Literal

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from mile_meta.pipelines.spec import ParamValue, PipelineSpec, Step

__all__ = [
    "COMPONENTS",
    "ComponentInfo",
    "build_pipeline",
    "component_info",
    "family_of",
    "make_spec",
    "standard_preprocessing",
]

ComponentKind = Literal["data_preprocessor", "feature_preprocessor", "classifier", "regressor"]


@dataclass(frozen=True)
class ComponentInfo:
    """What the registry knows about a component.

    ``needs_scaling`` / ``encoding`` choose the standard preprocessing in front of it;
    ``interpretable`` marks models a person can read (cruise-control's ``--interpretable``).
    """

    name: str
    kind: ComponentKind
    family: str
    import_path: str  # "module:Class"
    needs_scaling: bool = False
    encoding: Literal["onehot", "ordinal"] = "onehot"
    interpretable: bool = False
    fixed_params: tuple[tuple[str, ParamValue], ...] = ()  # always passed (e.g. verbosity)
    library: str | None = None  # optional package it needs (also the extra's name)

    @property
    def available(self) -> bool:
        """False when its optional library is not installed (then the space leaves it out)."""
        from mile_meta.pipelines._boosting import missing_library

        return self.library is None or not missing_library(self.library)

    def load(self) -> type:
        module_name, class_name = self.import_path.split(":")
        return getattr(importlib.import_module(module_name), class_name)


def _c(name: str, kind: ComponentKind, family: str, module: str, **kw: Any) -> ComponentInfo:
    return ComponentInfo(name, kind, family, f"{module}:{name}", **kw)


_TREE = {"encoding": "ordinal"}
_BOOSTING = "mile_meta.pipelines._boosting"
_SCALED = {"needs_scaling": True}

# One row per component reads as a table; the formatter would spread each over six lines.
# fmt: off
COMPONENTS: dict[str, ComponentInfo] = {
    info.name: info
    for info in [
        ComponentInfo(
            "TabularPreprocessor",
            "data_preprocessor",
            "preprocessing",
            "mile_meta.pipelines._preprocessing:TabularPreprocessor",
        ),
        # -- classifiers ---------------------------------------------------------------
        _c("AdaBoostClassifier", "classifier", "adaboost", "sklearn.ensemble", **_TREE),
        _c("DecisionTreeClassifier", "classifier", "decision_tree", "sklearn.tree", interpretable=True, **_TREE),
        _c("ExtraTreeClassifier", "classifier", "decision_tree", "sklearn.tree", **_TREE),
        _c("RandomForestClassifier", "classifier", "random_forest", "sklearn.ensemble", **_TREE),
        _c("ExtraTreesClassifier", "classifier", "extra_trees", "sklearn.ensemble", **_TREE),
        _c("GradientBoostingClassifier", "classifier", "gradient_boosting", "sklearn.ensemble", **_TREE),
        _c("HistGradientBoostingClassifier", "classifier", "hist_gradient_boosting", "sklearn.ensemble", **_TREE),
        ComponentInfo(
            "LGBMClassifier", "classifier", "lightgbm", "lightgbm:LGBMClassifier", encoding="ordinal",
            fixed_params=(("verbosity", -1),),
        ),
        _c("XGBClassifier", "classifier", "xgboost", _BOOSTING, library="xgboost", **_TREE),
        _c("CatBoostClassifier", "classifier", "catboost", _BOOSTING, library="catboost", **_TREE),
        _c("KNeighborsClassifier", "classifier", "knn", "sklearn.neighbors", **_SCALED),
        _c("LinearSVC", "classifier", "linear_svm", "sklearn.svm", interpretable=True, **_SCALED),
        _c("SVC", "classifier", "kernel_svm", "sklearn.svm", **_SCALED),
        _c("LogisticRegression", "classifier", "logistic_regression", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("Perceptron", "classifier", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("SGDClassifier", "classifier", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("PassiveAggressiveClassifier", "classifier", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("RidgeClassifier", "classifier", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("GaussianNB", "classifier", "naive_bayes", "sklearn.naive_bayes", interpretable=True),
        _c("BernoulliNB", "classifier", "naive_bayes", "sklearn.naive_bayes", interpretable=True),
        # MultinomialNB needs non-negative inputs: min-max scaling is part of its standard prep
        _c("MultinomialNB", "classifier", "naive_bayes", "sklearn.naive_bayes", interpretable=True, **_SCALED),
        _c("MLPClassifier", "classifier", "mlp", "sklearn.neural_network", **_SCALED),
        _c("LinearDiscriminantAnalysis", "classifier", "discriminant_analysis", "sklearn.discriminant_analysis", interpretable=True, **_SCALED),
        _c("QuadraticDiscriminantAnalysis", "classifier", "discriminant_analysis", "sklearn.discriminant_analysis", **_SCALED),
        # -- regressors ----------------------------------------------------------------
        _c("AdaBoostRegressor", "regressor", "adaboost", "sklearn.ensemble", **_TREE),
        _c("DecisionTreeRegressor", "regressor", "decision_tree", "sklearn.tree", interpretable=True, **_TREE),
        _c("RandomForestRegressor", "regressor", "random_forest", "sklearn.ensemble", **_TREE),
        _c("ExtraTreesRegressor", "regressor", "extra_trees", "sklearn.ensemble", **_TREE),
        _c("GradientBoostingRegressor", "regressor", "gradient_boosting", "sklearn.ensemble", **_TREE),
        _c("HistGradientBoostingRegressor", "regressor", "hist_gradient_boosting", "sklearn.ensemble", **_TREE),
        ComponentInfo(
            "LGBMRegressor", "regressor", "lightgbm", "lightgbm:LGBMRegressor", encoding="ordinal",
            fixed_params=(("verbosity", -1),),
        ),
        _c("XGBRegressor", "regressor", "xgboost", _BOOSTING, library="xgboost", **_TREE),
        _c("CatBoostRegressor", "regressor", "catboost", _BOOSTING, library="catboost", **_TREE),
        _c("KNeighborsRegressor", "regressor", "knn", "sklearn.neighbors", **_SCALED),
        _c("LinearSVR", "regressor", "linear_svm", "sklearn.svm", interpretable=True, **_SCALED),
        _c("SVR", "regressor", "kernel_svm", "sklearn.svm", **_SCALED),
        _c("LinearRegression", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("Ridge", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("Lasso", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("ElasticNet", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("SGDRegressor", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("ARDRegression", "regressor", "linear_model", "sklearn.linear_model", interpretable=True, **_SCALED),
        _c("GaussianProcessRegressor", "regressor", "gaussian_process", "sklearn.gaussian_process", **_SCALED),
        _c("MLPRegressor", "regressor", "mlp", "sklearn.neural_network", **_SCALED),
        # -- feature preprocessors ------------------------------------------------------
        _c("PCA", "feature_preprocessor", "pca", "sklearn.decomposition"),
        _c("TruncatedSVD", "feature_preprocessor", "svd", "sklearn.decomposition"),
        _c("FastICA", "feature_preprocessor", "ica", "sklearn.decomposition"),
        _c("KernelPCA", "feature_preprocessor", "kernel_pca", "sklearn.decomposition"),
        _c("FeatureAgglomeration", "feature_preprocessor", "feature_agglomeration", "sklearn.cluster"),
        _c("RBFSampler", "feature_preprocessor", "kitchen_sinks", "sklearn.kernel_approximation"),
        _c("Nystroem", "feature_preprocessor", "nystroem", "sklearn.kernel_approximation"),
        _c("PolynomialFeatures", "feature_preprocessor", "polynomial", "sklearn.preprocessing"),
        _c("RandomTreesEmbedding", "feature_preprocessor", "random_trees_embedding", "sklearn.ensemble"),
        # -- what auto-sklearn 0.15 pipelines need (translate/autosklearn.py) -------------
        _c("Normalizer", "feature_preprocessor", "normalizer", "sklearn.preprocessing"),
        _c("PowerTransformer", "feature_preprocessor", "power_transformer", "sklearn.preprocessing"),
        _c("ScoreFunctionSelectPercentile", "feature_preprocessor", "select_percentile", "mile_meta.pipelines._autosklearn_components"),
        _c("ScoreFunctionUnivariateSelect", "feature_preprocessor", "select_rates", "mile_meta.pipelines._autosklearn_components"),
        _c("ExtraTreesClassifierSelector", "feature_preprocessor", "extra_trees_selection", "mile_meta.pipelines._autosklearn_components"),
        _c("ExtraTreesRegressorSelector", "feature_preprocessor", "extra_trees_selection", "mile_meta.pipelines._autosklearn_components"),
        _c("LinearSVCSelector", "feature_preprocessor", "linear_svm_selection", "mile_meta.pipelines._autosklearn_components"),
        _c("PooledFeatureAgglomeration", "feature_preprocessor", "feature_agglomeration", "mile_meta.pipelines._autosklearn_components"),
        _c("TreeAdaBoostClassifier", "classifier", "adaboost", "mile_meta.pipelines._autosklearn_components", **_TREE),
        _c("TreeAdaBoostRegressor", "regressor", "adaboost", "mile_meta.pipelines._autosklearn_components", **_TREE),
        _c("LayeredMLPClassifier", "classifier", "mlp", "mile_meta.pipelines._autosklearn_components", **_SCALED),
        _c("LayeredMLPRegressor", "regressor", "mlp", "mile_meta.pipelines._autosklearn_components", **_SCALED),
        _c("NonNegativeMultinomialNB", "classifier", "naive_bayes", "mile_meta.pipelines._autosklearn_components", interpretable=True, **_SCALED),
        _c("RBFGaussianProcessRegressor", "regressor", "gaussian_process", "mile_meta.pipelines._autosklearn_components", **_SCALED),
    ]
}
# fmt: on


def component_info(name: str) -> ComponentInfo:
    try:
        return COMPONENTS[name]
    except KeyError:
        raise ValueError(
            f"unknown component {name!r}; known components: {', '.join(sorted(COMPONENTS))}"
        ) from None


def family_of(spec: PipelineSpec) -> str:
    return component_info(spec.estimator.component).family


def standard_preprocessing(estimator: str) -> Step:
    """The ``TabularPreprocessor`` step an estimator needs to run on any tabular frame."""
    info = component_info(estimator)
    scaling = "none"
    if info.needs_scaling:
        scaling = "minmax" if estimator == "MultinomialNB" else "standard"
    return Step.of(
        "TabularPreprocessor",
        numeric_imputation="median",
        categorical_encoding=info.encoding,
        scaling=scaling,
    )


def make_spec(
    estimator: str,
    params: dict[str, ParamValue] | None = None,
    *,
    feature_preprocessors: tuple[Step, ...] = (),
    preprocessing: Step | None = None,
) -> PipelineSpec:
    """A runnable spec: standard preprocessing, optional feature preprocessors, the estimator."""
    component_info(estimator)
    first = preprocessing if preprocessing is not None else standard_preprocessing(estimator)
    return PipelineSpec(
        (first, *feature_preprocessors, Step(estimator, tuple((params or {}).items())))
    )


def _instantiate(step: Step, random_state: int | None) -> BaseEstimator:
    info = component_info(step.component)
    cls = info.load()
    params = {**dict(info.fixed_params), **step.param_dict}
    accepted = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    unknown = sorted(set(params) - set(accepted))
    if unknown and not takes_any:
        raise ValueError(f"{step.component} has no hyperparameter(s) {', '.join(unknown)}")
    if random_state is not None and "random_state" in accepted and "random_state" not in params:
        params["random_state"] = random_state
    estimator = cls(**params)
    if step.component == "LogisticRegression" and params.get("solver") == "liblinear":
        # liblinear fitted one-vs-rest models before scikit-learn 1.8 refused multiclass;
        # the corpora's liblinear results were measured that way, so build it that way.
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(estimator)
    return estimator


def build_pipeline(spec: PipelineSpec, *, random_state: int | None = 0) -> Pipeline:
    """The scikit-learn pipeline a spec describes (unfitted)."""
    steps = [
        (f"{index}_{step.component}", _instantiate(step, random_state))
        for index, step in enumerate(spec.steps)
    ]
    return Pipeline(steps)
