"""auto-sklearn 0.15's pipeline configurations (``configurations.csv`` rows) as specs.

A configuration is a flat ConfigSpace dictionary: ``classifier:__choice__`` (or
``regressor:__choice__``) with ``classifier:<choice>:<hyperparameter>`` entries, the same for
``feature_preprocessor``, the data preprocessing (``data_preprocessor:feature_type:...``:
numeric imputation, rescaling, categorical encoding, minority coalescence) and
``balancing:strategy``. Values may be strings as in the CSV file (``"True"``, ``"None"``,
``"0.5"``) or Python values.

The translation follows what auto-sklearn 0.15 builds from a configuration at fit time
(``autosklearn/pipeline/components/``): its iterative models get their final budget (512
trees or iterations, 1024 epochs for SGD/passive-aggressive); hyperparameters it ignores are
ignored; its quirks are kept (its MLP passes ``beta_1`` and ``beta_2`` swapped; its decision
tree truncates ``max_depth_factor`` to an integer). Whatever scikit-learn cannot say for
every dataset is approximated and named in ``Translation.reasons``, each reason starting with
a topic (``"random_forest.max_features: ..."``); ``docs/autosklearn-translation.md`` has the
table. Differences that hold for every configuration (scikit-learn 1.9 instead of 0.24,
auto-sklearn's always-on variance threshold, fitting iterative models in one go instead of in
growing warm-started chunks) are documented there and do not count against ``exact``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping

from mile_meta.pipelines.components import COMPONENTS
from mile_meta.pipelines.spec import ParamValue, PipelineSpec, Step
from mile_meta.pipelines.translate import Translation

__all__ = [
    "REFERENCE_FEATURES",
    "canonical_configuration",
    "configuration_id",
    "translate_autosklearn",
]

REFERENCE_FEATURES = 20
"""Feature count at which data-dependent settings are approximated.

auto-sklearn's classification forests take ``int(n_features ** v)`` features per split; a
scikit-learn fraction ``f`` takes ``f * n_features``, so ``f = 20 ** (v - 1)`` agrees at 20
features, the median width of auto-sklearn's classification meta-datasets.
"""

_MISSING = object()
_DATA = "data_preprocessor:feature_type:"
_NUMERIC = _DATA + "numerical_transformer:"
_CATEGORICAL = _DATA + "categorical_transformer:"

_SCALING = {
    "none": "none",
    "standardize": "standard",
    "minmax": "minmax",
    "robust_scaler": "robust",
    "quantile_transformer": "quantile",
    "normalize": "none",
    "power_transformer": "none",
}
# scikit-learn 1.x names of the criteria and losses auto-sklearn 0.15 wrote in 0.24 spelling;
# scikit-learn 1.9 deprecates "friedman_mse" as always equivalent to "squared_error"
_CRITERION = {"mse": "squared_error", "mae": "absolute_error", "friedman_mse": "squared_error"}
_SGD_LOSS = {"log": "log_loss", "squared_loss": "squared_error"}
_HGB_LOSS = {
    "auto": "log_loss",
    "binary_crossentropy": "log_loss",
    "categorical_crossentropy": "log_loss",
    "least_squares": "squared_error",
    "least_absolute_deviation": "absolute_error",
}


def canonical_configuration(config: Mapping[str, object]) -> str:
    """The configuration as sorted JSON with string values (inactive/empty entries dropped)."""
    cleaned = {
        str(key): _as_text(value)
        for key, value in config.items()
        if value is not None and _as_text(value) != ""
    }
    return json.dumps(cleaned, sort_keys=True, separators=(",", ":"))


def configuration_id(config: Mapping[str, object]) -> str:
    """A stable name for a configuration: 12 hex digits of the sha256 of its canonical JSON."""
    return hashlib.sha256(canonical_configuration(config).encode()).hexdigest()[:12]


def _as_text(value: object) -> str:
    return str(value).strip()


class _Reader:
    """Typed access to a configuration; remembers what was read and what was approximated."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self.values = {
            str(key): value
            for key, value in config.items()
            if value is not None and _as_text(value) != ""
        }
        self.used: set[str] = set()
        self.reasons: list[str] = []

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str, default: object = _MISSING) -> object:
        if key not in self.values:
            if default is _MISSING:
                raise _Untranslatable(f"configuration lacks {key!r}")
            return default
        self.used.add(key)
        return self.values[key]

    def text(self, key: str, default: object = _MISSING) -> str:
        return _as_text(self.raw(key, default))

    def number(self, key: str, default: object = _MISSING) -> float:
        value = self.raw(key, default)
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _Untranslatable(f"{key}={value!r} is not a number") from None

    def integer(self, key: str, default: object = _MISSING) -> int:
        return int(self.number(key, default))

    def flag(self, key: str, default: object = _MISSING) -> bool:
        value = self.raw(key, default)
        if isinstance(value, bool):
            return value
        text = _as_text(value).lower()
        if text not in ("true", "false"):
            raise _Untranslatable(f"{key}={value!r} is not True/False")
        return text == "true"

    def optional_integer(self, key: str) -> int | None:
        """``None``/``"None"`` (or absent) mean no limit, as in auto-sklearn's ``check_none``."""
        value = self.raw(key, "None")
        return None if _as_text(value).lower() == "none" else int(float(value))  # type: ignore[arg-type]

    def skip(self, *keys: str) -> None:
        """Mark hyperparameters auto-sklearn itself does not pass on."""
        self.used.update(key for key in keys if key in self.values)

    def approximate(self, topic: str, detail: str) -> None:
        self.reasons.append(f"{topic}: {detail}")


