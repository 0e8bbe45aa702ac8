"""Real searches on small real data: failures are recorded and skipped, the budget holds,
Ctrl-C keeps the best so far, the same seed proposes the same candidates, runs are recorded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import joblib
import pytest
from _faulty import register
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.data import Dataset
from mile_meta.kb import KnowledgeBase
from mile_meta.pipelines import make_spec
from mile_meta.search import (
    Candidate,
    Constraints,
    FullFidelity,
    InitialDesign,
    NoPruning,
    OptunaOptimizer,
    Search,
    autopilot,
    cold_search,
)

BUDGET = 6.0


@pytest.fixture(scope="module")
def module_kb(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the corpus knowledge base these tests may write to."""
    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path_factory.mktemp("search-kb") / "kb.sqlite"
    shutil.copy(corpus_kb_path, target)
    return target


@pytest.fixture(scope="module")
def autopilot_run(module_kb: Path, breast_cancer: Dataset):
    started = time.perf_counter()
    result = autopilot(breast_cancer, budget=BUDGET, kb=module_kb, seed=7, record=True)
    return result, time.perf_counter() - started


def test_budget_holds_within_five_percent(autopilot_run) -> None:
    result, wall = autopilot_run
    assert result.elapsed_seconds <= 1.05 * BUDGET, result.notes
    # recording the runs in the knowledge base comes after the budget
    assert wall <= 1.05 * BUDGET + 5.0, f"{wall:.1f} s in all"
    assert result.estimator is not None and result.best is not None
    assert result.best.candidate.reason


def test_runs_are_recorded_as_local_runs(autopilot_run, module_kb: Path) -> None:
    result, _ = autopilot_run
    with KnowledgeBase.open(module_kb) as kb:
        count = kb.db.execute(
            "SELECT count(DISTINCT pipeline_id) FROM evaluations WHERE source = 'local' AND dataset_id = ?",
            [result.dataset_id],
        ).fetchone()[0]
    assert count == len({e.candidate.pipeline_id for e in result.evaluations if e.status == "ok"})


def test_leaderboard_model_and_report(
    autopilot_run, breast_cancer: Dataset, tmp_path: Path
) -> None:
    result, _ = autopilot_run
    board = result.leaderboard
    assert list(board["rank"]) == list(range(1, len(board) + 1))
    assert {"score", "std", "fit_seconds", "fidelity", "reason", "status"} <= set(board.columns)
    if result.ensemble is not None and len(result.ensemble.members) > 1:
        # the model is the ensemble; `best` is its heaviest member, which need not be the
        # best-scored single pipeline the leaderboard puts first
        heaviest = max(result.ensemble.members, key=lambda member: member[2])
        assert result.best.number == heaviest[0]
        assert heaviest[0] in set(board["number"])
    else:
        assert board.iloc[0]["pipeline_id"] == result.best.candidate.pipeline_id
    written = result.save(tmp_path / "out")
    model = joblib.load(written["model"])
    assert len(model.predict(breast_cancer.frame.head(5))) == 5
    spec = json.loads(written["spec"].read_text())
    assert spec["pipeline_id"] == result.best.candidate.pipeline_id
    html = written["report"].read_text()
    assert html.count("data:image/png;base64,") >= 2
    assert "What was pruned and why" in html and "Best score over time" in html


def test_same_seed_same_candidates(module_kb: Path, breast_cancer: Dataset) -> None:
    # an evaluation limit instead of a tight budget: the comparison must not depend on load
    # (the optimizer's own proposals are compared in test_search_components)
    runs = [
        autopilot(breast_cancer, budget="2m", kb=module_kb, seed=5, record=False, max_evaluations=5)
        for _ in range(2)
    ]
    first, second = ([e.candidate.pipeline_id for e in r.evaluations] for r in runs)
    assert len(first) == 5 and first == second
    assert [c.pipeline_id for c in runs[0].initial_design] == [
        c.pipeline_id for c in runs[1].initial_design
    ]
    assert runs[0].stopped_because == "evaluation limit"


