"""Reused results equal fresh ones: random edit sequences with and without reuse.

The reference is the scikit-learn pipeline the spec builds, fitted afresh on each fold (what
``evaluate_pipeline`` does without a store). The comparison is exact: every reused score and
prediction must be bit-identical (tolerance 0), whatever was reused — predictions, a fitted
model, a resized ensemble, some or all preprocessing stages, from memory or from disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mile_meta.data import Dataset
from mile_meta.evaluate import (
    _build,
    _prediction_kind,
    _predictor,
    _run_fold_fresh,
    _splits,
    evaluate_pipeline,
)
from mile_meta.metrics import resolve_metric
from mile_meta.pipelines import PipelineSpec, Step, make_spec
from mile_meta.reuse import EvaluationPlan, ReuseStore

ESTIMATORS = {
    "RandomForestClassifier": {"n_estimators": [5, 10, 15], "max_depth": [None, 4]},
    "ExtraTreesClassifier": {"n_estimators": [5, 10, 15]},
    "GradientBoostingClassifier": {"n_estimators": [5, 10, 15], "subsample": [1.0, 0.7]},
    "LGBMClassifier": {"n_estimators": [5, 10, 15], "subsample": [1.0, 0.7], "n_jobs": [1]},
    "LogisticRegression": {"C": [0.1, 1.0]},
    "KNeighborsClassifier": {"n_neighbors": [3, 7]},
    "DecisionTreeClassifier": {"max_depth": [3, None]},
    "GaussianNB": {},
}
METRICS = ["balanced_accuracy", "area_under_roc_curve", "predictive_accuracy", "f_measure"]
SCALINGS = ["none", "standard", "minmax", "robust", "quantile"]


@st.composite
def edits(draw: st.DrawFn) -> tuple[PipelineSpec, str]:
    """One version of the user's pipeline: estimator and hyperparameters, preprocessing, metric."""
    estimator = draw(st.sampled_from(sorted(ESTIMATORS)))
    params = {name: draw(st.sampled_from(values)) for name, values in ESTIMATORS[estimator].items()}
    if estimator == "LGBMClassifier" and params.get("subsample") != 1.0:
        params["subsample_freq"] = 1
    preprocessing = Step.of(
        "TabularPreprocessor",
        numeric_imputation=draw(st.sampled_from(["median", "mean"])),
        categorical_encoding=draw(st.sampled_from(["onehot", "ordinal"])),
        scaling=draw(st.sampled_from(SCALINGS)),
    )
    features: tuple[Step, ...] = ()
    if draw(st.booleans()) and estimator != "GaussianNB":
        features = (Step.of("PCA", n_components=draw(st.sampled_from([3, 6]))),)
    spec = make_spec(estimator, params, preprocessing=preprocessing, feature_preprocessors=features)
    return spec, draw(st.sampled_from(METRICS))


def _check_sequence(
    sequence: list[tuple[PipelineSpec, str]], dataset: Dataset, store: ReuseStore
) -> None:
    """Each version evaluated with reuse equals a fresh fit: fold scores and predictions."""
    from mile_meta.evaluate import _data_identity, _score

    X, y = dataset.frame, dataset.target
    folds = _splits(dataset, 3, 0)
    for spec, metric in sequence:
        reused = evaluate_pipeline(spec, dataset, metric=metric, cv=3, cache=store)
        chosen = resolve_metric(metric)
        kind = _prediction_kind(chosen)
        template = _build(spec, 0)
        has_proba = hasattr(template.steps[-1][1], "predict_proba")
        plan = EvaluationPlan(
            spec,
            template,
            data_identity=_data_identity(dataset),
            folds_identity=("stratified", 3, 0, len(folds)),
        )
        for index, (train, test) in enumerate(folds):
            fresh = _run_fold_fresh(template, kind, X, y, train, test)
            stored = plan.run_fold(
                store, index, X, y, train, test, kind=kind, predictor=_predictor(kind)
            )
            want, got = np.asarray(fresh.values), np.asarray(stored.values)
            assert got.dtype == want.dtype and np.array_equal(got, want), (spec.to_json(), metric)
            score = _score(chosen, fresh.values, fresh.classes, y.iloc[test], has_proba=has_proba)
            assert reused.fold_scores[index] == score, (spec.to_json(), metric)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(edits(), min_size=3, max_size=4), tiny_memory=st.booleans())
def test_random_edit_sequences_match_fresh_fits(
    sequence: list[tuple[PipelineSpec, str]],
    tiny_memory: bool,
    credit_small: Dataset,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # a tiny memory tier sends every reuse through the disk (pickled and read back)
    folder = tmp_path_factory.mktemp("store")
    store = ReuseStore(folder, max_memory_bytes=(64 << 10) if tiny_memory else (256 << 20))
    # going back to earlier versions is part of every session
    _check_sequence([*sequence, sequence[0], sequence[-1]], credit_small, store)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(edits(), min_size=4, max_size=8))
def test_longer_edit_sequences_match_fresh_fits(
    sequence: list[tuple[PipelineSpec, str]], credit_small: Dataset
) -> None:
    _check_sequence([*sequence, *sequence[:2]], credit_small, ReuseStore())


def test_scaler_split_reuses_encoding_and_matches_the_fused_step(credit: Dataset) -> None:
    store = ReuseStore()
    specs = [
        make_spec(
            "LogisticRegression",
            preprocessing=Step.of("TabularPreprocessor", scaling=scaling),
        )
        for scaling in SCALINGS
    ]
    first = evaluate_pipeline(specs[0], credit, cv=3, cache=store)
    assert first.reused_stages == 0
    for spec in specs[1:]:  # each new scaler runs on the stored imputation and encoding
        reused = evaluate_pipeline(spec, credit, cv=3, cache=store)
        assert reused.reused_stages == 3 and reused.cached_folds == 0
        assert reused.fold_scores == evaluate_pipeline(spec, credit, cv=3).fold_scores


def test_reuse_levels(credit: Dataset, tmp_path: Path) -> None:
    store = ReuseStore(tmp_path / "store")
    forest = make_spec("RandomForestClassifier", {"n_estimators": 20})
    first = evaluate_pipeline(forest, credit, cv=3, cache=store)
    assert (first.cached_folds, first.reused_folds, first.resized_fits) == (0, 0, 0)
    # identical spec: every fold answered from stored predictions
    again = evaluate_pipeline(forest, credit, cv=3, cache=store)
    assert again.reused_folds == 3 and again.fold_scores == first.fold_scores
    assert again.fit_seconds == pytest.approx(first.fit_seconds)  # the real fit's time
    # another metric: the stored model predicts, nothing is fitted
    auc = evaluate_pipeline(forest, credit, cv=3, cache=store, metric="area_under_roc_curve")
    assert auc.cached_folds == 3 and auc.reused_folds == 0 and auc.resized_fits == 0
    # another estimator on the same preprocessing
    trees = evaluate_pipeline("ExtraTreesClassifier", credit, cv=3, cache=store)
    assert trees.cached_folds == 3 and trees.reused_folds == 0
    # more trees: grown from the stored forest
    bigger = evaluate_pipeline(
        forest.with_estimator_params(n_estimators=30), credit, cv=3, cache=store
    )
    assert bigger.resized_fits == 3
    # a new process (a new store on the same folder) still finds it all
    reopened = ReuseStore(tmp_path / "store")
    assert evaluate_pipeline(forest, credit, cv=3, cache=reopened).reused_folds == 3
