"""XGBoost and CatBoost as families: spec -> estimator -> fit on real data -> spec round trip."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris

from mile_meta.errors import MileMetaError
from mile_meta.pipelines import PipelineSpec, build_pipeline, family_of
from mile_meta.pipelines._boosting import require_library
from mile_meta.pipelines.space import estimator_space, search_space, spec_from_config

pytest.importorskip("xgboost")
pytest.importorskip("catboost")

BOOSTERS = ["XGBClassifier", "CatBoostClassifier", "XGBRegressor", "CatBoostRegressor"]


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = X.copy()
    X["colour"] = np.where(X["sepal length (cm)"] > 5.8, "red", "blue")  # a categorical column
    X.loc[::9, "petal width (cm)"] = None
    names = pd.Series(np.array(["setosa", "versicolor", "virginica"])[y], name="species")
    return X, names


@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X.iloc[:200], y.iloc[:200]


@pytest.mark.parametrize("estimator", BOOSTERS)
def test_default_spec_builds_fits_and_round_trips(estimator: str, iris, diabetes) -> None:
    space = estimator_space(estimator)
    spec = spec_from_config(estimator, space.defaults())
    assert PipelineSpec.from_json(spec.to_json()) == spec
    assert family_of(spec) in ("xgboost", "catboost")
    X, y = diabetes if "Regressor" in estimator else iris
    pipeline = build_pipeline(spec, random_state=0)
    model = pipeline.steps[-1][1]
    # single-threaded by default: one core per job
    assert model.get_params().get("n_jobs", model.get_params().get("thread_count")) == 1
    fitted = pipeline.fit(X.iloc[::2], y.iloc[::2])
    predictions = fitted.predict(X.iloc[1::2])
    if "Regressor" in estimator:
        assert np.corrcoef(predictions, y.iloc[1::2])[0, 1] > 0.5
    else:
        # string labels come back as the same strings, and the model learned something
        assert set(predictions) <= set(y) and (predictions == y.iloc[1::2]).mean() > 0.85
        proba = fitted.predict_proba(X.iloc[1::2])
        assert proba.shape == (len(predictions), 3) and np.allclose(proba.sum(axis=1), 1.0)
    # the fitted parameters are the spec's: the spec can be read back from the estimator
    params = {k: v for k, v in model.get_params().items() if k in spec.estimator.param_dict}
    assert params == spec.estimator.param_dict


@pytest.mark.parametrize("estimator", ["XGBClassifier", "CatBoostClassifier"])
def test_balanced_class_weight_changes_the_minority_predictions(estimator: str, iris) -> None:
    X, y = iris
    keep = (y != "virginica") | (np.arange(len(y)) % 10 == 0)  # 5 virginica among 105 rows
    X, y = X[keep], y[keep]
    spec = spec_from_config(estimator, estimator_space(estimator).defaults())
    plain = build_pipeline(spec).fit(X, y).predict_proba(X)[:, 2]
    weighted_spec = spec.with_estimator_params(class_weight="balanced")
    weighted = build_pipeline(weighted_spec).fit(X, y).predict_proba(X)[:, 2]
    assert (
        weighted[(y == "virginica").to_numpy()].mean() > plain[(y == "virginica").to_numpy()].mean()
    )


def test_clone_keeps_parameters() -> None:
    spec = spec_from_config("XGBClassifier", {"max_depth": 3, "learning_rate": 0.05})
    model = build_pipeline(spec).steps[-1][1]
    assert clone(model).get_params() == model.get_params()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), estimator=st.sampled_from(BOOSTERS))
def test_any_configuration_of_the_space_builds(data, estimator: str) -> None:
    space = estimator_space(estimator)
    config = {}
    for h in space.hyperparameters:
        if h.kind == "categorical":
            config[h.name] = data.draw(st.sampled_from(h.choices))
        elif h.kind == "int":
            config[h.name] = data.draw(st.integers(int(h.low), int(h.high)))
        else:
            config[h.name] = data.draw(st.floats(h.low, h.high))
        assert h.contains(config[h.name])
    spec = spec_from_config(estimator, config)
    assert PipelineSpec.from_json(spec.to_json()).pipeline_id == spec.pipeline_id
    model = build_pipeline(spec).steps[-1][1]
    assert all(model.get_params()[name] == value for name, value in config.items())


def test_families_are_in_the_space_and_can_be_included() -> None:
    for task, suffix in (("binary", "Classifier"), ("regression", "Regressor")):
        names = [s.estimator for s in search_space(task, include=["xgboost", "catboost"])]
        assert names == [f"XGB{suffix}", f"CatBoost{suffix}"]
        assert {"xgboost", "catboost", "extra_trees"} <= {s.family for s in search_space(task)}


def test_a_missing_library_names_the_extra() -> None:
    with pytest.raises(MileMetaError, match=r"pip install 'mile-meta\[no_such_lib\]'"):
        require_library("no_such_lib")


def test_without_the_library_the_family_leaves_the_space_and_include_says_what_to_install() -> None:
    # a fresh interpreter in which importing xgboost fails, as on a machine without it
    code = (
        "import sys; sys.modules['xgboost'] = None\n"
        "from mile_meta.pipelines.space import search_space\n"
        "from mile_meta.errors import MileMetaError\n"
        "assert 'xgboost' not in {s.family for s in search_space('binary')}\n"
        "try:\n"
        "    search_space('binary', include=['xgboost'])\n"
        "except MileMetaError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'mile-meta[xgboost]'" in result.stdout


@pytest.mark.parametrize(
    ("estimator", "bad"),
    [("XGBClassifier", {"subsample": 2.0}), ("CatBoostRegressor", {"grow_policy": "Sideways"})],
)
def test_invalid_values_are_refused_before_fitting(estimator: str, bad: dict, iris) -> None:
    spec = spec_from_config(estimator, estimator_space(estimator).defaults())
    model = build_pipeline(spec.with_estimator_params(**bad)).steps[-1][1]
    with pytest.raises(ValueError, match=f"'{next(iter(bad))}' parameter of {estimator}"):
        model._validate_params()  # what a search checks pinned values with


@pytest.mark.slow
def test_search_includes_the_new_families_from_the_cli(corpus_kb_path, tmp_path) -> None:
    import json
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"
    for family, component in (("xgboost", "XGBClassifier"), ("catboost", "CatBoostClassifier")):
        result = subprocess.run(
            [sys.executable, "-c", "from mile_meta.cli import main; main()", "search", str(example), "--target", "class",
             "--budget", "60s", "--include", family, "--kb", str(corpus_kb_path),
             "--out", str(tmp_path / family), "--json", "--no-record"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        payload = json.loads(result.stdout)
        assert component in json.dumps(payload["best"])
