"""auto-sklearn 0.15 configurations translated by hand, and a sample fitted on real data."""

from __future__ import annotations

import csv
import gzip
import json
import warnings
from collections import defaultdict
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from threadpoolctl import threadpool_limits

from mile_meta.pipelines import PipelineSpec, Step, build_pipeline
from mile_meta.pipelines.translate.autosklearn import (
    REFERENCE_FEATURES,
    canonical_configuration,
    configuration_id,
    translate_autosklearn,
)

REPO = Path(__file__).resolve().parents[2]
CONFIGURATIONS = REPO / "corpora" / "autosklearn" / "configurations.csv.gz"

_PREP = "data_preprocessor:feature_type:"
_BASE = {
    "data_preprocessor:__choice__": "feature_type",
    _PREP + "categorical_transformer:categorical_encoding:__choice__": "one_hot_encoding",
    _PREP + "categorical_transformer:category_coalescence:__choice__": "no_coalescense",
    _PREP + "numerical_transformer:imputation:strategy": "median",
    _PREP + "numerical_transformer:rescaling:__choice__": "standardize",
    "feature_preprocessor:__choice__": "no_preprocessing",
    "balancing:strategy": "none",
}
_EXACT_PREP = Step.of(
    "TabularPreprocessor",
    numeric_imputation="median",
    categorical_encoding="onehot",
    max_categories=None,
    scaling="standard",
)


def _random_forest(max_features: str, **extra: str) -> dict[str, str]:
    p = "classifier:random_forest:"
    return {
        **_BASE,
        "classifier:__choice__": "random_forest",
        p + "bootstrap": "True",
        p + "criterion": "gini",
        p + "max_depth": "None",
        p + "max_features": max_features,
        p + "max_leaf_nodes": "None",
        p + "min_impurity_decrease": "0.0",
        p + "min_samples_leaf": "1",
        p + "min_samples_split": "2",
        p + "min_weight_fraction_leaf": "0.0",
        **extra,
    }


def test_random_forest_with_square_root_features_and_weighting_is_exact() -> None:
    translation = translate_autosklearn(
        _random_forest("0.5", **{"balancing:strategy": "weighting"}), "multiclass"
    )
    assert translation.exact, translation.reasons
    assert translation.spec == PipelineSpec(
        (
            _EXACT_PREP,
            Step.of(
                "RandomForestClassifier",
                n_estimators=512,
                criterion="gini",
                max_features="sqrt",
                max_depth=None,
                min_samples_split=2,
                min_samples_leaf=1,
                min_weight_fraction_leaf=0.0,
                max_leaf_nodes=None,
                min_impurity_decrease=0.0,
                bootstrap=True,
                class_weight="balanced",
            ),
        )
    )


def test_power_max_features_is_approximated_at_the_reference_width() -> None:
    translation = translate_autosklearn(_random_forest("0.75"), "binary")
    assert not translation.exact
    assert translation.reasons[0].startswith("random_forest.max_features:")
    expected = round(REFERENCE_FEATURES ** (0.75 - 1.0), 4)
    assert translation.spec is not None
    assert translation.spec.estimator.param_dict["max_features"] == expected
    # at the reference width both rules pick the same number of features
    assert int(REFERENCE_FEATURES**0.75) == int(expected * REFERENCE_FEATURES)


def test_configuration_id_ignores_value_types_and_empty_entries() -> None:
    as_text = _random_forest("0.5")
    as_values = {**as_text, "classifier:random_forest:max_features": 0.5, "unused": ""}
    as_values["classifier:random_forest:bootstrap"] = True  # type: ignore[assignment]
    assert configuration_id(as_text) == configuration_id(as_values)
    assert (
        json.loads(canonical_configuration(as_values))["classifier:random_forest:bootstrap"]
        == "True"
    )


