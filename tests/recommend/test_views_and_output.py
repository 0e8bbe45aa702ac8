"""Knowledge-base views, readable evidence, --no-local, kb runs / forget-runs, evaluate's comparison."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.data import load_dataset
from mile_meta.evaluate import evaluate_pipeline
from mile_meta.kb import KnowledgeBase, display_name
from mile_meta.metrics import resolve_metric
from mile_meta.ranking import rank_pipelines
from mile_meta.recommend import compare_evaluation

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"
Y = {"NumberOfInstances": 1000.0, "NumberOfFeaturesAfterBinarization": 61.0}


def test_a_view_hides_datasets_from_every_read(corpus_kb_path: Path) -> None:
    with KnowledgeBase.open(corpus_kb_path) as kb:
        view = kb.without(["openml:31"])
        assert "openml:31" in set(kb.evaluations_frame("balanced_error_rate")["dataset_id"])
        assert "openml:31" not in set(view.evaluations_frame("balanced_error_rate")["dataset_id"])
        assert "openml:31" not in view.qualities_frame().index
        assert view.without(["openml:44"]).hidden_datasets == {"openml:31", "openml:44"}
        assert not kb.is_view and view.is_view  # the parent is unchanged
        ranked = rank_pipelines(view, resolve_metric("balanced_accuracy"), "binary", Y)
        cited = {e.dataset_id for r in ranked.recommendations for e in r.evidence}
        assert "openml:31" not in cited


def test_evidence_names_datasets_readably(corpus_kb_path: Path) -> None:
    assert display_name("openml:826", None) == "OpenML 826"
    assert display_name("openml:31", "credit-g") == "credit-g"
    with KnowledgeBase.open(corpus_kb_path) as kb:
        names = kb.dataset_names()
        ranked = rank_pipelines(kb, resolve_metric("balanced_accuracy"), "binary", Y)
    # Oboe's zero-padded row labels never stand for a name
    assert not any(name.isdigit() for name in names.values())
    assert names["openml:826"] == "OpenML 826"  # Oboe knows it by its id alone
    assert names["openml:31"] == "credit-g"
    for r in ranked.recommendations[:20]:
        for e in r.evidence:
            assert e.dataset_name and not e.dataset_name.isdigit() and e.dataset_name != "(unnamed)"


def test_table_is_ordered_by_the_score_it_shows(corpus_kb_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "recommend",
            str(EXAMPLE),
            "--target",
            "class",
            "--top",
            "8",
            "--json",
            "--kb",
            str(corpus_kb_path),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    # the order is by the expected best of the first k: that column only improves
    so_far = [r["expected_best_so_far"] for r in payload["recommendations"]]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(so_far))
    first = payload["recommendations"][0]
    assert so_far[0] == first["predicted_score"]  # the first pick alone
    assert payload["order"].startswith("in the order to try them")
    text = runner.invoke(
        main,
        ["recommend", str(EXAMPLE), "--target", "class", "--top", "3", "--kb", str(corpus_kb_path)],
    ).output
    assert "order: in the order to try them, by the expected best balanced accuracy" in text
    assert "best of 1..#" in text
    # credit-g itself (OpenML 31) is in the corpora at distance 0 and ranks Oboe's pick low
    assert "warning: the first pick ranked only" in text and "credit-g" in text


def test_no_local_cli_and_kb_runs_then_forget(writable_kb_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    kb_args = ["--kb", str(writable_kb_path)]
    evaluated = runner.invoke(
        main,
        [
            "evaluate",
            str(EXAMPLE),
            "--target",
            "class",
            "--pipeline",
            "GaussianNB",
            "--cv",
            "2",
            *kb_args,
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "compared with the recommendation:" in evaluated.output
    assert "best on credit-g (distance 0.00)" in evaluated.output
    listed = runner.invoke(main, ["kb", "runs", "--json", *kb_args])
    runs = json.loads(listed.output)
    assert len(runs) == 1 and runs[0]["n_evaluations"] == 2 and runs[0]["family"] == "naive_bayes"
    with_local = json.loads(
        runner.invoke(
            main,
            ["recommend", str(EXAMPLE), "--target", "class", "--top", "300", "--json", *kb_args],
        ).output
    )
    measured = [r for r in with_local["recommendations"] if r["observed_score"] is not None]
    assert [r["pipeline_id"] for r in measured] == [runs[0]["pipeline_id"]]
    without = json.loads(
        runner.invoke(
            main,
            [
                "recommend",
                str(EXAMPLE),
                "--target",
                "class",
                "--top",
                "300",
                "--json",
                "--no-local",
                *kb_args,
            ],
        ).output
    )
    assert without["used_local_runs"] is False
    assert all(r["observed_score"] is None for r in without["recommendations"])
    usage = runner.invoke(main, ["kb", "forget-runs", *kb_args])
    assert usage.exit_code == 2 and "--dataset, --search or --all" in usage.output
    missing = runner.invoke(main, ["kb", "forget-runs", "--dataset", "nope", *kb_args])
    # a runtime error (its exit code is the CLI's convention), not a traceback
    assert missing.exit_code != 0 and "no local runs on a dataset 'nope'" in missing.output
    assert "Traceback" not in missing.output
    forgot = runner.invoke(main, ["kb", "forget-runs", "--dataset", "credit-g", *kb_args])
    assert forgot.exit_code == 0 and "removed 2 local evaluations" in forgot.output
    assert runner.invoke(main, ["kb", "runs", *kb_args]).output.strip() == "no local runs"


def test_evaluate_compares_with_the_prediction(writable_kb_path: Path) -> None:
    dataset = load_dataset(EXAMPLE, "class")
    with KnowledgeBase.open(writable_kb_path) as kb:
        ranked = rank_pipelines(
            kb.without(["openml:31"]), resolve_metric("balanced_accuracy"), "binary", Y
        )
        spec = ranked.recommendations[0].spec
        result = evaluate_pipeline(spec, dataset, cv=2, kb=kb)
        comparison = compare_evaluation(result, dataset, kb)
    assert comparison.predicted is not None and comparison.rank is not None
    assert comparison.lower is not None and comparison.upper is not None
    assert comparison.lower <= comparison.predicted <= comparison.upper
    assert comparison.verdict.endswith("predicted 10-90 % interval")
    assert comparison.nearest_best and comparison.nearest_best[0].dataset_name == "credit-g"
    assert pd.notna(comparison.measured_on_ranking_metric)


def test_a_search_is_forgotten_by_its_id_and_only_it(writable_kb_path: Path) -> None:
    runner = CliRunner()
    kb_args = ["--kb", str(writable_kb_path)]
    evaluated = runner.invoke(
        main,
        [
            "evaluate",
            str(EXAMPLE),
            "--target",
            "class",
            "--pipeline",
            "GaussianNB",
            "--cv",
            "2",
            *kb_args,
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    searched = runner.invoke(
        main,
        ["search", str(EXAMPLE), "--target", "class", "--budget", "15s", "--json", *kb_args],
    )
    assert searched.exit_code == 0, searched.output
    search_id = json.loads(searched.output)["search_id"]
    assert search_id
    runs = json.loads(runner.invoke(main, ["kb", "runs", "--json", *kb_args]).output)
    of_search = [r for r in runs if r["search"] == search_id]
    assert len(of_search) >= 2
    listed = json.loads(
        runner.invoke(main, ["kb", "runs", "--search", search_id, "--json", *kb_args]).output
    )
    assert {r["pipeline_id"] for r in listed} == {r["pipeline_id"] for r in of_search}
    forgot = runner.invoke(main, ["kb", "forget-runs", "--search", search_id, *kb_args])
    assert forgot.exit_code == 0, forgot.output
    # what evaluate recorded stays, even where the search ran the same pipeline
    left = json.loads(runner.invoke(main, ["kb", "runs", "--json", *kb_args]).output)
    assert [(r["family"], r["n_evaluations"], r["search"]) for r in left] == [
        ("naive_bayes", 2, "")
    ]


def test_pipelines_of_a_library_not_installed_are_left_out_and_named(
    default_sources_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mile_meta.recommend import recommend

    dataset = load_dataset(EXAMPLE, "class")
    with KnowledgeBase.open(default_sources_kb_path) as kb:
        everything = recommend(dataset, kb=kb, top=2000, use_local=False)
        assert any(r.family == "catboost" for r in everything.recommendations)
        monkeypatch.setitem(sys.modules, "catboost", None)  # as if it were not installed
        without = recommend(dataset, kb=kb, top=2000, use_local=False)
    assert not any(r.family == "catboost" for r in without.recommendations)
    assert "catboost pipelines are left out" in without.evidence_note
    assert "mile-meta[catboost]" in without.evidence_note
    assert "left out" not in everything.evidence_note
    kept = [r.pipeline_id for r in everything.recommendations if r.family != "catboost"]
    assert [r.pipeline_id for r in without.recommendations] == kept
