"""KnowledgeBaseView: orientation, metric equivalences, exclusions, meta-features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mile_meta.errors import KnowledgeBaseError, MileMetaError
from mile_meta.kb import KnowledgeBase
from mile_meta.metalearners import KnowledgeBaseView


def test_balanced_accuracy_is_one_minus_oboes_balanced_error_rate(
    corpus_kb_path: Path, oboe_view: KnowledgeBaseView
) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        errors = KnowledgeBaseView.from_kb(kb, "ber", sources=["oboe"])
    assert oboe_view.metric == "balanced_accuracy" and oboe_view.higher_is_better
    assert oboe_view.metric_sources == ("balanced_error_rate",)
    assert errors.metric == "balanced_error_rate" and not errors.higher_is_better
    assert (oboe_view.n_datasets, oboe_view.n_pipelines) == (418, 219)
    # the error view is negated (higher is better), so both orderings agree
    np.testing.assert_allclose(oboe_view.scores, 1.0 + errors.scores)
    np.testing.assert_allclose(errors.to_metric(errors.scores), -errors.scores)
    np.testing.assert_allclose(oboe_view.normalized_regret, errors.normalized_regret, atol=1e-12)


def test_lcdb_view_is_sparse_and_regret_is_normalized(lcdb_view: KnowledgeBaseView) -> None:
    assert lcdb_view.n_pipelines == 20 and lcdb_view.n_datasets > 200
    assert 0.5 < lcdb_view.density < 1.0
    regret = lcdb_view.normalized_regret
    assert np.array_equal(np.isnan(regret), np.isnan(lcdb_view.scores))
    assert np.nanmin(regret) == 0.0 and np.nanmax(regret) == 1.0
    assert np.all(np.nanmin(regret, axis=1)[np.isfinite(regret).any(axis=1)] == 0.0)
    assert lcdb_view.meta_features.shape[1] > 40  # LCDB ships OpenML qualities


def test_oboe_encoded_features_stand_in_for_features_after_binarization(
    oboe_view: KnowledgeBaseView,
) -> None:
    columns = set(oboe_view.meta_features.columns)
    assert "OboeEncodedFeatures" not in columns
    assert oboe_view.meta_features["NumberOfFeaturesAfterBinarization"].notna().all()


def test_without_and_exclude_datasets_remove_the_dataset_everywhere(
    corpus_kb_path: Path, oboe_view: KnowledgeBaseView
) -> None:
    smaller = oboe_view.without([31, "openml:44"])
    assert smaller.n_datasets == oboe_view.n_datasets - 2
    assert "openml:31" not in smaller.dataset_ids and "openml:31" not in smaller.meta_features.index
    with KnowledgeBase.open(corpus_kb_path) as kb:
        excluded = KnowledgeBaseView.from_kb(kb, "balanced_accuracy", exclude_datasets=["31", 44])
    assert excluded.dataset_ids == smaller.dataset_ids
    np.testing.assert_array_equal(excluded.scores, smaller.scores)
    with pytest.raises(ValueError):
        smaller.scores[0, 0] = 1.0  # read-only


def test_unknown_or_absent_metric_is_a_one_line_error(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        with pytest.raises(MileMetaError, match="unknown metric"):
            KnowledgeBaseView.from_kb(kb, "precision_at_7")
        with pytest.raises(KnowledgeBaseError, match="no evaluations of r2"):
            KnowledgeBaseView.from_kb(kb, "r2")
        with pytest.raises(KnowledgeBaseError, match="no evaluations"):
            KnowledgeBaseView.from_kb(kb, "predictive_accuracy", sources=["oboe"])
