"""What each question says about credit-g, checked against the knowledge base it came from."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mile_meta.fit_time import EXPONENT_RANGE
from mile_meta.questions import (
    FRACTIONS,
    doubling_gain,
    growth_exponents,
    hyperparameters_of,
    one_hot_width,
    spearman,
    width_exponent,
)
from mile_meta.questions._which_hyperparameters_matter import _family_effects


def test_what_to_try_first_is_the_recommenders_shortlist(credit_answers, credit_g, corpus_kb):
    from mile_meta.recommend import recommend

    rows = credit_answers["what_to_try_first"].table
    report = recommend(credit_g, kb=corpus_kb, top=5)
    assert [row.pipeline_id for row in rows] == [r.pipeline_id for r in report.recommendations]
    assert [row.rank for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        assert row.lower <= row.predicted_score <= row.upper


def test_hyperparameter_importances_sum_to_one_per_family(credit_answers, credit_context):
    rows = credit_answers["which_hyperparameters_matter"].table
    by_family = defaultdict(list)
    for row in rows:
        by_family[row.family].append(row)
        assert 0 <= row.importance <= 1
        assert 0 <= row.variance_explained <= 1
        assert row.best_value in row.values
        assert row.n_configurations >= 3
    assert set(by_family) <= set(credit_context.families())
    for family_rows in by_family.values():
        assert math.isclose(sum(r.importance for r in family_rows), 1.0, rel_tol=1e-9)
    # Oboe's gradient boosting grid varies learning rate, depth and max_features
    boosting = {r.hyperparameter for r in by_family["gradient_boosting"]}
    assert boosting == {"learning_rate", "max_depth", "max_features"}


def test_main_effect_is_one_for_the_only_hyperparameter_that_moves_the_score():
    specs = {
        f"p{rate}{depth}": (
            '{"steps":[{"component":"GradientBoostingClassifier","params":'
            f'{{"learning_rate":{rate},"max_depth":{depth}}}}}]}}'
        )
        for rate in (0.01, 0.1, 1.0)
        for depth in (3, 6)
    }
    scores = pd.DataFrame(
        [
            {
                "dataset_id": "d",
                "source": "oboe",
                "pipeline_id": pipeline_id,
                "spec_json": spec,
                "value": hyperparameters_of(spec)["learning_rate"].count("1") / 10,
            }
            for pipeline_id, spec in specs.items()
        ]
    )
    scores["value"] = scores["spec_json"].map(
        lambda spec: float(hyperparameters_of(spec)["learning_rate"])
    )
    effects = _family_effects(scores.assign(oriented=scores["value"]))
    assert effects.fractions["learning_rate"] == [pytest.approx(1.0)]
    assert effects.fractions["max_depth"] == [pytest.approx(0.0)]
    assert (
        max(
            effects.standings["learning_rate"],
            key=lambda v: np.mean(effects.standings["learning_rate"][v]),
        )
        == "1.0"
    )


def test_doubling_gain_is_finite_and_ordered(credit_answers):
    answer = credit_answers["how_much_more_data_helps"]
    for row in answer.table:
        assert row.rows_now == 1000 and row.rows_doubled == 2000
        assert all(math.isfinite(v) for v in (row.expected_gain, row.gain_low, row.gain_high))
        assert row.gain_low <= row.expected_gain <= row.gain_high
        assert 0 <= row.accuracy_now <= 1 and 0 <= row.accuracy_doubled <= 1.05
        assert 0 <= row.n_carried <= row.n_datasets
    assert {p.dataset_id for p in answer.evidence.points} == {
        d.dataset_id for d in answer.evidence.datasets
    }


def test_carrying_the_last_doubling_forward_beats_assuming_no_gain(credit_context):
    """The rule behind curves that stop before 2n, checked on LCDB itself: cut each curve at
    half its length and predict the gain of the doubling that was cut off."""
    curves = credit_context.learning_curves()
    every_sixth_dataset = sorted(set(curves["dataset_id"]))[::6]  # 800 curves: enough, and fast
    curves = curves[curves["dataset_id"].isin(every_sixth_dataset)]
    errors, no_gain_errors = [], []
    for _, curve in curves.groupby(["dataset_id", "pipeline_id"]):
        largest = int(curve["train_size"].max())
        half = largest // 2
        cut = curve[curve["train_size"] <= half]
        if len(cut) < 4:
            continue
        now, _, carried = doubling_gain(cut, half)
        predicted = doubling_gain(cut, half)[1] - now
        actual = float(curve.loc[curve["train_size"] == largest, "value"].mean()) - now
        assert carried
        errors.append(predicted - actual)
        no_gain_errors.append(-actual)
    errors, no_gain_errors = np.array(errors), np.array(no_gain_errors)
    assert len(errors) > 500
    assert np.abs(errors).mean() < np.abs(no_gain_errors).mean()
    assert abs(errors.mean()) < 0.005  # unbiased, where assuming no gain is not
    assert abs(no_gain_errors.mean()) > 0.01


def test_fit_time_interval_contains_the_estimate_and_scaling_is_stated(credit_answers):
    answer = credit_answers["expected_fit_time"]
    by_pipeline = {row.pipeline_id: row for row in answer.table}
    for row in answer.table:
        assert 0 < row.lower_seconds <= row.seconds <= row.upper_seconds
        assert EXPONENT_RANGE[0] <= row.rows_exponent <= EXPONENT_RANGE[1]
        assert 0 <= row.width_exponent <= 2
    for point in answer.evidence.points:
        row = by_pipeline[point.pipeline_id]
        expected = point.runtime_seconds * (1000 / point.dataset_rows) ** row.rows_exponent
        if point.dataset_width:
            expected *= (61 / point.dataset_width) ** row.width_exponent
        assert point.scaled_seconds == pytest.approx(expected)
    assert "scaled by" in answer.summary
    assert "61 one-hot encoded columns" in answer.summary


def test_recommend_prints_the_fit_times_the_question_states(credit_answers, credit_context):
    # one estimator: each shortlisted candidate's fit time is the same in both places
    answer = credit_answers["expected_fit_time"]
    printed = {r.pipeline_id: r.expected_fit_seconds for r in credit_context.report.recommendations}
    assert answer.table
    for row in answer.table:
        assert printed[row.pipeline_id] == pytest.approx(row.seconds, rel=1e-6)


def test_one_hot_width_counts_like_oboe(credit_g, corpus_kb):
    oboe_width = corpus_kb.db.execute(
        "SELECT value FROM qualities WHERE dataset_id = 'openml:31'"
        " AND name = 'OboeEncodedFeatures'"
    ).fetchone()[0]
    assert one_hot_width(credit_g.frame) == 61
    assert abs(oboe_width - 61) <= 1  # Oboe's copy of credit-g, encoded the same way


def test_width_exponent_recovers_a_known_power():
    rng = np.random.default_rng(0)
    rows = rng.integers(100, 100_000, 40).astype(float)
    width = rng.integers(2, 5_000, 40).astype(float)
    seconds = 1e-4 * rows * width**0.5 * np.exp(rng.normal(0, 0.05, 40))
    frame = pd.DataFrame({"runtime_seconds": seconds, "rows": rows, "width": width})
    assert width_exponent(frame) == pytest.approx(0.5, abs=0.05)
    assert width_exponent(frame.head(5)) is None  # too few datasets to say


def test_kernel_svm_fit_time_grows_faster_than_boosting(credit_context):
    exponents = growth_exponents(credit_context.learning_curves())
    assert exponents["kernel_svm"] > 1.2
    assert exponents["kernel_svm"] > exponents["gradient_boosting"]


def test_small_sample_agreement_grows_with_the_fraction(credit_answers):
    answer = credit_answers["small_sample_reliability"]
    rows = answer.table
    assert [row.fraction for row in rows] == list(FRACTIONS)
    assert [row.user_rows for row in rows] == [62, 125, 250, 500]
    overall = [row.spearman_overall for row in rows]
    assert overall == sorted(overall) and len(set(overall)) == len(overall)
    for point in answer.evidence.points:
        assert -1 <= point.spearman <= 1
        assert point.small_size < point.full_size
    assert "25 % of your 1,000 rows" in answer.summary


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(-5, 5, allow_nan=False)), min_size=3, max_size=20
    )
)
def test_spearman_matches_scipy_with_ties(pairs):
    from scipy.stats import spearmanr

    first = np.array([float(a) for a, _ in pairs])
    second = np.array([b for _, b in pairs])
    expected = spearmanr(first, second).statistic
    if np.isnan(expected):
        assert np.isnan(spearman(first, second))
    else:
        assert spearman(first, second) == pytest.approx(expected, abs=1e-9)


def test_similar_datasets_are_nearest_first_with_their_best_pipeline(credit_answers):
    rows = credit_answers["similar_datasets"].table
    distances = [row.distance for row in rows]
    assert distances == sorted(distances)
    assert len(rows) <= 15
    for row in rows:
        assert 0 <= row.best_score <= 1
        assert row.n_pipelines >= 1
    # the knowledge base holds credit-g itself (OpenML 31): it must be among the nearest
    assert "openml:31" in {row.dataset_id for row in rows}


def test_excluded_datasets_stay_out_of_the_answers(credit_g, corpus_kb):
    from mile_meta.questions import QuestionContext, answer_question

    context = QuestionContext(credit_g, corpus_kb, exclude_datasets=[31])
    answer = answer_question("similar_datasets", credit_g, corpus_kb, context=context)
    assert answer.answered
    assert "openml:31" not in {row.dataset_id for row in answer.table}


def test_candidates_comparison_counts_wins_and_regret(credit_answers, credit_context):
    answer = credit_answers["how_candidates_compare"]
    rows = answer.table
    assert [row.pipeline_id for row in rows] == [c.pipeline_id for c in credit_context.candidates()]
    assert len({row.family for row in rows}) >= 3  # the top five plus other families' best
    for row in rows:
        assert 0 <= row.wins <= row.n_datasets
        assert 0 <= row.mean_normalized_regret <= 1
    datasets = {p.dataset_id for p in answer.evidence.points}
    winners_per_dataset = defaultdict(int)
    for point in answer.evidence.points:
        assert 0 <= point.normalized_regret <= 1
        winners_per_dataset[point.dataset_id] += point.won
    assert all(winners_per_dataset[d] >= 1 for d in datasets)
    assert sum(row.wins for row in rows) >= len(datasets)


def test_answers_are_frozen(credit_answers):
    answer = credit_answers["what_to_try_first"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.summary = "changed"  # type: ignore[misc]