def test_mlp_keeps_auto_sklearns_swapped_adam_betas() -> None:
    p = "classifier:mlp:"
    config = {
        **_BASE,
        "classifier:__choice__": "mlp",
        p + "activation": "tanh",
        p + "alpha": "0.0001",
        p + "batch_size": "auto",
        p + "beta_1": "0.9",
        p + "beta_2": "0.999",
        p + "early_stopping": "valid",
        p + "epsilon": "1e-08",
        p + "hidden_layer_depth": "2",
        p + "learning_rate_init": "0.001",
        p + "n_iter_no_change": "32",
        p + "num_nodes_per_layer": "64",
        p + "shuffle": "True",
        p + "solver": "adam",
        p + "tol": "0.0001",
        p + "validation_fraction": "0.1",
    }
    translation = translate_autosklearn(config, "binary")
    assert translation.exact, translation.reasons
    assert translation.spec is not None
    params = translation.spec.estimator.param_dict
    assert translation.spec.estimator.component == "LayeredMLPClassifier"
    assert (params["beta_1"], params["beta_2"]) == (0.999, 0.9)
    assert (params["hidden_layer_depth"], params["num_nodes_per_layer"]) == (2, 64)
    assert (params["early_stopping"], params["validation_fraction"], params["max_iter"]) == (
        True,
        0.1,
        512,
    )


def test_adaboost_samme_r_deeper_trees_and_data_preprocessing_approximations() -> None:
    p = "classifier:adaboost:"
    config = {
        **_BASE,
        "classifier:__choice__": "adaboost",
        p + "algorithm": "SAMME.R",
        p + "learning_rate": "0.5",
        p + "max_depth": "3",
        p + "n_estimators": "100",
        _PREP + "categorical_transformer:category_coalescence:__choice__": "minority_coalescer",
        _PREP
        + "categorical_transformer:category_coalescence:minority_coalescer:minimum_fraction": "0.01",
        _PREP + "numerical_transformer:rescaling:__choice__": "quantile_transformer",
        _PREP + "numerical_transformer:rescaling:quantile_transformer:n_quantiles": "1000",
        _PREP
        + "numerical_transformer:rescaling:quantile_transformer:output_distribution": "uniform",
    }
    translation = translate_autosklearn(config, "binary")
    topics = sorted(reason.split(":")[0] for reason in translation.reasons)
    assert topics == ["adaboost.algorithm", "coalescence", "rescaling.quantile_transformer"]
    assert translation.spec is not None
    first, estimator = translation.spec.steps
    assert first.param_dict == {
        "numeric_imputation": "median",
        "categorical_encoding": "onehot",
        "scaling": "quantile",
    }
    assert estimator == Step.of(
        "TreeAdaBoostClassifier", n_estimators=100, learning_rate=0.5, max_depth=3
    )


def test_decision_tree_factor_below_one_is_a_stump() -> None:
    p = "classifier:decision_tree:"
    config = {
        **_BASE,
        "classifier:__choice__": "decision_tree",
        p + "criterion": "entropy",
        p + "max_depth_factor": "0.7",
        p + "max_features": "1.0",
        p + "max_leaf_nodes": "None",
        p + "min_impurity_decrease": "0.0",
        p + "min_samples_leaf": "3",
        p + "min_samples_split": "4",
        p + "min_weight_fraction_leaf": "0.0",
    }
    stump = translate_autosklearn(config, "binary")
    assert stump.exact and stump.spec is not None
    assert stump.spec.estimator.param_dict["max_depth"] == 1  # int(0.7) * n_features -> max(1, 0)
    deep = translate_autosklearn({**config, p + "max_depth_factor": "1.7"}, "binary")
    assert deep.spec is not None and deep.spec.estimator.param_dict["max_depth"] is None
    assert deep.reasons[0].startswith("decision_tree.max_depth_factor:")


