"""One contract suite for every exporter, then each tool run for a few real trials.

The tool runs check what the issue asks: the first trials are the recommended starting
configurations, and every value the tool samples lies in mile-meta's search space.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from prior_helpers import assert_in_space, holdout_score, same_point

from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import estimator_space
from mile_meta.priors import (
    FORMATS,
    ExportedPrior,
    Prior,
    StartingConfiguration,
    UnknownFormatError,
    export,
    exporter,
    split_flat_point,
)


def _available(format_name: str) -> bool:
    if format_name == "flaml":  # flaml installs without its AutoML part (needs flaml[automl])
        try:
            from flaml.automl import AutoML  # noqa: F401
        except ImportError:
            return False
        return True
    needs = {
        "configspace": "ConfigSpace",
        "flaml": "flaml.automl.automl",
        "hyperopt": "hyperopt",
        "raytune": "ray.tune",
    }.get(format_name)
    if needs is None:
        return True
    try:
        return importlib.util.find_spec(needs) is not None
    except ImportError:  # a parent package is missing
        return False


def _skip_unless_available(format_name: str) -> None:
    if not _available(format_name):
        extra = {"raytune": "'mile-meta[raytune]'", "flaml": "'flaml[automl]'"}.get(
            format_name, "'mile-meta[priors]'"
        )
        pytest.skip(f"{format_name} is not installed here (pip install {extra})")


# -- the contract every exporter keeps ---------------------------------------------------------


@pytest.mark.parametrize("format_name", FORMATS)
def test_exporter_contract(credit_prior: Prior, format_name: str) -> None:
    _skip_unless_available(format_name)
    exported = export(credit_prior, format_name)
    assert isinstance(exported, ExportedPrior)
    assert exported.tool == format_name and exported.prior is credit_prior
    # everything the prior could not express is in the tool's report too
    report = [str(note) for note in exported.report]
    for item in credit_prior.unexpressible:
        assert any(item.reason in line for line in report), item
    # every starting point maps back to the starting configuration it came from
    starts = {
        json.dumps([s.estimator, s.config], sort_keys=True)
        for s in credit_prior.starting_configurations
    }
    for point in exported.starting_points:
        spec = exported.spec_of(point)
        assert isinstance(spec, PipelineSpec)
        config = {
            k: v
            for k, v in spec.estimator.params
            if k in estimator_space(spec.estimator.component).names
        }
        assert json.dumps([spec.estimator.component, config], sort_keys=True) in starts
    # the service's payload is plain JSON
    json.dumps(exported.payload(), allow_nan=False)


@pytest.mark.parametrize("format_name", FORMATS)
def test_written_file_rebuilds_the_export(credit_prior: Prior, format_name: str) -> None:
    _skip_unless_available(format_name)
    chosen = exporter(format_name)
    exported = chosen.export(credit_prior)
    source = chosen.module_source(exported)
    if format_name == "json":
        assert Prior.from_json(source) == credit_prior
        return
    if format_name == "configspace":
        document = json.loads(source)
        assert [dict(c) for c in exported.starting_configurations] == document[
            "starting_configurations"
        ]
        assert document["mile_meta"]["report"] == [str(note) for note in exported.report]
        return
    namespace: dict = {"__name__": f"prior_{format_name}"}
    exec(compile(source, f"prior_{format_name}.py", "exec"), namespace)
    assert namespace["PRIOR"] == chosen.portable(exported)
    # the module's runtime is mile-meta's own: the same starting points and report
    starts = [
        {"estimator": s.estimator, **{f"{s.estimator}:{k}": v for k, v in s.params}}
        for s in credit_prior.starting_configurations
    ]
    assert namespace["STARTING_POINTS"] == starts
    assert namespace["REPORT"] == [str(note) for note in exported.report]
    assert "Usage:" in source.split('"""')[1]


def test_unknown_format_names_the_choices(credit_prior: Prior) -> None:
    with pytest.raises(UnknownFormatError, match="use one of json, optuna"):
        export(credit_prior, "smac3")


