"""Local runs are evidence, never a takeover (property-tested on the real Oboe + LCDB corpora).

The bound (``mile_meta.ranking`` module docstring): after any runs recorded on a dataset X,
every pipeline's predicted score for another dataset Y moves by at most
``w / (PRIOR_STRENGTH + w) · max |score − prior|``, where ``w = exp(-½ (d(X, Y) / h)²)`` is
X's weight seen from Y; pipelines without runs keep their predictions and their order;
pipelines only the user ran sit between the typical pipeline and what they scored; no
interval has zero width unless its evidence does.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mile_meta.kb import KnowledgeBase
from mile_meta.metrics import resolve_metric
from mile_meta.pipelines import PipelineSpec, family_of, make_spec
from mile_meta.ranking import PRIOR_STRENGTH, local_weight, meta_learner_for, rank_pipelines
from mile_meta.records import DatasetRecord, EvaluationRecord, PipelineRecord, QualityRecord

METRIC = resolve_metric("balanced_accuracy")
# Y: a dataset shaped like credit-g (1,000 rows, 61 encoded columns, 2 classes)
Y = {
    "NumberOfInstances": 1000.0,
    "NumberOfFeatures": 21.0,
    "NumberOfFeaturesAfterBinarization": 61.0,
    "NumberOfClasses": 2.0,
}
# X candidates: real knowledge-base datasets (their stored qualities) and one near Y
X_DATASETS = ("openml:1489", "openml:44", "openml:28", "near-y")


@pytest.fixture(scope="module")
def kb_path(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path_factory.mktemp("local") / "kb.sqlite"
    shutil.copy(corpus_kb_path, target)
    return target


def _x_qualities(kb: KnowledgeBase, name: str) -> dict[str, float]:
    if name == "near-y":
        return {**Y, "NumberOfInstances": 1100.0}
    row = kb.qualities_frame().loc[name]
    return {k: float(v) for k, v in row.items() if np.isfinite(v)}


def _record(kb: KnowledgeBase, x: str, runs: list[tuple[str, str, float]]) -> None:
    """Record runs (pipeline id, spec JSON, score) on local dataset X, 3 folds each."""
    dataset_id = f"local:{x}"
    records: list[object] = [DatasetRecord(dataset_id, f"x-{x}", None, origin_key=x)]
    records += [QualityRecord(dataset_id, k, v) for k, v in _x_qualities(kb, x).items()]
    for index, (pipeline_id, spec_json, score) in enumerate(runs):
        family = family_of(PipelineSpec.from_json(spec_json))
        records.append(PipelineRecord(pipeline_id, spec_json, family, f"local:{pipeline_id}"))
        for fold, jitter in enumerate((-0.01, 0.0, 0.01)):
            records.append(
                EvaluationRecord(
                    dataset_id=dataset_id,
                    pipeline_id=pipeline_id,
                    metric=METRIC.name,
                    value=min(1.0, max(0.0, score + jitter)),
                    higher_is_better=True,
                    fold=fold,
                    seed=index,  # a repeated run of the same pipeline is a new seed
                    runtime_seconds=0.5,
                )
            )
    with kb.transaction():
        kb.write_records(records, "local")  # type: ignore[arg-type]
        kb.db.execute(
            "INSERT OR REPLACE INTO sources (name, version, licence, ingested_at, record_counts)"
            " VALUES ('local', 'test', '', datetime('now'), '{}')"
        )


run_strategy = st.lists(
    st.tuples(
        st.one_of(
            st.integers(min_value=0, max_value=218).map(lambda i: ("corpus", i)),
            st.sampled_from([1e-11, 1e-9, 6.9e-11, 1e-5]).map(lambda v: ("new", v)),
        ),
        st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(x=st.sampled_from(X_DATASETS), runs=run_strategy)
def test_runs_on_x_move_y_only_as_far_as_the_evidence_warrants(
    kb_path: Path, x: str, runs: list[tuple[tuple[str, object], float]]
) -> None:
    with KnowledgeBase.open(kb_path) as kb:
        kb.forget_local_runs()
        learner = meta_learner_for(kb, METRIC)
        corpus_ids = list(learner.pipeline_ids_)
        recorded = []
        for (kind, value), score in runs:
            if kind == "corpus":
                pipeline_id = corpus_ids[int(value) % len(corpus_ids)]  # type: ignore[call-overload]
                spec_json = kb.pipeline_descriptors([pipeline_id]).loc[pipeline_id, "spec_json"]
            else:
                spec = make_spec("GaussianNB", {"var_smoothing": float(value)})  # type: ignore[arg-type]
                pipeline_id, spec_json = spec.pipeline_id, spec.to_json()
            recorded.append((pipeline_id, spec_json, score))
        _record(kb, x, recorded)

        before = rank_pipelines(kb.without(local=False), METRIC, "binary", Y)
        after = rank_pipelines(kb, METRIC, "binary", Y)
        query = learner.feature_space_.transform_mapping(Y)
        row = learner.feature_space_.transform_mapping(_x_qualities(kb, x))
        distance = float(learner.feature_space_.distances(query, row[None, :])[0])
        weight = local_weight(distance if math.isfinite(distance) else None)
        shrink = weight / (PRIOR_STRENGTH + weight)

        prior = {r.pipeline_id: r for r in before.recommendations}
        with_runs = {pid for pid, _, _ in recorded}
        scores: dict[str, list[float]] = {}
        for pid, _, score in recorded:
            scores.setdefault(pid, []).extend(
                min(1.0, max(0.0, score + j)) for j in (-0.01, 0.0, 0.01)
            )
        moved_order = []
        for r in after.recommendations:
            assert r.lower <= r.predicted_score <= r.upper
            assert r.observed_score is None  # X is not Y: nothing counts as observed here
            if r.pipeline_id in prior:
                old = prior[r.pipeline_id].predicted_score
                if r.pipeline_id in with_runs:
                    mean = float(np.mean(scores[r.pipeline_id]))
                    assert abs(r.predicted_score - old) <= shrink * abs(mean - old) + 1e-9
                    assert min(old, mean) - 1e-9 <= r.predicted_score <= max(old, mean) + 1e-9
                else:
                    assert r.predicted_score == pytest.approx(old, abs=1e-12)
                    moved_order.append(r.pipeline_id)
            else:
                # only the user ran it: between the typical pipeline and what it scored
                assert r.pipeline_id in with_runs
                mean = float(np.mean(scores[r.pipeline_id]))
                typical = float(np.median([p.predicted_score for p in before.recommendations]))
                low, high = min(typical, mean), max(typical, mean)
                assert low - 1e-9 <= r.predicted_score <= high + 1e-9
                assert abs(r.predicted_score - typical) <= shrink * abs(mean - typical) + 1e-9
                assert r.upper > r.lower  # the typical pipeline's spread stays in
        # pipelines without runs keep their order among themselves
        untouched = [
            r.pipeline_id for r in before.recommendations if r.pipeline_id not in with_runs
        ]
        assert moved_order == untouched
        # near-identical configurations (GaussianNB with other var_smoothing) count once
        new_ranked = [r for r in after.recommendations if r.pipeline_id not in prior]
        assert len(new_ranked) <= 1


def test_a_run_on_the_same_data_counts_as_an_observation(kb_path: Path) -> None:
    with KnowledgeBase.open(kb_path) as kb:
        kb.forget_local_runs()
        spec = make_spec("RandomForestClassifier")
        _record(kb, "near-y", [(spec.pipeline_id, spec.to_json(), 0.9)])
        own = rank_pipelines(kb, METRIC, "binary", Y, own_dataset_id="local:near-y")
        other = rank_pipelines(kb, METRIC, "binary", Y)
        ignored = rank_pipelines(kb.without(local=False), METRIC, "binary", Y)
    first = own.recommendations[0]
    assert first.pipeline_id == spec.pipeline_id and first.observed_score == pytest.approx(0.9)
    assert first.upper > first.lower  # the folds disagreed: the interval says so
    # seen from a dataset that only resembles it, one run is one shrunk observation
    shrunk = next(r for r in other.recommendations if r.pipeline_id == spec.pipeline_id)
    assert shrunk.observed_score is None and shrunk.predicted_score < 0.9
    assert spec.pipeline_id not in {r.pipeline_id for r in ignored.recommendations}


def test_forget_runs_by_dataset_restores_the_corpus_ranking(kb_path: Path) -> None:
    with KnowledgeBase.open(kb_path) as kb:
        kb.forget_local_runs()
        baseline = [r.pipeline_id for r in rank_pipelines(kb, METRIC, "binary", Y).recommendations]
        spec = make_spec("GaussianNB", {"var_smoothing": 6.9e-11})
        _record(kb, "near-y", [(spec.pipeline_id, spec.to_json(), 0.99)])
        assert [r.pipeline_id for r in kb.local_runs(dataset="local:near-y")] == [spec.pipeline_id]
        assert kb.forget_local_runs(dataset="x-near-y") == 3
        assert kb.local_runs() == [] and "local" not in kb.source_names()
        again = [r.pipeline_id for r in rank_pipelines(kb, METRIC, "binary", Y).recommendations]
    assert again == baseline
