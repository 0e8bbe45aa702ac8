"""Out-of-fold predictions, greedy ensemble selection and decisions tuned to the metric: the
parts on real numbers, then real searches whose final model is an ensemble."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from mile_meta.data import Dataset, dataset_from_frame
from mile_meta.evaluate import FoldCache, evaluate_pipeline
from mile_meta.pipelines import make_spec
from mile_meta.search import (
    Candidate,
    FullFidelity,
    InitialDesign,
    NoPruning,
    OptunaOptimizer,
    Search,
    autopilot,
    cruise_control,
    subsample_rows,
)
from mile_meta.search._crossval import cross_validate
from mile_meta.search._decisions import Decision, oof_score, tune_decision
from mile_meta.search._ensemble import (
    EnsembleModel,
    PredictionStore,
    greedy_selection,
    plan_ensemble,
)


# -- the parts -------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 2), min_size=6, max_size=60),
    seed=st.integers(0, 10_000),
)
def test_oof_score_agrees_with_scikit_learn(labels: list[int], seed: int) -> None:
    y = np.asarray(labels)
    if len(np.unique(y)) < 2:
        return
    n_classes = 3
    probabilities = np.random.default_rng(seed).dirichlet(np.ones(n_classes), size=len(y))
    predicted = np.argmax(probabilities, axis=1)
    assert oof_score("balanced_accuracy", y, probabilities) == pytest.approx(
        skm.balanced_accuracy_score(y, predicted)
    )
    assert oof_score("predictive_accuracy", y, probabilities) == pytest.approx(
        skm.accuracy_score(y, predicted)
    )
    assert oof_score("f_measure", y, probabilities) == pytest.approx(
        skm.f1_score(y, predicted, average="macro", labels=range(n_classes), zero_division=0)
    )
    values = probabilities[:, 0] * 10
    target = y.astype(float)
    assert oof_score("r2", target, values) == pytest.approx(skm.r2_score(target, values))
    assert oof_score("root_mean_squared_error", target, values) == pytest.approx(
        np.sqrt(skm.mean_squared_error(target, values))
    )


def _imbalanced(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """A 10 % positive class whose probabilities are informative but too low (uncalibrated)."""
    generator = np.random.default_rng(seed)
    y = (generator.random(n) < 0.1).astype(int)
    positive = np.clip(0.05 + 0.25 * y + generator.normal(0, 0.08, n), 0, 1)
    return y, np.column_stack([1 - positive, positive])


def test_binary_threshold_tuned_for_balanced_accuracy() -> None:
    y, probabilities = _imbalanced()
    before = oof_score("balanced_accuracy", y, probabilities)
    decision = tune_decision("balanced_accuracy", y, probabilities)
    assert decision is not None and decision.threshold is not None
    assert decision.threshold < 0.5  # the rare class needs a lower bar
    after = oof_score("balanced_accuracy", y, probabilities, decision)
    assert after > before + 0.2 and after == pytest.approx(before + decision.gain)
    assert tune_decision("f_measure", y, probabilities) is not None
    # metrics the arg-max already optimises, or that need no decision, are left alone
    assert tune_decision("predictive_accuracy", y, probabilities) is None
    assert tune_decision("area_under_roc_curve", y, probabilities) is None


def test_multiclass_class_weights_tuned() -> None:
    generator = np.random.default_rng(1)
    y = generator.choice(3, size=900, p=[0.8, 0.15, 0.05])
    logits = generator.normal(0, 1, (900, 3)) + 1.5 * np.eye(3)[y] + np.array([2.0, 0, 0])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    decision = tune_decision("balanced_accuracy", y, probabilities)
    assert decision is not None and decision.class_weights is not None
    assert decision.class_weights[0] < 1.0  # the majority class is weighted down
    assert oof_score("balanced_accuracy", y, probabilities, decision) > oof_score(
        "balanced_accuracy", y, probabilities
    )


def test_greedy_selection_combines_complementary_members() -> None:
    generator = np.random.default_rng(2)
    truth = generator.normal(0, 1, 400)
    # each member is right on one half of the rows and noisy on the other
    half = np.arange(400) < 200
    first = np.where(half, truth, truth + generator.normal(0, 2, 400))
    second = np.where(half, truth + generator.normal(0, 2, 400), truth)
    poor = truth + generator.normal(0, 5, 400)
    counts, score = greedy_selection(
        [first, second, poor],
        lambda p: oof_score("root_mean_squared_error", truth, p),
        higher_is_better=False,
    )
    assert counts[0] > 0 and counts[1] > 0 and counts[2] < min(counts[:2])
    single = min(oof_score("root_mean_squared_error", truth, m) for m in (first, second))
    assert score < 0.8 * single


def test_prediction_store_is_bounded_and_finds_duplicates() -> None:
    store = PredictionStore(higher_is_better=True, max_members=3, max_bytes=10_000)
    generator = np.random.default_rng(3)
    for number in range(1, 6):
        store.add(number, float(number), generator.random((100, 2)).astype(np.float32))
    assert len(store) == 3 and [s.number for s in store.best(3)] == [5, 4, 3]
    kept = store.best(1)[0].predictions
    assert store.duplicate_of(kept.copy()) == 5
    assert store.duplicate_of(kept + 0.1) is None
    # bytes: 10,000 hold one 100 x 2 float32 (800 bytes) many times, not 1000 x 2 (8,000) twice
    store.add(6, 6.0, generator.random((1000, 2)).astype(np.float32))
    store.add(7, 7.0, generator.random((1000, 2)).astype(np.float32))
    assert store.nbytes <= 10_000 and 7 in {s.number for s in store.best(3)}


def test_plan_prefers_the_single_pipeline_when_the_ensemble_is_no_better() -> None:
    y, probabilities = _imbalanced(seed=4)
    store = PredictionStore(higher_is_better=True)
    store.add(1, 0.9, probabilities.astype(np.float32))
    store.add(2, 0.8, (0.5 * probabilities + 0.25).astype(np.float32))  # the same ranking
    plan = plan_ensemble(store, y, "balanced_accuracy", True, ensemble=True, tune=True)
    assert plan is not None and not plan.is_ensemble
    assert plan.decision is not None and plan.score >= plan.single_score
    untuned = plan_ensemble(store, y, "balanced_accuracy", True, ensemble=False, tune=False)
    assert untuned is not None and untuned.decision is None and not untuned.is_ensemble


# -- cross-validation with predictions -------------------------------------------------------
def test_cross_validate_keeps_the_scores_of_evaluate_pipeline(breast_cancer: Dataset) -> None:
    spec = make_spec("DecisionTreeClassifier", {"max_depth": 3})
    plain = evaluate_pipeline(spec, breast_cancer, metric="balanced_accuracy", cv=3, record=False)
    cache = FoldCache()
    kept = cross_validate(
        spec,
        breast_cancer,
        metric="balanced_accuracy",
        cv=3,
        seed=0,
        cache=cache,
        rows=None,
        keep_predictions=True,
    )
    assert kept.result.fold_scores == pytest.approx(plain.fold_scores)
    predictions = kept.predictions
    assert predictions is not None and predictions.shape == (len(breast_cancer.frame), 2)
    assert np.allclose(predictions.sum(axis=1), 1.0, atol=1e-5)
    y = np.searchsorted(np.unique(breast_cancer.target), breast_cancer.target)
    # pooled out of fold, the score is close to the mean of the fold scores
    assert oof_score("balanced_accuracy", y, predictions) == pytest.approx(plain.mean, abs=0.03)
    # a second run reads the transformed folds evaluate_pipeline's keys name
    again = cross_validate(
        spec,
        breast_cancer,
        metric="balanced_accuracy",
        cv=3,
        seed=0,
        cache=cache,
        rows=None,
        keep_predictions=True,
    )
    assert again.result.cached_folds == 3


def test_subsamples_keep_enough_rows_of_a_rare_class() -> None:
    target = np.array([1] * 60 + [0] * 2940)
    rows = subsample_rows(target, 600, seed=0, min_per_class=30)
    assert len(rows) >= 600 and int(np.sum(target[rows] == 1)) >= 30


# -- real searches ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def imbalanced(breast_cancer: Dataset) -> Dataset:
    """breast_cancer with most malignant rows dropped: about 8 % positives."""
    frame = breast_cancer.frame.copy()
    frame["target"] = breast_cancer.target.to_numpy()
    rare = frame[frame["target"] == 0].head(30)
    frame = pd.concat([frame[frame["target"] == 1], rare])
    return dataset_from_frame(frame.reset_index(drop=True), "target", name="breast_cancer_rare")


class _Fixed(InitialDesign):
    """These candidates first (then the optimizer's)."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates

    def _select(self, space, context):
        return self.candidates


def _diverse_search() -> Search:
    pipelines = [
        ("LogisticRegression", {"C": 1.0}),
        ("GaussianNB", {}),
        ("DecisionTreeClassifier", {"max_depth": 3}),
        ("KNeighborsClassifier", {"n_neighbors": 7}),
    ]
    return Search(
        initial_design=_Fixed(
            [Candidate(make_spec(name, params), "test", "pinned") for name, params in pipelines]
        ),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer("random"),
        cv=3,
        use_prior=False,
    )


def test_search_builds_an_ensemble_with_a_tuned_decision(imbalanced: Dataset, tmp_path) -> None:
    # four diverse pipelines on all rows: their out-of-fold predictions are what is combined
    result = _diverse_search().run(imbalanced, budget_seconds=120, record=False, max_evaluations=4)
    assert len(result.evaluations) == 4, result.notes
    model = result.estimator
    assert model is not None and result.ensemble is not None
    weights = [weight for _, _, weight in result.ensemble.members]
    assert sum(weights) == pytest.approx(1.0)
    assert result.ensemble.score >= result.ensemble.single_score - 1e-12
    predicted = model.predict(imbalanced.frame)
    assert set(np.unique(predicted)) <= set(np.unique(imbalanced.target))
    board = result.leaderboard
    assert board["ensemble_weight"].sum() == pytest.approx(1.0)
    summary = result.summary()
    assert summary["final_model"]["members"]
    if result.ensemble.decision is not None:
        assert any("tuned for balanced_accuracy" in note for note in result.notes)
    # the final model is what was saved and reloads as it was
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    assert np.array_equal(joblib.load(path).predict(imbalanced.frame), predicted)
    assert pickle.loads(pickle.dumps(model)).predict(imbalanced.frame[:5]).shape == (5,)


def test_regression_ensemble_averages(diabetes: Dataset) -> None:
    result = autopilot(diabetes, budget=8, kb=None, use_prior=False, record=False, seed=2)
    assert result.estimator is not None
    if result.ensemble is not None and result.ensemble.is_ensemble:
        model = result.estimator
        assert isinstance(model, EnsembleModel) and model.decision is None
        rows = diabetes.frame.head(4)
        manual = sum(w * m.predict(rows) for m, w in zip(model.members, model.weights, strict=True))
        assert np.allclose(model.predict(rows), manual)


def test_no_ensemble_and_interpretable_keep_one_pipeline(imbalanced: Dataset) -> None:
    single = autopilot(imbalanced, budget=6, kb=None, use_prior=False, record=False, ensemble=False)
    assert single.ensemble is None or not single.ensemble.is_ensemble
    readable = cruise_control(
        imbalanced, budget=6, kb=None, use_prior=False, record=False, interpretable=True
    )
    assert readable.ensemble is None or not readable.ensemble.is_ensemble
    plain = autopilot(
        imbalanced,
        budget=6,
        kb=None,
        use_prior=False,
        record=False,
        ensemble=False,
        tune_decisions=False,
    )
    assert plain.ensemble is None and hasattr(plain.estimator, "steps")  # a plain Pipeline


def test_decision_record_describes_itself() -> None:
    assert "threshold" in Decision(threshold=0.2).describe()
    assert "class weights" in Decision(class_weights=(0.5, 1.0)).describe()
    assert Decision().apply(np.array([[0.7, 0.3], [0.2, 0.8]])).tolist() == [0, 1]