def test_flat_points_name_the_estimator() -> None:
    estimator, params = split_flat_point(
        {"estimator": "SVC", "SVC:C": 2.0, "LinearSVC:C": 9.0, "SVC:kernel": "rbf"}
    )
    assert estimator == "SVC" and params == {"C": 2.0, "kernel": "rbf"}


# -- Optuna ------------------------------------------------------------------------------------


def test_optuna_runs_the_starting_configurations_first(credit_prior: Prior, small_data) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = small_data
    exported = export(credit_prior, "optuna")
    starts = len(exported.starting_points)
    study = optuna.create_study(
        direction=exported.direction, sampler=exported.sampler(n_prior_trials=starts + 4, seed=0)
    )
    assert exported.enqueue(study) == starts

    def objective(trial: optuna.Trial) -> float:
        return holdout_score(exported.suggest(trial), X, y)

    study.optimize(objective, n_trials=starts + 6)
    trials = study.trials
    for trial, point in zip(trials, exported.starting_points, strict=False):
        assert same_point(trial.params, point)
    for trial in trials:
        estimator, params = split_flat_point(trial.params)
        assert_in_space(estimator, params)
        assert trial.state == optuna.trial.TrialState.COMPLETE


def test_optuna_prior_sampler_draws_inside_the_space_then_hands_over(credit_prior: Prior) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exported = export(credit_prior, "optuna")
    after = optuna.samplers.RandomSampler(seed=1)
    study = optuna.create_study(
        direction="maximize", sampler=exported.sampler(n_prior_trials=60, seed=0, after=after)
    )
    chosen = []
    for _ in range(80):  # sampling only: each trial is told a constant
        trial = study.ask()
        estimator, params = exported.suggest_config(trial)
        assert_in_space(estimator, params)
        chosen.append(estimator)
        study.tell(trial, 0.5)
    weights = credit_prior.estimator_weights()
    favourite = max(weights, key=weights.get)
    # the prior phase follows the family weights: the favourite is drawn most often
    assert chosen[:60].count(favourite) == max(chosen[:60].count(e) for e in set(chosen[:60]))