class _Untranslatable(Exception):
    pass


# -- shared pieces ---------------------------------------------------------------------------


def _power_max_features(r: _Reader, key: str, topic: str) -> ParamValue:
    """scikit-learn's ``max_features`` for auto-sklearn's ``int(n_features ** value)``."""
    text = r.text(key)
    if text in ("sqrt", "log2"):
        return text
    if text == "auto":
        return "sqrt"
    value = float(text)
    if value <= 0.0:
        return 1  # n ** 0 == 1 feature
    if value == 0.5:
        return "sqrt"  # int(n ** 0.5) == int(sqrt(n))
    if value >= 1.0:
        return 1.0
    fraction = round(REFERENCE_FEATURES ** (value - 1.0), 4)
    r.approximate(
        topic,
        f"auto-sklearn takes int(n_features ** {value:.4g}) features per split; "
        f"translated as the fraction {fraction} (equal at {REFERENCE_FEATURES} features)",
    )
    return max(fraction, 1e-4)


def _tree_params(r: _Reader, p: str, *, regression: bool) -> dict[str, ParamValue]:
    criterion = r.text(p + "criterion")
    return {
        "criterion": _CRITERION.get(criterion, criterion) if regression else criterion,
        "max_depth": r.optional_integer(p + "max_depth"),
        "min_samples_split": r.integer(p + "min_samples_split"),
        "min_samples_leaf": r.integer(p + "min_samples_leaf"),
        "min_weight_fraction_leaf": r.number(p + "min_weight_fraction_leaf", 0.0),
        "max_leaf_nodes": r.optional_integer(p + "max_leaf_nodes"),
        "min_impurity_decrease": r.number(p + "min_impurity_decrease", 0.0),
    }


def _depth_from_factor(r: _Reader, p: str) -> int | None:
    text = r.text(p + "max_depth_factor", "None")
    if text.lower() == "none":
        return None
    factor = int(float(text))  # auto-sklearn truncates the factor before using it
    if factor == 0:
        return 1
    r.approximate(
        "decision_tree.max_depth_factor",
        f"auto-sklearn's depth is {factor} x the number of features (the factor {text} "
        "truncated); translated as unlimited depth",
    )
    return None


def _balanced(r: _Reader, weighting: bool, topic: str, task_type: str) -> dict[str, ParamValue]:
    """class_weight for estimators to which auto-sklearn passes per-class sample weights.

    auto-sklearn's weights are n / (2 x class count), which equals scikit-learn's
    'balanced' n / (k x class count) for k = 2 classes and is k/2 times it otherwise; trees,
    forests and AdaBoost do not care about that factor, linear models and boosting do.
    """
    if not weighting:
        return {}
    if task_type != "binary":
        r.approximate(
            "balancing",
            f"{topic} gets sample weights n/(2 x class count) in auto-sklearn, "
            "class_weight='balanced' here (the same for two classes)",
        )
    return {"class_weight": "balanced"}


