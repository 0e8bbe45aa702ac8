"""The contract every meta-learner keeps (like optuna's sampler test kit).

Add a new meta-learner to ``LEARNERS`` and it is held to everything below.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.base import clone

from mile_meta.errors import ModelError
from mile_meta.metalearners import (
    AverageRank,
    CollaborativeFiltering,
    Ensemble,
    GreedyPortfolio,
    KnowledgeBaseView,
    MetaLearner,
    NearestDatasets,
    PerformanceModel,
    Ranking,
)

LEARNERS: dict[str, Callable[[], MetaLearner]] = {
    "AverageRank": AverageRank,
    "GreedyPortfolio": lambda: GreedyPortfolio(similarity_bandwidth=None),
    "GreedyPortfolio(similar)": GreedyPortfolio,
    "NearestDatasets": NearestDatasets,
    "CollaborativeFiltering": lambda: CollaborativeFiltering(n_factors=5),
    "PerformanceModel": lambda: PerformanceModel(n_estimators=40),
    "Ensemble": Ensemble,
}

parametrize_learner = pytest.mark.parametrize(
    "make_learner", list(LEARNERS.values()), ids=list(LEARNERS)
)

META = {"NumberOfInstances": 2000.0, "NumberOfFeaturesAfterBinarization": 30.0}


def meta_of(view: KnowledgeBaseView, dataset_id: str) -> dict[str, float]:
    row = view.meta_features.loc[dataset_id]
    return {name: float(value) for name, value in row.items() if np.isfinite(value)}


def check_ranking(ranking: Ranking, view: KnowledgeBaseView, learner: MetaLearner) -> None:
    assert sorted(ranking.pipeline_ids) == sorted(view.pipeline_ids)
    assert len(set(ranking.pipeline_ids)) == view.n_pipelines
    assert ranking.metric == view.metric and ranking.higher_is_better == view.higher_is_better
    for item in ranking:
        assert np.isfinite([item.predicted_score, item.lower, item.upper]).all()
        assert item.lower <= item.predicted_score <= item.upper
        assert item.expected_runtime_seconds is None or item.expected_runtime_seconds > 0
        for evidence in item.evidence:
            assert evidence.dataset_id in view.dataset_ids
            assert evidence.rank_on_dataset >= 1
    if learner.orders_by_predicted_score:
        scores = np.array([item.predicted_score for item in ranking])
        direction = -1.0 if ranking.higher_is_better else 1.0
        assert np.all(np.diff(direction * scores) >= -1e-12), "not sorted by predicted score"


@parametrize_learner
def test_clone_and_params_round_trip(make_learner: Callable[[], MetaLearner]) -> None:
    learner = make_learner()
    params = learner.get_params()
    copy = clone(learner)
    assert copy.get_params() == params and copy is not learner
    assert type(learner)(**params).get_params() == params
    name, value = next(iter(params.items()))
    assert learner.set_params(**{name: value}) is learner


@parametrize_learner
def test_fit_returns_self_and_learned_state_ends_in_underscore(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner()
    before = set(vars(learner))
    assert learner.fit(small_view) is learner
    learned = set(vars(learner)) - before
    assert learned and all(name.endswith("_") for name in learned)
    # refitting on other data starts over
    again = learner.fit(small_view.without(small_view.dataset_ids[:5]))
    assert len(again.dataset_ids_) == small_view.n_datasets - 5


@parametrize_learner
def test_ranking_covers_every_pipeline_once_and_is_ordered(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner().fit(small_view)
    ranking = learner.rank(META)
    check_ranking(ranking, small_view, learner)
    assert all(len(item.evidence) == 3 for item in ranking)
    assert learner.rank(META).pipeline_ids == ranking.pipeline_ids  # deterministic
    json.dumps(ranking.to_dict(top=5), allow_nan=False)


@parametrize_learner
def test_missing_and_unknown_meta_features_are_handled(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner().fit(small_view)
    for meta in (
        {},
        {"NumberOfInstances": 500.0},
        {"NumberOfInstances": float("nan"), "NumberOfFeaturesAfterBinarization": None},
        {"SomethingNobodyComputes": 3.0, "OboeEncodedFeatures": 12.0},
    ):
        check_ranking(learner.rank(meta), small_view, learner)


@parametrize_learner
def test_sparse_matrix_is_handled(
    make_learner: Callable[[], MetaLearner],
    sparse_view: KnowledgeBaseView,
    lcdb_view: KnowledgeBaseView,
) -> None:
    for view in (sparse_view, lcdb_view):
        learner = make_learner().fit(view)
        some_dataset = view.dataset_ids[0]
        check_ranking(learner.rank(meta_of(view, some_dataset)), view, learner)


@parametrize_learner
def test_an_excellent_probe_moves_up_and_a_poor_one_down(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner().fit(small_view)
    before = learner.rank(META)
    low_ranked = before[len(before) // 2].pipeline_id
    excellent = float(np.nanmax(small_view.scores))  # the best score of the whole view
    after = learner.rank(META, observed={low_ranked: excellent})
    check_ranking(after, small_view, learner)
    assert after[0].pipeline_id == low_ranked and after[0].observed_score == pytest.approx(
        excellent
    )
    assert after.next_to_try(1)[0].pipeline_id != low_ranked

    top = before[0].pipeline_id
    poor = float(np.nanmin(small_view.scores))
    demoted = learner.rank(META, observed={top: poor})
    assert demoted.pipeline_ids.index(top) > len(demoted) // 2
    assert demoted.best_observed().pipeline_id == top


@parametrize_learner
def test_observations_change_the_rest_of_the_ranking(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner().fit(small_view)
    if not learner.uses_observed:
        pytest.skip(f"{type(learner).__name__} ignores observations by design (a baseline)")
    held_out = small_view.dataset_ids[0]
    train = small_view.without([held_out])
    learner.fit(train)
    meta = meta_of(small_view, held_out)
    before = learner.rank(meta)
    probes = [item.pipeline_id for item in before.top(3)]
    row = small_view.scores[0]
    observed = {pid: float(row[small_view.pipeline_ids.index(pid)]) for pid in probes}
    after = learner.rank(meta, observed=observed)
    rest_before = [pid for pid in before.pipeline_ids if pid not in observed]
    rest_after = [pid for pid in after.pipeline_ids if pid not in observed]
    assert rest_before != rest_after


@parametrize_learner
def test_bad_input_is_refused_with_a_clear_error(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    learner = make_learner()
    with pytest.raises(ModelError, match="not fitted"):
        learner.rank(META)
    learner.fit(small_view)
    with pytest.raises(ModelError, match="not one this meta-learner ranks"):
        learner.rank(META, observed={"no-such-pipeline": 0.9})
    with pytest.raises(ModelError, match="finite"):
        learner.rank(META, observed={small_view.pipeline_ids[0]: float("nan")})
    with pytest.raises(TypeError):
        learner.fit("not a view")  # type: ignore[arg-type]


@parametrize_learner
def test_leave_one_dataset_out_beats_random(
    make_learner: Callable[[], MetaLearner], small_view: KnowledgeBaseView
) -> None:
    """Top-1 regret over 15 held-out datasets is well below a random pick's."""
    regret = small_view.normalized_regret
    chosen, random_pick = [], []
    for position in range(0, small_view.n_datasets, 7)[:15]:
        dataset_id = small_view.dataset_ids[position]
        learner = make_learner().fit(small_view.without([dataset_id]))
        ranking = learner.rank(meta_of(small_view, dataset_id))
        assert dataset_id not in {e.dataset_id for item in ranking for e in item.evidence}
        top = small_view.pipeline_ids.index(ranking[0].pipeline_id)
        chosen.append(regret[position, top])
        random_pick.append(np.nanmean(regret[position]))
    assert np.mean(chosen) < 0.75 * np.mean(random_pick)