def test_regression_gradient_boosting_selector_and_normalizer() -> None:
    p = "regressor:gradient_boosting:"
    f = "feature_preprocessor:select_rates_regression:"
    config = {
        **_BASE,
        "regressor:__choice__": "gradient_boosting",
        p + "early_stop": "valid",
        p + "l2_regularization": "1e-10",
        p + "learning_rate": "0.1",
        p + "loss": "least_squares",
        p + "max_bins": "255",
        p + "max_depth": "None",
        p + "max_leaf_nodes": "31",
        p + "min_samples_leaf": "20",
        p + "n_iter_no_change": "10",
        p + "scoring": "loss",
        p + "tol": "1e-07",
        p + "validation_fraction": "0.2",
        "feature_preprocessor:__choice__": "select_rates_regression",
        f + "alpha": "0.3",
        f + "score_func": "mutual_info_regression",
        _PREP + "numerical_transformer:rescaling:__choice__": "normalize",
    }
    translation = translate_autosklearn(config, "regression")
    assert [reason.split(":")[0] for reason in translation.reasons] == ["rescaling.normalize"]
    assert translation.spec is not None
    components = [step.component for step in translation.spec.steps]
    assert components == [
        "TabularPreprocessor",
        "Normalizer",
        "ScoreFunctionUnivariateSelect",
        "HistGradientBoostingRegressor",
    ]
    selector, estimator = translation.spec.steps[2], translation.spec.estimator
    assert selector.param_dict == {
        "score_func": "mutual_info_regression",
        "mode": "percentile",
        "param": 0.3,
    }
    assert estimator.param_dict["loss"] == "squared_error"
    assert estimator.param_dict["early_stopping"] == "auto"  # auto-sklearn's regressor default


def test_lda_gaussian_process_and_linear_svc_selector() -> None:
    lda = translate_autosklearn(
        {
            **_BASE,
            "classifier:__choice__": "lda",
            "classifier:lda:shrinkage": "manual",
            "classifier:lda:shrinkage_factor": "0.3",
            "classifier:lda:tol": "0.001",
            "balancing:strategy": "weighting",  # no effect on LDA in auto-sklearn
            "feature_preprocessor:__choice__": "liblinear_svc_preprocessor",
            "feature_preprocessor:liblinear_svc_preprocessor:C": "1.0",
            "feature_preprocessor:liblinear_svc_preprocessor:dual": "False",
            "feature_preprocessor:liblinear_svc_preprocessor:fit_intercept": "True",
            "feature_preprocessor:liblinear_svc_preprocessor:intercept_scaling": "1",
            "feature_preprocessor:liblinear_svc_preprocessor:loss": "squared_hinge",
            "feature_preprocessor:liblinear_svc_preprocessor:multi_class": "ovr",
            "feature_preprocessor:liblinear_svc_preprocessor:penalty": "l1",
            "feature_preprocessor:liblinear_svc_preprocessor:tol": "0.0001",
        },
        "classification",
    )
    assert lda.exact, lda.reasons
    assert lda.spec is not None
    assert lda.spec.estimator == Step.of(
        "LinearDiscriminantAnalysis", solver="lsqr", shrinkage=0.3, tol=0.001
    )
    assert lda.spec.steps[1].param_dict["class_weight"] == "balanced"
    gp = translate_autosklearn(
        {
            **_BASE,
            "regressor:__choice__": "gaussian_process",
            "regressor:gaussian_process:alpha": "0.01",
            "regressor:gaussian_process:thetaL": "1e-06",
            "regressor:gaussian_process:thetaU": "100.0",
        },
        "regression",
    )
    assert gp.exact and gp.spec is not None
    assert gp.spec.estimator == Step.of(
        "RBFGaussianProcessRegressor", alpha=0.01, length_scale_lower=1e-6, length_scale_upper=100.0
    )


