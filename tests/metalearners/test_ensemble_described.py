"""The Ensemble's first pick comes from the fully described datasets when the query is one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mile_meta.kb import KnowledgeBase
from mile_meta.metafeatures import compute_metafeatures
from mile_meta.metalearners import Ensemble, KnowledgeBaseView, NearestDatasets

EXAMPLE = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"


@pytest.fixture(scope="module")
def view(default_sources_kb_path: Path) -> KnowledgeBaseView:
    """Oboe + defaults, credit-g (OpenML 31) held out."""
    with KnowledgeBase.open(default_sources_kb_path) as kb:
        full = KnowledgeBaseView.from_kb(kb, "balanced_accuracy", sources=["defaults", "oboe"])
    return full.without(["openml:31"]).with_pipelines_measured_on(3)


def test_a_described_query_is_led_by_the_described_datasets(view: KnowledgeBaseView) -> None:
    frame = pd.read_csv(EXAMPLE)
    meta = compute_metafeatures(frame.drop(columns="class"), frame["class"]).values
    ensemble = Ensemble().fit(view)
    described = ensemble.described_leader_
    assert described is not None
    # the described learner knows the dense block only: real datasets with full qualities
    assert 20 <= len(described.dataset_ids_) < 100 < len(ensemble.dataset_ids_)
    assert described.feature_space_.names and len(described.feature_space_.names) >= 10
    first = ensemble.rank(meta, evidence=0)[0].pipeline_id
    assert first == described.rank(meta, evidence=0)[0].pipeline_id
    # without described datasets (min_described out of reach) the old leader decides
    plain = Ensemble(min_described=10**6).fit(view)
    assert plain.described_leader_ is None
    assert plain.rank(meta, evidence=0)[0].pipeline_id == (
        NearestDatasets().fit(view).rank(meta, evidence=0)[0].pipeline_id
    )


def test_a_query_known_by_two_qualities_is_led_as_before(view: KnowledgeBaseView) -> None:
    oboe_like = {"NumberOfInstances": 1000.0, "NumberOfFeaturesAfterBinarization": 61.0}
    ensemble = Ensemble().fit(view)
    plain = Ensemble(min_described=10**6).fit(view)
    assert (
        ensemble.rank(oboe_like, evidence=0).pipeline_ids
        == plain.rank(oboe_like, evidence=0).pipeline_ids
    )
