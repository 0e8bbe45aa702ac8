"""recommend on the bundled real example, from Python and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.kb import KnowledgeBase
from mile_meta.recommend import recommend, recommend_from_metafeatures

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


def test_recommend_ranks_runnable_pipelines_with_evidence(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        report = recommend(EXAMPLE, "class", kb=kb, top=5, exclude_datasets=[31])
    assert (
        report.metric == "balanced_accuracy"
        and report.knowledge_base_metric == "balanced_error_rate"
    )
    assert len(report.recommendations) == 5
    assert [r.rank for r in report.recommendations] == [1, 2, 3, 4, 5]
    for r in report.recommendations:
        assert r.lower <= r.predicted_score <= r.upper
        assert 0 <= r.predicted_score <= 1
        assert r.evidence and all(e.dataset_id != "openml:31" for e in r.evidence)
    assert report.meta_features["NumberOfInstances"] == 1000


def test_probes_are_observed_and_reranked(writable_kb_path: Path) -> None:
    with KnowledgeBase.open(writable_kb_path) as kb:
        report = recommend(EXAMPLE, "class", kb=kb, top=5, probe=2, cv=3, exclude_datasets=[31])
        assert len(report.probes) == 2
        observed = [r for r in report.recommendations if r.observed_score is not None]
        assert len(observed) == 2
        assert observed[0].observed_score >= observed[1].observed_score
        assert kb.source_counts("local")["evaluations"] == 6  # 2 probes x 3 folds


def test_recommend_from_partial_metafeatures_is_deterministic(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        meta = {"NumberOfInstances": 5000.0, "NumberOfFeatures": 20.0, "NumberOfClasses": 2.0}
        first = recommend_from_metafeatures(
            meta, "binary", kb=kb, metric="balanced_accuracy", top=3
        )
        again = recommend_from_metafeatures(
            meta, "binary", kb=kb, metric="balanced_accuracy", top=3
        )
    assert len(first.recommendations) == 3
    assert [r.pipeline_id for r in first.recommendations] == [
        r.pipeline_id for r in again.recommendations
    ]


def test_cli_recommend_json(corpus_kb_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "recommend",
            str(EXAMPLE),
            "--target",
            "class",
            "--top",
            "3",
            "--metric",
            "accuracy",
            "--exclude-dataset",
            "31",
            "--kb",
            str(corpus_kb_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["knowledge_base_metric"] == "predictive_accuracy"
    assert len(payload["recommendations"]) == 3
    assert payload["recommendations"][0]["evidence"][0]["score"] is not None


def test_exclusions_take_names_and_refuse_unknown_ones(corpus_kb_path: Path) -> None:
    from mile_meta.errors import KnowledgeBaseError
    from mile_meta.recommend import resolve_exclusions

    with KnowledgeBase.open(corpus_kb_path) as kb:
        # an id the knowledge base lacks excludes nothing, but is no error
        assert resolve_exclusions(kb, [31, "openml:44", "credit-g", "99999999"]) == (
            "openml:31",
            "openml:44",
            "openml:99999999",
        )
        with pytest.raises(KnowledgeBaseError, match="'credit-gg' names no dataset"):
            recommend(EXAMPLE, "class", kb=kb, top=3, exclude_datasets=["credit-gg"])
        by_name = recommend(EXAMPLE, "class", kb=kb, top=3, exclude_datasets=["credit-g"])
    assert by_name.excluded_datasets == ("openml:31",)
    assert all(e.dataset_id != "openml:31" for r in by_name.recommendations for e in r.evidence)


def test_cli_rejects_nonsense_counts(corpus_kb_path: Path) -> None:
    for option in (["--top", "0"], ["--probe", "-1"]):
        result = CliRunner().invoke(
            main,
            ["recommend", str(EXAMPLE), "--target", "class", "--kb", str(corpus_kb_path), *option],
        )
        assert result.exit_code == 2 and option[0] in result.output