def _hgb_params(r: _Reader, p: str, *, regression: bool) -> dict[str, ParamValue]:
    loss = r.text(p + "loss")
    params: dict[str, ParamValue] = {
        "loss": _HGB_LOSS.get(loss, loss),
        "learning_rate": r.number(p + "learning_rate"),
        "max_iter": 512,
        "min_samples_leaf": r.integer(p + "min_samples_leaf"),
        "max_depth": r.optional_integer(p + "max_depth"),
        "max_leaf_nodes": r.optional_integer(p + "max_leaf_nodes"),
        "max_bins": r.integer(p + "max_bins", 255),
        "l2_regularization": r.number(p + "l2_regularization"),
        "tol": r.number(p + "tol", 1e-7),
    }
    scoring = r.text(p + "scoring", "loss")
    params["scoring"] = None if scoring.lower() == "none" else scoring
    early_stop = r.text(p + "early_stop")
    if early_stop == "off":
        r.skip(p + "n_iter_no_change", p + "validation_fraction")
        params["early_stopping"] = False
        if regression:
            r.approximate(
                "gradient_boosting.early_stop",
                "auto-sklearn leaves the regressor's early_stopping='auto' with "
                "n_iter_no_change=0, which scikit-learn >= 1.0 refuses; translated as off "
                "(the same up to 10 000 training rows)",
            )
        return params
    if early_stop not in ("train", "valid"):
        raise _Untranslatable(f"unknown gradient_boosting early_stop {early_stop!r}")
    # the classifier switches early stopping on; the regressor leaves scikit-learn's 'auto'
    params["early_stopping"] = "auto" if regression else True
    params["n_iter_no_change"] = r.integer(p + "n_iter_no_change")
    params["validation_fraction"] = (
        r.number(p + "validation_fraction") if early_stop == "valid" else None
    )
    return params


def _mlp_params(r: _Reader, p: str) -> dict[str, ParamValue]:
    batch_size = r.text(p + "batch_size", "auto")
    params: dict[str, ParamValue] = {
        "hidden_layer_depth": r.integer(p + "hidden_layer_depth"),
        "num_nodes_per_layer": r.integer(p + "num_nodes_per_layer"),
        "activation": r.text(p + "activation"),
        "alpha": r.number(p + "alpha"),
        "learning_rate_init": r.number(p + "learning_rate_init"),
        "solver": r.text(p + "solver", "adam"),
        "batch_size": batch_size if batch_size == "auto" else int(float(batch_size)),
        "max_iter": 512,
        "shuffle": r.flag(p + "shuffle", True),
        "n_iter_no_change": r.integer(p + "n_iter_no_change"),
        "tol": r.number(p + "tol"),
        # auto-sklearn 0.15 passes beta_1=beta_2 and beta_2=beta_1; we keep what it ran
        "beta_1": r.number(p + "beta_2", 0.999),
        "beta_2": r.number(p + "beta_1", 0.9),
        "epsilon": r.number(p + "epsilon", 1e-8),
    }
    early_stopping = r.text(p + "early_stopping")
    if early_stopping == "valid":
        params["early_stopping"] = True
        params["validation_fraction"] = r.number(p + "validation_fraction")
    elif early_stopping == "train":
        params["early_stopping"] = False
        r.skip(p + "validation_fraction")
    else:
        raise _Untranslatable(f"unknown mlp early_stopping {early_stopping!r}")
    return params


def _sgd_params(r: _Reader, p: str) -> dict[str, ParamValue]:
    loss = r.text(p + "loss")
    params: dict[str, ParamValue] = {
        "loss": _SGD_LOSS.get(loss, loss),
        "penalty": r.text(p + "penalty"),
        "alpha": r.number(p + "alpha"),
        "fit_intercept": r.flag(p + "fit_intercept", True),
        "tol": r.number(p + "tol"),
        "learning_rate": r.text(p + "learning_rate"),
        "average": r.flag(p + "average", False),
        "max_iter": 1024,
    }
    for name in ("l1_ratio", "epsilon", "eta0", "power_t"):
        if r.has(p + name):
            params[name] = r.number(p + name)
    return params


def _svm_params(r: _Reader, p: str, *, default_gamma: float | None) -> dict[str, ParamValue]:
    kernel = r.text(p + "kernel")
    params: dict[str, ParamValue] = {
        "C": r.number(p + "C"),
        "kernel": kernel,
        "tol": r.number(p + "tol"),
        "shrinking": r.flag(p + "shrinking"),
        "max_iter": int(r.number(p + "max_iter", -1)),
    }
    if kernel == "poly":
        params["degree"] = r.integer(p + "degree", 3)
    else:
        r.skip(p + "degree")
    if kernel in ("poly", "sigmoid"):
        params["coef0"] = r.number(p + "coef0", 0.0)
    else:
        r.skip(p + "coef0")
    if kernel != "linear":
        gamma = r.raw(p + "gamma", default_gamma)
        if gamma is None:
            raise _Untranslatable(f"configuration lacks {p}gamma")
        params["gamma"] = float(gamma)  # type: ignore[arg-type]
    else:
        r.skip(p + "gamma")
    return params


def _linear_svm_params(r: _Reader, p: str) -> dict[str, ParamValue]:
    return {
        "C": r.number(p + "C"),
        "loss": r.text(p + "loss"),
        "dual": r.flag(p + "dual"),
        "tol": r.number(p + "tol"),
        "fit_intercept": r.flag(p + "fit_intercept", True),
        "intercept_scaling": r.number(p + "intercept_scaling", 1.0),
    }