def test_untranslatable_configurations_say_why() -> None:
    unknown = translate_autosklearn({**_BASE, "classifier:__choice__": "catboost"}, "binary")
    assert unknown.spec is None and not unknown.runnable
    assert "catboost" in unknown.reasons[0]
    wrong_task = translate_autosklearn(_random_forest("0.5"), "regression")
    assert wrong_task.spec is None and "regressor:__choice__" in wrong_task.reasons[0]
    garbage = translate_autosklearn(_random_forest("lots"), "binary")
    assert garbage.spec is None and "lots" in garbage.reasons[0]
    extra = translate_autosklearn(
        {**_random_forest("0.5"), "classifier:random_forest:n_jobs": "4"}, "binary"
    )
    assert not extra.exact and extra.reasons == ("untranslated: classifier:random_forest:n_jobs",)


# -- a sample of the corpus, fitted on real data ------------------------------------------


def _corpus_configurations() -> list[dict[str, str]]:
    if not CONFIGURATIONS.is_file():
        pytest.skip(f"{CONFIGURATIONS} not built; run scripts/build_corpora_snapshot.py")
    with gzip.open(CONFIGURATIONS, "rt", newline="") as handle:
        return [json.loads(row["configuration"]) for row in csv.DictReader(handle)]


def _sample(configurations: list[dict[str, str]]) -> list[tuple[dict[str, str], str]]:
    """The first configuration (in id order) of every estimator and of every feature preprocessor."""
    first: dict[tuple[str, str], tuple[dict[str, str], str]] = {}
    for config in configurations:
        task = "regression" if "regressor:__choice__" in config else "classification"
        estimator = config.get("regressor:__choice__") or config["classifier:__choice__"]
        for key in (
            ("estimator", f"{task}:{estimator}"),
            ("feature", config["feature_preprocessor:__choice__"]),
        ):
            first.setdefault(key, (config, task))
    chosen = {configuration_id(config): (config, task) for config, task in first.values()}
    return [chosen[key] for key in sorted(chosen)]


def _with_budget(spec: PipelineSpec, budget: int | None) -> PipelineSpec:
    """The spec with at most ``budget`` trees/iterations (None: as translated) and a finite
    iteration limit for libsvm, whose -1 (no limit) can take minutes on a dataset unlike the
    one the configuration was tuned on."""
    steps = []
    for step in spec.steps:
        params = step.param_dict
        for name in ("n_estimators", "max_iter"):
            value = params.get(name)
            if isinstance(value, int) and value == -1:
                params[name] = budget or 100_000
            elif isinstance(value, int) and budget is not None and value > budget:
                params[name] = budget
        steps.append(Step(step.component, tuple(params.items())))
    return PipelineSpec(tuple(steps))


def _fit_sample(budget: int | None) -> None:
    sample = _sample(_corpus_configurations())
    assert len(sample) >= 30 and {task for _, task in sample} == {"classification", "regression"}
    data = {
        "classification": load_breast_cancer(return_X_y=True, as_frame=True),
        "regression": load_diabetes(return_X_y=True, as_frame=True),
    }
    failures = defaultdict(list)
    for config, task in sample:
        translation = translate_autosklearn(config, task)
        assert translation.spec is not None, translation.reasons
        X, y = data[task]
        X, y = X.iloc[:150, :10], y.iloc[:150]
        pipeline = build_pipeline(_with_budget(translation.spec, budget), random_state=0)
        # one thread: OpenMP estimators crawl when the test machine's cores are all busy
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # convergence warnings on 150 rows are expected
            try:
                pipeline.fit(X, y).predict(X.iloc[:5])
            except Exception as error:  # collect them all for one readable failure
                failures[translation.spec.describe()].append(f"{type(error).__name__}: {error}")
    assert not failures, dict(failures)


def test_every_translation_in_a_corpus_sample_builds_and_fits() -> None:
    """36 configurations: every estimator and feature preprocessor of the corpus, 50 trees or
    iterations at most."""
    _fit_sample(budget=50)


@pytest.mark.slow
def test_the_corpus_sample_fits_with_the_full_budgets() -> None:
    _fit_sample(budget=None)