def test_for_optuna_enqueues_in_one_call(corpus_kb_path, small_data) -> None:
    import optuna

    from mile_meta.errors import MileMetaError
    from mile_meta.priors import for_optuna

    X, y = small_data
    study = optuna.create_study(direction="maximize")
    exported = for_optuna(study, X, y, kb=corpus_kb_path, top=3, use_prior_sampler=True)
    assert len(study.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 3
    assert exported.prior.dataset_name == "dataset"
    with pytest.raises(MileMetaError, match="direction='maximize'"):
        for_optuna(optuna.create_study(direction="minimize"), X, y, kb=corpus_kb_path, top=1)


# -- ConfigSpace / SMAC ------------------------------------------------------------------------


def test_configspace_carries_the_prior_and_samples_inside_the_space(credit_prior: Prior) -> None:
    _skip_unless_available("configspace")
    import ConfigSpace as CS

    exported = export(credit_prior, "configspace")
    space = exported.configuration_space
    # the starting configurations are valid Configurations, in rank order
    for configuration, start in zip(
        exported.starting_configurations, credit_prior.starting_configurations, strict=True
    ):
        space.check_configuration(configuration)
        estimator, params = split_flat_point(dict(configuration))
        assert estimator == start.estimator and same_point(params, start.config)
    samples = space.sample_configuration(400)
    for sample in samples:
        estimator, params = split_flat_point(dict(sample))
        assert_in_space(estimator, params)
    # priors are carried by ConfigSpace's prior-shaped hyperparameters
    kinds = {type(space[name]).__name__ for name in space}
    assert {"NormalFloatHyperparameter", "CategoricalHyperparameter"} <= kinds
    weights = credit_prior.estimator_weights()
    favourite = max(weights, key=weights.get)
    drawn = [dict(s)["estimator"] for s in samples]
    assert drawn.count(favourite) / len(drawn) == pytest.approx(weights[favourite], abs=0.08)
    # a log-scaled normal keeps the prior's spread on the log scale
    normals = [
        d
        for d in credit_prior.distributions
        if d.distribution == "normal"
        and d.log
        and not d.integer
        and isinstance(space[f"{d.estimator}:{d.name}"], CS.NormalFloatHyperparameter)
    ]
    assert normals
    item = normals[0]
    values = space[f"{item.estimator}:{item.name}"].sample_value(
        4000, seed=np.random.RandomState(0)
    )
    assert np.median(np.log(values)) == pytest.approx(item.mu, abs=0.35 * item.sigma + 0.1)


def test_smac_space_has_the_priors_and_no_conditions(credit_prior: Prior) -> None:
    _skip_unless_available("configspace")
    exported = export(credit_prior, "configspace")
    flat = exported.smac_configuration_space
    assert not flat.conditions
    assert set(flat) == set(exported.configuration_space)
    for name in flat:  # the same hyperparameters, priors included
        assert flat[name] == exported.configuration_space[name]
    for configuration, start in zip(
        exported.smac_starting_configurations, exported.starting_points, strict=True
    ):
        assert same_point({k: dict(configuration)[k] for k in start}, start)
    # SMAC runs it with πBO: tests/priors/test_standalone.py::test_smac_usage_...


# -- FLAML -------------------------------------------------------------------------------------


def _with_flaml_starts(prior: Prior) -> Prior:
    """The credit-g prior with starting configurations FLAML has learners for."""
    template = prior.starting_configurations[0]

    def start(rank: int, estimator: str, **params) -> StartingConfiguration:
        config = {**estimator_space(estimator).defaults(), **params}
        return replace(
            template,
            rank=rank,
            estimator=estimator,
            family=estimator_space(estimator).family,
            params=tuple(config.items()),
            source_ranks=(rank,),
        )

    return replace(
        prior,
        starting_configurations=(
            start(1, "LogisticRegression", C=0.5, l1_ratio=0.0, solver="liblinear"),
            start(2, "KNeighborsClassifier", n_neighbors=15, weights="distance", p=1),
            start(3, "LogisticRegression", C=2.0, l1_ratio=1.0, solver="saga"),
            # a learner FLAML lacks, pinned so the test does not depend on the ranking
            start(4, "GradientBoostingClassifier", learning_rate=0.1, max_depth=3),
        ),
    )


def test_flaml_maps_names_faithfully(credit_prior: Prior) -> None:
    _skip_unless_available("flaml")
    exported = export(_with_flaml_starts(credit_prior), "flaml")
    gradient_boosting = estimator_space("GradientBoostingClassifier").defaults()
    gradient_boosting.update(learning_rate=0.1, max_depth=3)
    assert exported.flaml_starting_points == {
        "lrl2": [{"C": 0.5, "solver": "liblinear"}],
        "kneighbor": [{"n_neighbors": 15, "weights": "distance", "p": 1}],
        "lrl1": [{"C": 2.0, "solver": "saga"}],
        # a learner FLAML lacks, added through AutoML.add_learner, in our names
        "GradientBoostingClassifier": [gradient_boosting],
    }
    report = "\n".join(map(str, exported.report))
    assert "GradientBoostingClassifier: FLAML has no built-in learner" in report
    assert "AutoML.add_learner" in report
    assert "task" not in exported.fit_kwargs()
    assert (
        "GradientBoostingClassifier"
        not in exported.fit_kwargs(custom_learners=False)["estimator_list"]
    )
    spec = exported.spec_of({"learner": "GradientBoostingClassifier", **gradient_boosting})
    assert spec.estimator.component == "GradientBoostingClassifier"
    spec = exported.spec_of({"learner": "lrl1", "C": 2.0, "solver": "saga", "max_iter": 500})
    assert spec.estimator.param_dict == {
        "C": 2.0,
        "l1_ratio": 1.0,
        "solver": "saga",
        "max_iter": 500,
    }
    assert exported.custom_hp["rf"]["n_estimators"] == {"domain": 100}


def test_flaml_automl_starts_from_the_prior(credit_prior: Prior, small_data, tmp_path) -> None:
    _skip_unless_available("flaml")
    from flaml import AutoML

    X, y = small_data
    exported = export(_with_flaml_starts(credit_prior), "flaml")
    kwargs = exported.fit_kwargs()
    kwargs["estimator_list"] = ["lrl2", "kneighbor", "GradientBoostingClassifier"]
    log = tmp_path / "flaml.log"
    automl = AutoML()
    assert "GradientBoostingClassifier" in exported.add_learners(automl)
    automl.fit(
        X,
        y,
        task=exported.task,  # no clash: fit_kwargs() holds no task
        time_budget=20,
        max_iter=6,
        verbose=0,
        log_file_name=str(log),
        log_type="all",
        seed=0,
        **kwargs,
    )
    records = [json.loads(line) for line in log.read_text().splitlines() if '"learner"' in line]
    assert records
    first = {}
    for record in records:
        first.setdefault(record["learner"], record["config"])
        spec = exported.spec_of({"learner": record["learner"], **record["config"]})
        estimator = spec.estimator.component
        params = {k: v for k, v in spec.estimator.params if k in estimator_space(estimator).names}
        assert_in_space(estimator, params)
    assert "GradientBoostingClassifier" in first  # the added learner ran
    for learner, config in first.items():
        expected = kwargs["starting_points"][learner][0]
        assert same_point({k: config[k] for k in expected}, expected)


def _regression_prior(prior: Prior) -> Prior:
    """The credit-g prior restated for regression (the test knowledge base holds no
    regression results): a forest and a ridge start, even family weights."""
    from mile_meta.pipelines.space import search_space
    from mile_meta.priors import FamilyWeight

    spaces = search_space("regression")
    families: dict[str, list[str]] = {}
    for space in spaces:
        families.setdefault(space.family, []).append(space.estimator)
    template = prior.starting_configurations[0]
    starts = tuple(
        replace(
            template,
            rank=rank,
            estimator=name,
            family=estimator_space(name).family,
            params=tuple(estimator_space(name).defaults().items()),
            source_ranks=(rank,),
        )
        for rank, name in enumerate(["RandomForestRegressor", "Ridge"], start=1)
    )
    return replace(
        prior,
        task_type="regression",
        metric="root_mean_squared_error",
        higher_is_better=False,
        starting_configurations=starts,
        family_weights=tuple(
            FamilyWeight(family, 1 / len(families), tuple(names))
            for family, names in families.items()
        ),
        distributions=(),
        unexpressible=(),
    )


def test_flaml_regression_forests_and_added_learners_run(credit_prior: Prior) -> None:
    _skip_unless_available("flaml")
    from flaml import AutoML
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True).frame.iloc[:160]
    prior = _regression_prior(credit_prior)
    exported = export(prior, "flaml")
    assert "criterion" not in exported.custom_hp["rf"]  # FLAML does not search it here
    automl = AutoML()
    exported.add_learners(automl)
    kwargs = exported.fit_kwargs()
    kwargs["estimator_list"] = ["rf", "extra_tree", "Ridge"]
    best = {}
    for learner in kwargs["estimator_list"]:  # each learner alone: each must run
        automl = AutoML()
        exported.add_learners(automl)
        automl.fit(
            data.drop(columns=["target"]),
            data["target"],
            task=exported.task,
            time_budget=20,
            max_iter=2,
            verbose=0,
            seed=0,
            **{**kwargs, "estimator_list": [learner]},
        )
        best[learner] = automl.best_estimator
        spec = exported.spec_of({"learner": automl.best_estimator, **automl.best_config})
        assert spec.estimator.component.endswith("Regressor") or learner == "Ridge"
    assert best == {"rf": "rf", "extra_tree": "extra_tree", "Ridge": "Ridge"}