class _Fixed(InitialDesign):
    """An initial design of given candidates (the extension point, as a user writes one)."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates

    def _select(self, space, context):
        return self.candidates


def test_failing_candidates_are_recorded_and_skipped(monkeypatch, credit_g: Dataset) -> None:
    register(monkeypatch)
    faulty = [
        ("RaisingClassifier", {}),
        ("MemoryHogClassifier", {}),
        ("CrashingClassifier", {}),
        ("SlowClassifier", {"seconds": 60.0}),
        ("DecisionTreeClassifier", {"max_depth": 4}),
    ]
    candidates = [
        Candidate(make_spec(name, params), f"test: {name}", "pinned") for name, params in faulty
    ]
    search = Search(
        initial_design=_Fixed(candidates),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer("tpe"),
        constraints=Constraints(max_fit_seconds=1.0, max_memory_bytes=1 << 30),
        cv=3,
        use_prior=False,
    )
    started = time.perf_counter()
    result = search.run(credit_g, budget_seconds=12, record=False)
    assert time.perf_counter() - started <= 12 * 1.05 + 0.5
    status = {e.candidate.estimator: e for e in result.evaluations}
    assert status["RaisingClassifier"].status == "failed"
    assert "always fails" in status["RaisingClassifier"].error
    assert status["MemoryHogClassifier"].status == "memory"
    assert status["CrashingClassifier"].status == "crashed"
    assert "SIGKILL" in status["CrashingClassifier"].error
    assert status["SlowClassifier"].status == "timeout"
    assert status["DecisionTreeClassifier"].status == "ok"
    assert result.best is not None and result.estimator is not None
    assert result.best.candidate.estimator not in {name for name, _ in faulty[:4]}
    board = result.leaderboard
    assert set(board[board["status"] != "ok"]["error"].notna()) == {True}


def test_ctrl_c_returns_the_best_so_far(module_kb: Path, breast_cancer: Dataset) -> None:
    sent = threading.Event()

    def interrupt_soon(update) -> None:
        if update.evaluations >= 3 and not sent.is_set():
            sent.set()  # a Ctrl-C while the next candidate is being fitted
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()

    result = autopilot(
        breast_cancer, budget="60s", kb=module_kb, seed=3, use_prior=False, progress=interrupt_soon
    )
    assert result.interrupted and result.stopped_because == "interrupted"
    assert result.elapsed_seconds < 60  # it stopped on the interrupt, not at the budget
    assert result.estimator is not None and len(result.evaluations) >= 3
    with KnowledgeBase.open(module_kb) as kb:
        recorded = kb.db.execute(
            "SELECT count(*) FROM evaluations WHERE source = 'local' AND seed = 3 AND dataset_id = ?",
            [result.dataset_id],
        ).fetchone()[0]
    assert recorded > 0


def test_regression_without_prior_results(module_kb: Path, diabetes: Dataset) -> None:
    result = autopilot(diabetes, budget=5, kb=module_kb, record=False)
    assert result.metric == "root_mean_squared_error" and not result.higher_is_better
    assert any("no prior" in note or "standing in" in note for note in result.notes)
    assert result.estimator is not None
    assert result.estimator.predict(diabetes.frame.head(3)).shape == (3,)


def test_cold_search_is_the_same_engine(breast_cancer: Dataset) -> None:
    result = cold_search(breast_cancer, sampler="random", budget=8, seed=1)
    assert result.preset == "random search" and not result.cuts and not result.initial_design
    assert all(e.candidate.origin == "optimizer" for e in result.evaluations)
    assert result.estimator is not None


def test_cli_search(module_kb: Path, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"
    runner = CliRunner()
    out = tmp_path / "out"
    answer = runner.invoke(
        main,
        [
            "search",
            str(example),
            "--target",
            "class",
            "--budget",
            "10s",
            "--kb",
            str(module_kb),
            "--out",
            str(out),
            "--json",
            "--seed",
            "1",
            "--no-record",
        ],
    )
    assert answer.exit_code == 0, answer.output
    payload = json.loads(answer.output)
    # the search's share of the budget: 10 s less what the command keeps for its files
    assert payload["best"]["score"] is not None, payload["notes"]
    assert payload["best"]["score"] > 0.5 and payload["elapsed_seconds"] <= 10 * 1.05
    assert (out / "model.joblib").exists() and (out / "report.html").exists()
    refused = runner.invoke(
        main,
        [
            "search",
            str(example),
            "--target",
            "class",
            "--include",
            "knn",
            "--interpretable",
            "--kb",
            str(module_kb),
        ],
    )
    assert refused.exit_code == 2
    assert "Error: no estimator satisfies include=knn and interpretable only" in refused.output


def test_cruise_control_keeps_its_constraints(breast_cancer: Dataset) -> None:
    from mile_meta.pipelines import COMPONENTS
    from mile_meta.search import cruise_control

    result = cruise_control(
        breast_cancer,
        budget=6,
        interpretable=True,
        max_model_bytes="200kB",
        pinned={"LogisticRegression.max_iter": 1000},
        use_prior=False,
        record=False,
    )
    assert result.preset == "cruise-control" and result.estimator is not None
    assert all(COMPONENTS[e.candidate.estimator].interpretable for e in result.evaluations)
    assert result.model_bytes is not None and result.model_bytes <= 200_000
    assert any(c.source == "constraint" and "interpretable" in c.reason for c in result.cuts)
    for evaluation in result.evaluations:
        if evaluation.candidate.estimator == "LogisticRegression":
            assert evaluation.candidate.spec.estimator.param_dict["max_iter"] == 1000
    tiny = cruise_control(
        breast_cancer,
        budget=4,
        include=["decision_tree"],
        max_model_bytes=10,
        use_prior=False,
        record=False,
    )
    assert tiny.estimator is None
    assert any("over the limit" in note for note in tiny.notes)


def test_saving_a_result_without_a_model_removes_the_previous_model(
    autopilot_run, tmp_path: Path
) -> None:
    import dataclasses

    result, _ = autopilot_run
    folder = tmp_path / "out"
    assert "model" in result.save(folder)
    written = dataclasses.replace(result, estimator=None).save(folder)
    assert "model" not in written
    assert not (folder / "model.joblib").exists() and not (folder / "spec.json").exists()
    # strict JSON: NaN and Infinity are not JSON
    json.loads((folder / "search.json").read_text(), parse_constant=_refuse)
    assert not list(folder.glob("*.partial"))


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} in search.json")


def test_cli_checks_out_and_cv_before_the_budget_is_spent(module_kb: Path, tmp_path: Path) -> None:
    from conftest import EXAMPLE

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    common = ["search", str(EXAMPLE), "--target", "class", "--budget", "5m", "--no-record"]
    started = time.perf_counter()
    result = CliRunner().invoke(
        main, [*common, "--out", str(blocker / "out"), "--kb", str(module_kb)]
    )
    assert result.exit_code == 2 and "cannot write to --out" in result.output
    assert time.perf_counter() - started < 60  # refused, not searched for five minutes
    result = CliRunner().invoke(main, [*common, "--cv", "1", "--kb", str(module_kb)])
    assert result.exit_code == 2 and "neither auto nor a number of folds" in result.output