# -- estimators ------------------------------------------------------------------------------

_Estimator = tuple[str, dict[str, ParamValue]]
_EstimatorRule = Callable[[_Reader, str, bool, str], _Estimator]


def _forest(component: str, topic: str) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        params = {
            "n_estimators": 512,
            **_tree_params(r, p, regression=False),
            "max_features": _power_max_features(r, p + "max_features", topic),
            "bootstrap": r.flag(p + "bootstrap"),
        }
        if weighting:
            params["class_weight"] = "balanced"  # forests ignore the weights' scale
        return component, params

    return rule


def _forest_regressor(component: str) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        # the regression forests use max_features as a plain fraction
        return component, {
            "n_estimators": 512,
            **_tree_params(r, p, regression=True),
            "max_features": r.number(p + "max_features"),
            "bootstrap": r.flag(p + "bootstrap"),
        }

    return rule


def _decision_tree(component: str, *, regression: bool) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        r.skip(p + "max_features")  # auto-sklearn does not pass it on
        params = _tree_params(r, p, regression=regression)
        params["max_depth"] = _depth_from_factor(r, p)
        if weighting and not regression:
            params["class_weight"] = "balanced"
        return component, params

    return rule


def _adaboost_classifier(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    params: dict[str, ParamValue] = {
        "n_estimators": r.integer(p + "n_estimators"),
        "learning_rate": r.number(p + "learning_rate"),
    }
    algorithm = r.text(p + "algorithm", "SAMME")
    if algorithm != "SAMME":
        r.approximate(
            "adaboost.algorithm",
            f"{algorithm} is gone from scikit-learn >= 1.6; translated as SAMME",
        )
    max_depth = r.integer(p + "max_depth")
    if max_depth == 1 and not weighting:
        return "AdaBoostClassifier", params  # its default base learner is a depth-1 tree
    params["max_depth"] = max_depth
    if weighting:
        params["class_weight"] = "balanced"  # AdaBoost normalises the weights: exact
    return "TreeAdaBoostClassifier", params


def _adaboost_regressor(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    params: dict[str, ParamValue] = {
        "n_estimators": r.integer(p + "n_estimators"),
        "learning_rate": r.number(p + "learning_rate"),
        "loss": r.text(p + "loss"),
    }
    max_depth = r.integer(p + "max_depth")
    if max_depth == 3:
        return "AdaBoostRegressor", params  # its default base learner is a depth-3 tree
    return "TreeAdaBoostRegressor", {**params, "max_depth": max_depth}


def _hgb(component: str, *, regression: bool) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        params = _hgb_params(r, p, regression=regression)
        if not regression:
            params.update(_balanced(r, weighting, "gradient_boosting", task_type))
        return component, params

    return rule


def _knn(component: str) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        return component, {
            "n_neighbors": r.integer(p + "n_neighbors"),
            "weights": r.text(p + "weights"),
            "p": r.integer(p + "p"),
        }

    return rule


def _lda(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    shrinkage = r.text(p + "shrinkage", "None")
    params: dict[str, ParamValue] = {"tol": r.number(p + "tol")}
    if shrinkage.lower() == "none":
        params["solver"] = "svd"
    elif shrinkage == "auto":
        params.update(solver="lsqr", shrinkage="auto")
    elif shrinkage == "manual":
        params.update(solver="lsqr", shrinkage=r.number(p + "shrinkage_factor"))
    else:
        raise _Untranslatable(f"unknown lda shrinkage {shrinkage!r}")
    return "LinearDiscriminantAnalysis", params


def _qda(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "QuadraticDiscriminantAnalysis", {"reg_param": r.number(p + "reg_param")}


def _liblinear_svc(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    params = {
        **_linear_svm_params(r, p),
        "penalty": r.text(p + "penalty"),
        "multi_class": r.text(p + "multi_class", "ovr"),
    }
    if weighting:
        params["class_weight"] = "balanced"  # auto-sklearn passes the same
    return "LinearSVC", params


def _libsvm_svc(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    params = _svm_params(r, p, default_gamma=None)
    if weighting:
        params["class_weight"] = "balanced"
    return "SVC", params


def _sgd_classifier(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "SGDClassifier", {**_sgd_params(r, p), **_balanced(r, weighting, "sgd", task_type)}


def _passive_aggressive(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    # scikit-learn 1.8 deprecated PassiveAggressiveClassifier for this SGDClassifier, which
    # computes the same updates (PA-I for the hinge loss, PA-II for the squared hinge)
    loss = r.text(p + "loss")
    if loss not in ("hinge", "squared_hinge"):
        raise _Untranslatable(f"unknown passive_aggressive loss {loss!r}")
    params: dict[str, ParamValue] = {
        "loss": "hinge",
        "penalty": None,
        "learning_rate": "pa1" if loss == "hinge" else "pa2",
        "eta0": r.number(p + "C"),
        "fit_intercept": r.flag(p + "fit_intercept", True),
        "tol": r.number(p + "tol"),
        "average": r.flag(p + "average", False),
        "max_iter": 1024,
    }
    if weighting:
        r.approximate(
            "balancing",
            "auto-sklearn's passive-aggressive ignores the sample weights in its first "
            "two epochs; class_weight='balanced' here weighs every epoch",
        )
        params["class_weight"] = "balanced"
    return "SGDClassifier", params


def _mlp_classifier(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "LayeredMLPClassifier", _mlp_params(r, p)


def _mlp_regressor(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "LayeredMLPRegressor", {**_mlp_params(r, p), "standardize_target": True}


def _naive_bayes(component: str) -> _EstimatorRule:
    def rule(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
        if component == "GaussianNB":
            return component, {}
        return component, {"alpha": r.number(p + "alpha"), "fit_prior": r.flag(p + "fit_prior")}

    return rule


def _ard(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    r.skip(p + "fit_intercept")  # auto-sklearn always fits the intercept
    return "ARDRegression", {
        "max_iter": r.integer(p + "n_iter"),
        "tol": r.number(p + "tol"),
        "alpha_1": r.number(p + "alpha_1"),
        "alpha_2": r.number(p + "alpha_2"),
        "lambda_1": r.number(p + "lambda_1"),
        "lambda_2": r.number(p + "lambda_2"),
        "threshold_lambda": r.number(p + "threshold_lambda"),
        "fit_intercept": True,
    }


def _gaussian_process(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "RBFGaussianProcessRegressor", {
        "alpha": r.number(p + "alpha"),
        "length_scale_lower": r.number(p + "thetaL"),
        "length_scale_upper": r.number(p + "thetaU"),
    }


def _liblinear_svr(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    return "LinearSVR", {**_linear_svm_params(r, p), "epsilon": r.number(p + "epsilon")}


def _target_standardised(r: _Reader, name: str) -> None:
    r.approximate(
        "target_standardisation",
        f"auto-sklearn fits its {name} on the standardised target (epsilon and C act on "
        "that scale); translated on the raw target",
    )


def _libsvm_svr(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    _target_standardised(r, "SVR")
    params = _svm_params(r, p, default_gamma=0.1)
    params["epsilon"] = r.number(p + "epsilon")
    return "SVR", params


def _sgd_regressor(r: _Reader, p: str, weighting: bool, task_type: str) -> _Estimator:
    _target_standardised(r, "SGD regressor")
    return "SGDRegressor", _sgd_params(r, p)


_CLASSIFIERS: dict[str, _EstimatorRule] = {
    "adaboost": _adaboost_classifier,
    "bernoulli_nb": _naive_bayes("BernoulliNB"),
    "decision_tree": _decision_tree("DecisionTreeClassifier", regression=False),
    "extra_trees": _forest("ExtraTreesClassifier", "extra_trees.max_features"),
    "gaussian_nb": _naive_bayes("GaussianNB"),
    "gradient_boosting": _hgb("HistGradientBoostingClassifier", regression=False),
    "k_nearest_neighbors": _knn("KNeighborsClassifier"),
    "lda": _lda,
    "liblinear_svc": _liblinear_svc,
    "libsvm_svc": _libsvm_svc,
    "mlp": _mlp_classifier,
    "multinomial_nb": _naive_bayes("NonNegativeMultinomialNB"),
    "passive_aggressive": _passive_aggressive,
    "qda": _qda,
    "random_forest": _forest("RandomForestClassifier", "random_forest.max_features"),
    "sgd": _sgd_classifier,
}

_REGRESSORS: dict[str, _EstimatorRule] = {
    "adaboost": _adaboost_regressor,
    "ard_regression": _ard,
    "decision_tree": _decision_tree("DecisionTreeRegressor", regression=True),
    "extra_trees": _forest_regressor("ExtraTreesRegressor"),
    "gaussian_process": _gaussian_process,
    "gradient_boosting": _hgb("HistGradientBoostingRegressor", regression=True),
    "k_nearest_neighbors": _knn("KNeighborsRegressor"),
    "liblinear_svr": _liblinear_svr,
    "libsvm_svr": _libsvm_svr,
    "mlp": _mlp_regressor,
    "random_forest": _forest_regressor("RandomForestRegressor"),
    "sgd": _sgd_regressor,
}

# -- feature preprocessors -------------------------------------------------------------------

_Preprocessor = tuple[str, dict[str, ParamValue]] | None
_PreprocessorRule = Callable[[_Reader, str, bool], _Preprocessor]


def _nothing(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return None


def _pca(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return "PCA", {"n_components": r.number(p + "keep_variance"), "whiten": r.flag(p + "whiten")}


def _truncated_svd(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    r.approximate(
        "truncated_svd.target_dim",
        "auto-sklearn caps target_dim at n_features - 1; translated uncapped",
    )
    return "TruncatedSVD", {"n_components": r.integer(p + "target_dim"), "algorithm": "randomized"}


def _fast_ica(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    whiten = r.flag(p + "whiten")
    params: dict[str, ParamValue] = {
        "algorithm": r.text(p + "algorithm"),
        "fun": r.text(p + "fun"),
        # whiten=True meant 'arbitrary-variance' until scikit-learn 1.3
        "whiten": "arbitrary-variance" if whiten else False,
    }
    if whiten and r.has(p + "n_components"):
        params["n_components"] = r.integer(p + "n_components")
    else:
        r.skip(p + "n_components")
    return "FastICA", params


def _feature_agglomeration(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return "PooledFeatureAgglomeration", {
        "n_clusters": r.integer(p + "n_clusters"),
        "metric": r.text(p + "affinity"),
        "linkage": r.text(p + "linkage"),
        "pooling_func": r.text(p + "pooling_func"),
    }


def _kernel_pca(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return "KernelPCA", {
        "n_components": r.integer(p + "n_components"),
        "kernel": r.text(p + "kernel"),
        "degree": r.integer(p + "degree", 3),
        "gamma": r.number(p + "gamma", 0.25),
        "coef0": r.number(p + "coef0", 0.0),
        "remove_zero_eig": True,
    }


def _kitchen_sinks(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return "RBFSampler", {
        "gamma": r.number(p + "gamma"),
        "n_components": r.integer(p + "n_components"),
    }


def _nystroem(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    kernel = r.text(p + "kernel")
    if kernel == "chi2":
        r.approximate(
            "nystroem.chi2",
            "auto-sklearn sets negative inputs to 0 before the chi2 kernel; not done here",
        )
    return "Nystroem", {
        "kernel": kernel,
        "n_components": r.integer(p + "n_components"),
        "gamma": r.number(p + "gamma", 1.0),
        "degree": r.integer(p + "degree", 3),
        "coef0": r.number(p + "coef0", 1.0),
    }


def _polynomial(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    return "PolynomialFeatures", {
        "degree": r.integer(p + "degree"),
        "interaction_only": r.flag(p + "interaction_only"),
        "include_bias": r.flag(p + "include_bias"),
    }


def _random_trees_embedding(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    # auto-sklearn does not pass bootstrap and min_weight_fraction_leaf on
    r.skip(p + "bootstrap", p + "min_weight_fraction_leaf")
    return "RandomTreesEmbedding", {
        "n_estimators": r.integer(p + "n_estimators"),
        "max_depth": r.optional_integer(p + "max_depth"),
        "min_samples_split": r.integer(p + "min_samples_split"),
        "min_samples_leaf": r.integer(p + "min_samples_leaf"),
        "max_leaf_nodes": r.optional_integer(p + "max_leaf_nodes"),
    }


def _score_function(name: str, *, regression: bool) -> str:
    if name in ("mutual_info", "mutual_info_classif", "mutual_info_regression"):
        return "mutual_info_regression" if regression else "mutual_info_classif"
    return name


def _select_percentile(regression: bool) -> _PreprocessorRule:
    def rule(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
        default = "f_regression" if regression else "chi2"
        return "ScoreFunctionSelectPercentile", {
            "percentile": float(int(r.number(p + "percentile"))),
            "score_func": _score_function(r.text(p + "score_func", default), regression=regression),
        }

    return rule


def _select_rates(regression: bool) -> _PreprocessorRule:
    def rule(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
        default = "f_regression" if regression else "chi2"
        score_func = _score_function(r.text(p + "score_func", default), regression=regression)
        mode = r.text(p + "mode", "percentile" if regression else "fpr")
        if score_func.startswith("mutual_info"):
            mode = "percentile"  # auto-sklearn forces it, keeping alpha as the percentage
        return "ScoreFunctionUnivariateSelect", {
            "score_func": score_func,
            "mode": mode,
            "param": r.number(p + "alpha"),
        }

    return rule


def _extra_trees_selector_classification(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    # auto-sklearn does not pass min_weight_fraction_leaf on for classification
    r.skip(p + "min_weight_fraction_leaf")
    params: dict[str, ParamValue] = {
        "n_estimators": r.integer(p + "n_estimators"),
        "criterion": r.text(p + "criterion"),
        "max_features_exponent": r.number(p + "max_features"),
        "max_depth": r.optional_integer(p + "max_depth"),
        "min_samples_split": r.integer(p + "min_samples_split"),
        "min_samples_leaf": r.integer(p + "min_samples_leaf"),
        "max_leaf_nodes": r.optional_integer(p + "max_leaf_nodes"),
        "min_impurity_decrease": r.number(p + "min_impurity_decrease", 0.0),
        "bootstrap": r.flag(p + "bootstrap"),
    }
    if weighting:
        params["class_weight"] = "balanced"
    return "ExtraTreesClassifierSelector", params


def _extra_trees_selector_regression(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    criterion = r.text(p + "criterion")
    return "ExtraTreesRegressorSelector", {
        "n_estimators": r.integer(p + "n_estimators"),
        "criterion": _CRITERION.get(criterion, criterion),
        "max_features_factor": r.number(p + "max_features"),
        "max_depth": r.optional_integer(p + "max_depth"),
        "min_samples_split": r.integer(p + "min_samples_split"),
        "min_samples_leaf": r.integer(p + "min_samples_leaf"),
        "min_weight_fraction_leaf": r.number(p + "min_weight_fraction_leaf", 0.0),
        "max_leaf_nodes": r.optional_integer(p + "max_leaf_nodes"),
        "bootstrap": r.flag(p + "bootstrap", False),
    }


def _liblinear_svc_selector(r: _Reader, p: str, weighting: bool) -> _Preprocessor:
    params = {
        **_linear_svm_params(r, p),
        "penalty": r.text(p + "penalty"),
        "multi_class": r.text(p + "multi_class", "ovr"),
    }
    if weighting:
        params["class_weight"] = "balanced"
    return "LinearSVCSelector", params


_FEATURE_PREPROCESSORS: dict[str, _PreprocessorRule] = {
    "no_preprocessing": _nothing,
    "densifier": _nothing,  # our data is dense already
    "pca": _pca,
    "truncatedSVD": _truncated_svd,
    "fast_ica": _fast_ica,
    "feature_agglomeration": _feature_agglomeration,
    "kernel_pca": _kernel_pca,
    "kitchen_sinks": _kitchen_sinks,
    "nystroem_sampler": _nystroem,
    "polynomial": _polynomial,
    "random_trees_embedding": _random_trees_embedding,
    "select_percentile_classification": _select_percentile(regression=False),
    "select_percentile_regression": _select_percentile(regression=True),
    "select_rates_classification": _select_rates(regression=False),
    "select_rates_regression": _select_rates(regression=True),
    "extra_trees_preproc_for_classification": _extra_trees_selector_classification,
    "extra_trees_preproc_for_regression": _extra_trees_selector_regression,
    "liblinear_svc_preprocessor": _liblinear_svc_selector,
}

# -- data preprocessing ----------------------------------------------------------------------


def _data_preprocessing(r: _Reader) -> tuple[Step, ...]:
    """The ``TabularPreprocessor`` step (and a rescaling step where it has no equivalent)."""
    choice = r.text("data_preprocessor:__choice__", "feature_type")
    if choice != "feature_type":
        raise _Untranslatable(f"unknown data_preprocessor {choice!r}")
    params: dict[str, ParamValue] = {
        "numeric_imputation": r.text(_NUMERIC + "imputation:strategy", "mean"),
    }
    encoding = r.text(_CATEGORICAL + "categorical_encoding:__choice__", "one_hot_encoding")
    coalescence = r.text(_CATEGORICAL + "category_coalescence:__choice__", "no_coalescense")
    if encoding == "one_hot_encoding":
        params["categorical_encoding"] = "onehot"
    elif encoding == "no_encoding":
        # auto-sklearn passes ordinal codes shifted by a constant: the same splits and fits
        params["categorical_encoding"] = "ordinal"
    else:
        raise _Untranslatable(f"unknown categorical_encoding {encoding!r}")
    if coalescence == "minority_coalescer":
        fraction = r.number(
            _CATEGORICAL + "category_coalescence:minority_coalescer:minimum_fraction"
        )
        r.approximate(
            "coalescence",
            f"auto-sklearn pools categories rarer than {fraction:.3g} of the rows into one; "
            + (
                "translated as one-hot's cap of 32 columns per feature"
                if encoding == "one_hot_encoding"
                else "not done with ordinal codes"
            ),
        )
    elif coalescence == "no_coalescense":
        if encoding == "one_hot_encoding":
            params["max_categories"] = None  # one column per category, as auto-sklearn
    else:
        raise _Untranslatable(f"unknown category_coalescence {coalescence!r}")

    rescaling = r.text(_NUMERIC + "rescaling:__choice__", "none")
    if rescaling not in _SCALING:
        raise _Untranslatable(f"unknown rescaling {rescaling!r}")
    params["scaling"] = _SCALING[rescaling]
    extra: tuple[Step, ...] = ()
    prefix = _NUMERIC + f"rescaling:{rescaling}:"
    if rescaling == "quantile_transformer":
        n_quantiles = r.integer(prefix + "n_quantiles")
        distribution = r.text(prefix + "output_distribution")
        if (n_quantiles, distribution) != (100, "normal"):
            r.approximate(
                "rescaling.quantile_transformer",
                f"n_quantiles={n_quantiles}, output_distribution={distribution}; "
                "TabularPreprocessor's quantile scaling uses 100 quantiles, normal output",
            )
    elif rescaling == "robust_scaler":
        q_min, q_max = r.number(prefix + "q_min"), r.number(prefix + "q_max")
        if (q_min, q_max) != (0.25, 0.75):
            r.approximate(
                "rescaling.robust_scaler",
                f"quantile range ({q_min:.3g}, {q_max:.3g}); TabularPreprocessor's robust "
                "scaling uses (0.25, 0.75)",
            )
    elif rescaling in ("normalize", "power_transformer"):
        component = "Normalizer" if rescaling == "normalize" else "PowerTransformer"
        extra = (Step(component),)
        r.approximate(
            f"rescaling.{rescaling}",
            f"{component} runs after encoding on every column; auto-sklearn applies it to "
            "numeric columns only (the same without categorical features)",
        )
    return (Step("TabularPreprocessor", tuple(params.items())), *extra)


# -- the translator --------------------------------------------------------------------------


def translate_autosklearn(config: Mapping[str, object], task_type: str) -> Translation:
    """Translate one auto-sklearn 0.15 configuration for a task type.

    ``task_type`` is "binary", "multiclass", "classification" (either) or "regression";
    balancing weights are exact only for "binary" where auto-sklearn's and scikit-learn's
    weights differ by a constant for more classes.
    """
    origin = configuration_id(config)
    r = _Reader(config)
    try:
        steps = _translate(r, task_type)
    except _Untranslatable as error:
        return Translation(origin, None, False, (str(error),))
    except (TypeError, ValueError) as error:
        return Translation(origin, None, False, (f"unreadable configuration: {error}",))
    leftover = sorted(set(r.values) - r.used)
    reasons = [*r.reasons, *(f"untranslated: {key}" for key in leftover)]
    return Translation(origin, PipelineSpec(steps), not reasons, tuple(reasons))


def _translate(r: _Reader, task_type: str) -> tuple[Step, ...]:
    regression = task_type == "regression"
    if not regression and task_type not in ("binary", "multiclass", "classification"):
        raise _Untranslatable(
            f"unknown task type {task_type!r}; use binary, multiclass, classification or regression"
        )
    kind, rules = ("regressor", _REGRESSORS) if regression else ("classifier", _CLASSIFIERS)
    if not r.has(f"{kind}:__choice__"):
        raise _Untranslatable(f"a {task_type} configuration needs {kind}:__choice__")
    choice = r.text(f"{kind}:__choice__")
    if choice not in rules:
        raise _Untranslatable(f"no translation for auto-sklearn {kind} {choice!r}")
    strategy = r.text("balancing:strategy", "none")
    if strategy not in ("none", "weighting"):
        raise _Untranslatable(f"unknown balancing strategy {strategy!r}")
    weighting = strategy == "weighting" and not regression

    preprocessing = _data_preprocessing(r)
    feature_choice = r.text("feature_preprocessor:__choice__", "no_preprocessing")
    if feature_choice not in _FEATURE_PREPROCESSORS:
        raise _Untranslatable(
            f"no translation for auto-sklearn feature_preprocessor {feature_choice!r}"
        )
    feature = _FEATURE_PREPROCESSORS[feature_choice](
        r, f"feature_preprocessor:{feature_choice}:", weighting
    )
    estimator, params = rules[choice](r, f"{kind}:{choice}:", weighting, task_type)
    for component in (estimator, *([feature[0]] if feature else [])):
        if component not in COMPONENTS:  # a registry edit went missing: say so, do not crash
            raise _Untranslatable(f"component {component!r} is not registered")
    steps: list[Step] = list(preprocessing)
    if feature is not None:
        steps.append(Step(feature[0], tuple(feature[1].items())))
    steps.append(Step(estimator, tuple(params.items())))
    return tuple(steps)