# -- hyperopt ----------------------------------------------------------------------------------


def test_hyperopt_points_to_evaluate_with_conditional_labels(credit_prior: Prior) -> None:
    _skip_unless_available("hyperopt")
    import hyperopt

    exported = export(credit_prior, "hyperopt")
    seen = []

    def objective(point):
        seen.append(dict(point))
        return {"loss": 0.0, "status": hyperopt.STATUS_OK}

    hyperopt.fmin(
        objective,
        exported.space,
        algo=hyperopt.tpe.suggest,
        max_evals=len(exported.starting_points) + 3,
        points_to_evaluate=list(exported.points_to_evaluate),
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    for point, start in zip(seen, exported.starting_points, strict=False):
        assert same_point(point, start)
    assert len(seen) >= len(exported.starting_points) + 3


def test_hyperopt_evaluates_the_points_first(credit_prior: Prior, small_data) -> None:
    _skip_unless_available("hyperopt")
    import hyperopt

    X, y = small_data
    exported = export(credit_prior, "hyperopt")
    seen = []

    def objective(point):
        seen.append(dict(point))
        score = holdout_score(exported.spec_of(point), X, y)
        return {"loss": -score, "status": hyperopt.STATUS_OK}

    trials = exported.trials()
    hyperopt.fmin(
        objective,
        exported.space,
        algo=hyperopt.tpe.suggest,
        max_evals=len(exported.starting_points) + 6,
        trials=trials,
        rstate=np.random.default_rng(0),
        show_progressbar=False,
    )
    assert len(seen) == len(exported.starting_points) + 6
    for point, start in zip(seen, exported.starting_points, strict=False):
        assert same_point(point, start)
    # beyond the few evaluated, many draws from the prior-shaped space stay inside it
    from hyperopt.pyll import stochastic

    rng = np.random.default_rng(0)
    for point in [stochastic.sample(exported.space, rng=rng) for _ in range(300)] + seen:
        estimator, params = split_flat_point(point)
        assert_in_space(
            estimator,
            {
                k: (
                    int(v)
                    if isinstance(v, float)
                    and estimator_space(estimator).hyperparameter(k).kind == "int"
                    else v
                )
                for k, v in params.items()
            },
        )


# -- Ray Tune ----------------------------------------------------------------------------------


def test_raytune_space_and_points(credit_prior: Prior) -> None:
    _skip_unless_available("raytune")
    exported = export(credit_prior, "raytune")
    assert set(exported.points_to_evaluate[0]) == set(exported.param_space)
    rng = np.random.default_rng(0)
    for _ in range(200):
        point = {k: domain.sample(random_state=rng) for k, domain in exported.param_space.items()}
        assert_in_space(*split_flat_point(point))


@pytest.mark.slow
def test_raytune_tuner_runs_the_points_first(credit_prior: Prior, small_data) -> None:
    _skip_unless_available("raytune")
    import ray
    from ray import tune

    X, y = small_data
    exported = export(credit_prior, "raytune")
    n_points = len(exported.points_to_evaluate)

    def trainable(config):  # self-contained: Ray workers cannot import the test helpers
        from sklearn.metrics import balanced_accuracy_score

        from mile_meta.pipelines import build_pipeline

        model = build_pipeline(exported.spec_of(config), random_state=0).fit(X[:160], y[:160])
        return {"score": float(balanced_accuracy_score(y[160:], model.predict(X[160:])))}

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        tuner = tune.Tuner(
            trainable,
            param_space=exported.param_space,
            tune_config=tune.TuneConfig(
                search_alg=exported.search_algorithm(seed=0),
                num_samples=n_points + 2,
                metric="score",
                mode="max",
                max_concurrent_trials=1,
            ),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    assert not results.errors, results.errors
    configs = [r.config for r in results]
    assert len(configs) == n_points + 2
    for config in configs:
        assert_in_space(*split_flat_point(config))
    evaluated = [c for c in configs if any(same_point(c, p) for p in exported.points_to_evaluate)]
    assert len(evaluated) == n_points


def test_raytune_optuna_search_pickles(credit_prior: Prior) -> None:
    _skip_unless_available("raytune")
    import pickle

    searcher = export(credit_prior, "raytune").search_algorithm("optuna", seed=0)
    # Ray saves its searcher's state; nothing in it may be a local function
    assert pickle.loads(pickle.dumps(searcher)) is not None


def test_raytune_missing_names_the_extra(credit_prior: Prior, monkeypatch) -> None:
    import builtins

    from mile_meta.errors import MileMetaError

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(MileMetaError, match=r"mile-meta\[raytune\]"):
        export(credit_prior, "raytune")


def test_json_export_is_the_prior(credit_prior: Prior) -> None:
    exported = export(credit_prior, "json")
    assert Prior.from_json(exported.text) == credit_prior
    assert not math.isnan(exported.prior.starting_configurations[0].predicted_score)
