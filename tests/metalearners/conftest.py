"""Views of the real Oboe/LCDB knowledge base (``corpus_kb_path`` from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mile_meta.kb import KnowledgeBase
from mile_meta.metalearners import KnowledgeBaseView


@pytest.fixture(scope="session")
def oboe_view(corpus_kb_path: Path) -> KnowledgeBaseView:
    """Oboe's 418 × 219 matrix as balanced accuracy (1 − balanced error rate)."""
    with KnowledgeBase.open(corpus_kb_path) as kb:
        return KnowledgeBaseView.from_kb(kb, "balanced_accuracy", sources=["oboe"])


@pytest.fixture(scope="session")
def lcdb_view(corpus_kb_path: Path) -> KnowledgeBaseView:
    """LCDB accuracy at the largest train size: 20 learners, some cells missing."""
    with KnowledgeBase.open(corpus_kb_path) as kb:
        return KnowledgeBaseView.from_kb(kb, "predictive_accuracy", sources=["lcdb"])


@pytest.fixture(scope="session")
def small_view(oboe_view: KnowledgeBaseView) -> KnowledgeBaseView:
    """Every fourth Oboe dataset: big enough to learn from, small enough to fit fast."""
    return oboe_view.only(oboe_view.dataset_ids[::4])


@pytest.fixture(scope="session")
def sparse_view(small_view: KnowledgeBaseView) -> KnowledgeBaseView:
    """``small_view`` with 70 % of its cells removed at random (as when corpora are combined)."""
    rng = np.random.default_rng(0)
    scores = np.array(small_view.scores)
    scores[rng.random(scores.shape) < 0.7] = np.nan
    scores[:, 0] = np.nan  # a pipeline with no result at all
    return KnowledgeBaseView(
        metric=small_view.metric,
        higher_is_better=small_view.higher_is_better,
        dataset_ids=small_view.dataset_ids,
        dataset_names=small_view.dataset_names,
        pipeline_ids=small_view.pipeline_ids,
        scores=scores,
        runtime_seconds=np.where(np.isfinite(scores), small_view.runtime_seconds, np.nan),
        meta_features=small_view.meta_features,
        pipelines=small_view.pipelines,
        sources=small_view.sources,
        quality_sources=small_view.quality_sources,
        metric_sources=small_view.metric_sources,
    )
