"""Small estimators that let a ``PipelineSpec`` say what auto-sklearn 0.15 components do.

A spec step takes only flat str/int/float/bool/None hyperparameters, so scikit-learn objects
that need a nested estimator (AdaBoost's base tree), a tuple (an MLP's layer sizes), a
callable (a score function) or a kernel object get a thin wrapper here. Each wrapper builds
the scikit-learn object auto-sklearn 0.15 builds from the same hyperparameters (including
the rules it applies at fit time, such as ``int(n_features ** max_features)``) and delegates
to it; the translator in :mod:`mile_meta.pipelines.translate.autosklearn` is the only writer
of these names.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.class_weight import compute_sample_weight

__all__ = [
    "ExtraTreesClassifierSelector",
    "ExtraTreesRegressorSelector",
    "LayeredMLPClassifier",
    "LayeredMLPRegressor",
    "LinearSVCSelector",
    "NonNegativeMultinomialNB",
    "PooledFeatureAgglomeration",
    "RBFGaussianProcessRegressor",
    "ScoreFunctionSelectPercentile",
    "ScoreFunctionUnivariateSelect",
    "TreeAdaBoostClassifier",
    "TreeAdaBoostRegressor",
]


def _clip_negative(X: Any) -> Any:
    """Set negative entries to 0 (what auto-sklearn does before chi2 and MultinomialNB)."""
    if scipy.sparse.issparse(X):
        X = X.copy()
        X.data[X.data < 0] = 0.0
        return X
    return np.maximum(np.asarray(X, dtype=np.float64), 0.0)


class _Delegating(BaseEstimator):
    """Predict with the fitted scikit-learn model in ``estimator_``."""

    def predict(self, X: Any) -> Any:
        return self.estimator_.predict(X)


class _DelegatingClassifier(ClassifierMixin, _Delegating):
    def predict_proba(self, X: Any) -> Any:
        return self.estimator_.predict_proba(X)

    @property
    def classes_(self) -> Any:
        return self.estimator_.classes_


# -- classifiers and regressors ----------------------------------------------------------


class TreeAdaBoostClassifier(_DelegatingClassifier):
    """AdaBoost (SAMME) over decision trees of depth ``max_depth``.

    ``class_weight="balanced"`` starts boosting from class-balanced sample weights, as
    auto-sklearn's ``balancing:strategy=weighting`` does (AdaBoost normalises them).
    """

    def __init__(
        self,
        n_estimators: int = 50,
        learning_rate: float = 1.0,
        max_depth: int = 1,
        class_weight: str | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> TreeAdaBoostClassifier:
        from sklearn.ensemble import AdaBoostClassifier
        from sklearn.tree import DecisionTreeClassifier

        weights = compute_sample_weight(self.class_weight, y) if self.class_weight else None
        self.estimator_ = AdaBoostClassifier(
            DecisionTreeClassifier(max_depth=self.max_depth),
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            random_state=self.random_state,
        ).fit(X, y, sample_weight=weights)
        return self


class TreeAdaBoostRegressor(RegressorMixin, _Delegating):
    """AdaBoost.R2 over regression trees of depth ``max_depth``."""

    def __init__(
        self,
        n_estimators: int = 50,
        learning_rate: float = 1.0,
        loss: str = "linear",
        max_depth: int = 3,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> TreeAdaBoostRegressor:
        from sklearn.ensemble import AdaBoostRegressor
        from sklearn.tree import DecisionTreeRegressor

        self.estimator_ = AdaBoostRegressor(
            DecisionTreeRegressor(max_depth=self.max_depth),
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            loss=self.loss,
            random_state=self.random_state,
        ).fit(X, y)
        return self


# the MLPClassifier/MLPRegressor arguments the layered wrappers pass through unchanged
_MLP_PASSED_THROUGH = (
    "activation",
    "solver",
    "alpha",
    "batch_size",
    "learning_rate_init",
    "max_iter",
    "shuffle",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "tol",
    "beta_1",
    "beta_2",
    "epsilon",
    "random_state",
)


def _mlp_kwargs(model: Any) -> dict[str, Any]:
    layers = (int(model.num_nodes_per_layer),) * int(model.hidden_layer_depth)
    return {
        "hidden_layer_sizes": layers,
        **{name: getattr(model, name) for name in _MLP_PASSED_THROUGH},
    }


class LayeredMLPClassifier(_DelegatingClassifier):
    """``MLPClassifier`` with ``hidden_layer_depth`` layers of ``num_nodes_per_layer`` units."""

    def __init__(
        self,
        hidden_layer_depth: int = 1,
        num_nodes_per_layer: int = 100,
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: str | int = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        random_state: int | None = None,
    ) -> None:
        self.hidden_layer_depth = hidden_layer_depth
        self.num_nodes_per_layer = num_nodes_per_layer
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LayeredMLPClassifier:
        from sklearn.neural_network import MLPClassifier

        self.estimator_ = MLPClassifier(**_mlp_kwargs(self)).fit(X, y)
        return self


class LayeredMLPRegressor(RegressorMixin, _Delegating):
    """``MLPRegressor`` with equal hidden layers; optionally fitted on the standardised target.

    auto-sklearn 0.15 fits its MLP regressor on ``(y - mean) / std`` and maps predictions
    back (``standardize_target=True``).
    """

    def __init__(
        self,
        hidden_layer_depth: int = 1,
        num_nodes_per_layer: int = 100,
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: str | int = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        standardize_target: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.hidden_layer_depth = hidden_layer_depth
        self.num_nodes_per_layer = num_nodes_per_layer
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.standardize_target = standardize_target
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LayeredMLPRegressor:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler

        model: Any = MLPRegressor(**_mlp_kwargs(self))
        if self.standardize_target:
            model = TransformedTargetRegressor(model, transformer=StandardScaler())
        self.estimator_ = model.fit(X, y)
        return self


class RBFGaussianProcessRegressor(RegressorMixin, _Delegating):
    """Gaussian process with an anisotropic RBF kernel whose length scales stay in bounds.

    One length scale per input feature, each bounded by
    ``(length_scale_lower, length_scale_upper)`` (auto-sklearn's ``thetaL``/``thetaU``);
    ``alpha`` is the noise added to the kernel's diagonal.
    """

    def __init__(
        self,
        alpha: float = 1e-10,
        length_scale_lower: float = 1e-5,
        length_scale_upper: float = 1e5,
        n_restarts_optimizer: int = 10,
        normalize_y: bool = True,
        random_state: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.length_scale_lower = length_scale_lower
        self.length_scale_upper = length_scale_upper
        self.n_restarts_optimizer = n_restarts_optimizer
        self.normalize_y = normalize_y
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> RBFGaussianProcessRegressor:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF

        n_features = X.shape[1]
        kernel = RBF(
            length_scale=[1.0] * n_features,
            length_scale_bounds=[(self.length_scale_lower, self.length_scale_upper)] * n_features,
        )
        self.estimator_ = GaussianProcessRegressor(
            kernel=kernel,
            alpha=self.alpha,
            n_restarts_optimizer=self.n_restarts_optimizer,
            normalize_y=self.normalize_y,
            random_state=self.random_state,
        ).fit(X, y)
        return self


class NonNegativeMultinomialNB(_DelegatingClassifier):
    """``MultinomialNB`` that reads negative inputs as 0, as auto-sklearn's does."""

    def __init__(self, alpha: float = 1.0, fit_prior: bool = True) -> None:
        self.alpha = alpha
        self.fit_prior = fit_prior

    def fit(self, X: Any, y: Any) -> NonNegativeMultinomialNB:
        from sklearn.naive_bayes import MultinomialNB

        self.estimator_ = MultinomialNB(alpha=self.alpha, fit_prior=self.fit_prior).fit(
            _clip_negative(X), y
        )
        return self

    def predict(self, X: Any) -> Any:
        return self.estimator_.predict(_clip_negative(X))

    def predict_proba(self, X: Any) -> Any:
        return self.estimator_.predict_proba(_clip_negative(X))


# -- feature preprocessors ---------------------------------------------------------------


def _score_function(name: str, random_state: int | None) -> Any:
    from functools import partial

    from sklearn import feature_selection

    functions = {
        "chi2": feature_selection.chi2,
        "f_classif": feature_selection.f_classif,
        "f_regression": feature_selection.f_regression,
        "mutual_info_classif": partial(
            feature_selection.mutual_info_classif, random_state=random_state
        ),
        "mutual_info_regression": partial(
            feature_selection.mutual_info_regression, random_state=random_state
        ),
    }
    if name not in functions:
        raise ValueError(f"unknown score_func {name!r}; use one of {', '.join(sorted(functions))}")
    return functions[name]


class _Selector(TransformerMixin, BaseEstimator):
    """Keeps the columns ``selector_`` keeps; at least the best one (never an empty table)."""

    score_func: str = ""

    def _prepare(self, X: Any) -> Any:
        # auto-sklearn clips negatives before chi2 in both fit and transform
        return _clip_negative(X) if self.score_func == "chi2" else X

    def _fit_selector(self, selector: Any, X: Any, y: Any) -> None:
        selector.fit(self._prepare(X), y)
        mask = np.asarray(selector.get_support())
        if not mask.any():
            # auto-sklearn's run would have failed here; keep the best-scored column instead
            scores = np.nan_to_num(
                np.asarray(getattr(selector, "scores_", np.zeros(mask.size))), nan=-np.inf
            )
            mask[int(np.argmax(scores))] = True
        self.support_ = mask

    def transform(self, X: Any) -> Any:
        X = self._prepare(X)
        return X[:, self.support_] if not scipy.sparse.issparse(X) else X.tocsc()[:, self.support_]


class ScoreFunctionSelectPercentile(_Selector):
    """``SelectPercentile`` with the score function named by a string.

    ``score_func`` is one of chi2, f_classif, mutual_info_classif, f_regression,
    mutual_info_regression; ``percentile`` is truncated to an integer as auto-sklearn does.
    """

    def __init__(
        self,
        percentile: float = 10.0,
        score_func: str = "f_classif",
        random_state: int | None = None,
    ) -> None:
        self.percentile = percentile
        self.score_func = score_func
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ScoreFunctionSelectPercentile:
        from sklearn.feature_selection import SelectPercentile

        selector = SelectPercentile(
            _score_function(self.score_func, self.random_state), percentile=int(self.percentile)
        )
        self._fit_selector(selector, X, y)
        return self


class ScoreFunctionUnivariateSelect(_Selector):
    """``GenericUnivariateSelect`` (mode fpr/fdr/fwe/percentile, threshold ``param``) by name.

    auto-sklearn switches the mode to ``percentile`` for the mutual-information scores and
    keeps ``param`` (then read as a percentage); the translator writes that mode explicitly.
    """

    def __init__(
        self,
        score_func: str = "f_classif",
        mode: str = "fpr",
        param: float = 0.05,
        random_state: int | None = None,
    ) -> None:
        self.score_func = score_func
        self.mode = mode
        self.param = param
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ScoreFunctionUnivariateSelect:
        from sklearn.feature_selection import GenericUnivariateSelect

        selector = GenericUnivariateSelect(
            _score_function(self.score_func, self.random_state), mode=self.mode, param=self.param
        )
        self._fit_selector(selector, X, y)
        return self


class _ModelSelector(_Selector):
    """Keeps the columns whose importance in a fitted model is at least the mean importance."""

    def _select_with(self, model: Any, X: Any, y: Any) -> None:
        from sklearn.feature_selection import SelectFromModel

        self._fit_selector(SelectFromModel(model, threshold="mean"), X, y)


class ExtraTreesClassifierSelector(_ModelSelector):
    """Features an extra-trees classifier finds important (``SelectFromModel``, mean threshold).

    ``max_features_exponent`` = v gives ``int(n_features ** v)`` features per split, the rule
    of auto-sklearn's ``extra_trees_preproc_for_classification``.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        criterion: str = "gini",
        max_features_exponent: float = 0.5,
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = False,
        class_weight: str | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_features_exponent = max_features_exponent
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ExtraTreesClassifierSelector:
        from sklearn.ensemble import ExtraTreesClassifier

        model = ExtraTreesClassifier(
            n_estimators=self.n_estimators,
            criterion=self.criterion,
            max_features=max(1, int(X.shape[1] ** float(self.max_features_exponent))),
            max_depth=self.max_depth,
            min_samples_split=self.min_samples_split,
            min_samples_leaf=self.min_samples_leaf,
            min_weight_fraction_leaf=self.min_weight_fraction_leaf,
            max_leaf_nodes=self.max_leaf_nodes,
            min_impurity_decrease=self.min_impurity_decrease,
            bootstrap=self.bootstrap,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )
        self._select_with(model, X, y)
        return self


class ExtraTreesRegressorSelector(_ModelSelector):
    """Features an extra-trees regressor finds important (``SelectFromModel``, mean threshold).

    Features per split: ``max(1, min(n_features // 2, int(max_features_factor * (ln n + 1))))``,
    the rule of auto-sklearn's ``extra_trees_preproc_for_regression``.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        criterion: str = "squared_error",
        max_features_factor: float = 1.0,
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_leaf_nodes: int | None = None,
        bootstrap: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_features_factor = max_features_factor
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_leaf_nodes = max_leaf_nodes
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ExtraTreesRegressorSelector:
        from sklearn.ensemble import ExtraTreesRegressor

        n_features = X.shape[1]
        per_split = int(float(self.max_features_factor) * (math.log(n_features) + 1))
        model = ExtraTreesRegressor(
            n_estimators=self.n_estimators,
            criterion=self.criterion,
            max_features=max(1, min(n_features // 2, per_split)),
            max_depth=self.max_depth,
            min_samples_split=self.min_samples_split,
            min_samples_leaf=self.min_samples_leaf,
            min_weight_fraction_leaf=self.min_weight_fraction_leaf,
            max_leaf_nodes=self.max_leaf_nodes,
            bootstrap=self.bootstrap,
            random_state=self.random_state,
        )
        self._select_with(model, X, y)
        return self


class LinearSVCSelector(_ModelSelector):
    """Features with large weights in a (usually L1-penalised) ``LinearSVC``."""

    def __init__(
        self,
        C: float = 1.0,
        penalty: str = "l1",
        loss: str = "squared_hinge",
        dual: bool = False,
        tol: float = 1e-4,
        multi_class: str = "ovr",
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        class_weight: str | None = None,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.multi_class = multi_class
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LinearSVCSelector:
        from sklearn.svm import LinearSVC

        model = LinearSVC(
            C=self.C,
            penalty=self.penalty,
            loss=self.loss,
            dual=self.dual,
            tol=self.tol,
            multi_class=self.multi_class,
            fit_intercept=self.fit_intercept,
            intercept_scaling=self.intercept_scaling,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )
        self._select_with(model, X, y)
        return self


_POOLING = {"mean": np.mean, "median": np.median, "max": np.max}


class PooledFeatureAgglomeration(TransformerMixin, BaseEstimator):
    """``FeatureAgglomeration`` with the pooling function named (mean/median/max).

    ``n_clusters`` is capped at the number of input features, as auto-sklearn does.
    """

    def __init__(
        self,
        n_clusters: int = 2,
        metric: str = "euclidean",
        linkage: str = "ward",
        pooling_func: str = "mean",
    ) -> None:
        self.n_clusters = n_clusters
        self.metric = metric
        self.linkage = linkage
        self.pooling_func = pooling_func

    def fit(self, X: Any, y: Any = None) -> PooledFeatureAgglomeration:
        from sklearn.cluster import FeatureAgglomeration

        if self.pooling_func not in _POOLING:
            raise ValueError(f"unknown pooling_func {self.pooling_func!r}; use mean, median or max")
        self.agglomeration_ = FeatureAgglomeration(
            n_clusters=min(int(self.n_clusters), X.shape[1]),
            metric=self.metric,
            linkage=self.linkage,
            pooling_func=_POOLING[self.pooling_func],
        ).fit(X)
        return self

    def transform(self, X: Any) -> Any:
        return self.agglomeration_.transform(X)
