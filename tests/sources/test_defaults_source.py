"""The defaults corpus: default pipelines measured on real data, against the committed snapshot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mile_meta.errors import CorpusError
from mile_meta.kb import KnowledgeBase
from mile_meta.pipelines import PipelineSpec
from mile_meta.records import DatasetRecord, EvaluationRecord, PipelineRecord
from mile_meta.sources.defaults import DefaultsSource
from mile_meta.testing import check_source_contract

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "corpora" / "defaults"


def test_contract_provenance_and_content() -> None:
    counts = check_source_contract(DefaultsSource())
    provenance = json.loads((FOLDER / "PROVENANCE.json").read_text())
    assert counts["datasets"] == len(provenance["datasets"])
    assert provenance["protocol"]["folds"] == 5
    classifiers = [json.loads(spec) for spec in provenance["protocol"]["classifiers"]]
    estimators = [(c["steps"][-1]["component"], c["steps"][-1]["params"]) for c in classifiers]
    assert ("HistGradientBoostingClassifier", {}) in estimators
    assert ("HistGradientBoostingClassifier", {"class_weight": "balanced"}) in estimators
    assert "scikit-learn" in provenance["packages"]
    # every dataset says where it came from and why it has its key
    assert all(d["origin"] and d["loader"] and d["key"] for d in provenance["datasets"])


def test_records_are_default_runnable_pipelines_with_scale_free_regression() -> None:
    records = list(DefaultsSource().records())
    pipelines = [r for r in records if isinstance(r, PipelineRecord)]
    components = {PipelineSpec.from_json(p.spec_json).estimator.component for p in pipelines}
    assert {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"} <= components
    assert all(p.runnable for p in pipelines)
    evaluations = [r for r in records if isinstance(r, EvaluationRecord)]
    metrics = {e.metric for e in evaluations}
    assert {"balanced_accuracy", "r2", "root_mean_squared_error"} <= metrics
    for e in evaluations:
        if e.metric in ("balanced_accuracy", "predictive_accuracy", "area_under_roc_curve"):
            assert 0.0 <= e.value <= 1.0
        if e.metric == "r2":
            assert e.value <= 1.0
        assert e.repeats == 5 and e.value_std is not None and e.value_std >= 0
    regression = {
        r.dataset_id for r in records if isinstance(r, EvaluationRecord) and r.metric == "r2"
    }
    assert len(regression) >= 10
    datasets = [r for r in records if isinstance(r, DatasetRecord)]
    assert all(d.dataset_id.startswith(("openml:", "defaults:")) for d in datasets)


def test_corrupt_or_missing_file_is_a_corpus_error(tmp_path: Path) -> None:
    target = tmp_path / "defaults"
    shutil.copytree(FOLDER, target)
    (target / "runs.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(CorpusError, match=r"runs\.csv\.gz is corrupt"):
        list(DefaultsSource(target).records())
    (target / "PROVENANCE.json").unlink()
    with pytest.raises(CorpusError, match=r"PROVENANCE\.json is missing"):
        DefaultsSource(target).info()


def test_ingested_defaults_meet_oboe_on_openml_ids(tmp_path: Path) -> None:
    from mile_meta.kb import build_knowledge_base

    path = tmp_path / "kb.sqlite"
    build_knowledge_base(path, ["oboe", "defaults"])
    with KnowledgeBase.open(path) as kb:
        frame = kb.evaluations_frame("balanced_accuracy")
        oboe = kb.evaluations_frame("balanced_error_rate")
    shared = set(frame["dataset_id"]) & set(oboe["dataset_id"])
    assert "openml:31" in shared  # credit-g: Oboe's pipelines and the defaults side by side
    assert isinstance(frame, pd.DataFrame) and len(shared) >= 8
