"""The default model: trained per metric, saved with metadata, refused on another corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mile_meta.errors import ModelError
from mile_meta.kb import KnowledgeBase
from mile_meta.metalearners import (
    DefaultModel,
    default_model_path,
    fit_default_learner,
    load_default_model,
    train_default_model,
)
from mile_meta.records import SourceInfo

META = {"NumberOfInstances": 1000.0, "NumberOfFeatures": 20.0, "NumberOfClasses": 2.0}


@pytest.fixture(scope="module")
def trained(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> DefaultModel:
    folder = tmp_path_factory.mktemp("model")
    with KnowledgeBase.open(corpus_kb_path) as kb:
        return train_default_model(kb, folder, metrics=["balanced_accuracy", "accuracy"])


def test_training_saves_model_and_metadata(trained: DefaultModel, corpus_kb_path: Path) -> None:
    assert trained.path is not None and trained.path.exists()
    metadata = json.loads(trained.path.with_suffix(".json").read_text())
    with KnowledgeBase.open(corpus_kb_path) as kb:
        assert metadata["kb_checksum"] == kb.checksum(["lcdb", "oboe"])
        assert metadata["kb_schema_version"] == kb.schema_version
    assert metadata["sources"] == ["lcdb", "oboe"]
    assert metadata["metrics"] == ["balanced_accuracy", "predictive_accuracy"]
    assert len(metadata["training_datasets"]["balanced_accuracy"]) == 418
    assert metadata["learners"]["balanced_accuracy"]["name"]
    assert trained.path.stat().st_size < 10_000_000


def test_loaded_model_ranks_like_the_trained_one(
    trained: DefaultModel, corpus_kb_path: Path
) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        loaded = load_default_model(kb, trained.path)
    assert loaded.metrics == trained.metrics
    for metric in ("balanced_accuracy", "accuracy"):
        assert (
            loaded.rank(META, metric=metric).pipeline_ids
            == trained.rank(META, metric=metric).pipeline_ids
        )
    with pytest.raises(ModelError, match="no learner for log_loss"):
        loaded.rank(META, metric="log_loss")


def test_a_model_of_another_knowledge_base_is_refused(
    trained: DefaultModel, writable_kb_path: Path, tmp_path: Path
) -> None:
    assert trained.path is not None
    copy = tmp_path / "default-model.joblib"
    copy.write_bytes(trained.path.read_bytes())
    metadata = json.loads(trained.path.with_suffix(".json").read_text())
    metadata["kb_checksum"] = "0123456789abcdef"
    copy.with_suffix(".json").write_text(json.dumps(metadata))
    with KnowledgeBase.open(writable_kb_path) as kb:
        with pytest.raises(ModelError, match="trained on another version"):
            load_default_model(kb, tmp_path)
        # the user's own runs are not a corpus: they leave the model valid
        kb.record_source(SourceInfo("local", "1", "user data"), {"evaluations": 0})
        assert load_default_model(kb, trained.path).metrics == trained.metrics
        kb.remove_source("lcdb")
        with pytest.raises(ModelError, match="lacks lcdb"):
            load_default_model(kb, trained.path)


def test_missing_model_says_how_to_train(corpus_kb_path: Path, tmp_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb, pytest.raises(ModelError, match="models train"):
        load_default_model(kb, tmp_path / "nothing-here")


def test_committed_default_model_matches_the_corpus_snapshot(default_sources_kb_path: Path) -> None:
    if not default_model_path().exists():
        pytest.skip(f"{default_model_path()} not committed yet")
    with KnowledgeBase.open(default_sources_kb_path) as kb:
        model = load_default_model(kb)
    ranking = model.rank(META)
    # Oboe's 219 pipelines and the 13 default / class-weighted classifiers of the defaults corpus
    assert ranking.metric == "balanced_accuracy" and len(ranking) == 232
    assert ranking[0].evidence


def test_fit_default_learner_leaves_the_excluded_dataset_out(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        learner = fit_default_learner(kb, "ber", exclude_datasets=[31])
    assert "openml:31" not in learner.dataset_ids_ and len(learner.dataset_ids_) == 417
    ranking = learner.rank(META)
    assert ranking.metric == "balanced_error_rate" and not ranking.higher_is_better
    assert all(item.lower <= item.predicted_score <= item.upper for item in ranking)
    assert "openml:31" not in {e.dataset_id for item in ranking for e in item.evidence}
