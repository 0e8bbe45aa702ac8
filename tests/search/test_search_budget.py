"""A search ends with a model or a non-zero exit; the budget is the user's wall clock; SIGTERM
is Ctrl-C; absurd budgets are refused; one frozen settings record carries it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _faulty import register
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.data import Dataset
from mile_meta.pipelines import make_spec
from mile_meta.search import (
    Candidate,
    FullFidelity,
    InitialDesign,
    NoPruning,
    OptunaOptimizer,
    Search,
    SearchError,
    SearchSettings,
)
from mile_meta.search._budget import FamilyShare
from mile_meta.search._clock import seconds_since_process_start

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


class _Fixed(InitialDesign):
    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates

    def _select(self, space, context):
        return self.candidates


def test_every_candidate_failing_ends_the_search_with_the_error(
    monkeypatch, credit_g: Dataset
) -> None:
    register(monkeypatch)
    failing = [
        Candidate(make_spec("RaisingClassifier", {"seconds": float(i)}), "test", "pinned")
        for i in range(20)
    ]
    search = Search(
        initial_design=_Fixed(failing),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer("random"),
        cv=3,
        use_prior=False,
    )
    started = time.perf_counter()
    result = search.run(credit_g, budget_seconds=60, record=False)
    assert time.perf_counter() - started < 30  # it stopped, it did not retry for a minute
    assert result.estimator is None and result.stopped_because == "every candidate failed"
    assert len(result.evaluations) == 8  # identical failures are not retried for ever
    assert "always fails" in (result.most_common_error or "")
    assert sum("always fails" in note for note in result.notes) == 1  # said once


def test_absurd_and_bad_budgets_are_refused() -> None:
    with pytest.raises(SearchError, match="over the limit"):
        SearchSettings.create(budget="99999999h")
    for bad in (0.5, float("nan"), float("inf")):
        with pytest.raises(SearchError, match="at least 1 s"):
            SearchSettings(budget_seconds=bad)
    with pytest.raises(SearchError, match="max_evaluations"):
        SearchSettings(budget_seconds=10, max_evaluations=0)
    answer = CliRunner().invoke(
        main, ["search", str(EXAMPLE), "--target", "class", "--budget", "99999999h"]
    )
    assert answer.exit_code != 0
    assert "over the limit" in answer.output and "Traceback" not in answer.output


def test_settings_are_one_frozen_record() -> None:
    settings = SearchSettings.create(
        budget="2m", include=["tree"], max_model_bytes="5MB", interpretable=True, seed=3
    )
    assert settings.budget_seconds == 120 and settings.seed == 3
    assert settings.constraints.max_model_bytes == 5_000_000
    assert settings.constraints.include == ("tree",)
    assert settings.ensemble is False  # interpretable: one readable pipeline
    with pytest.raises(AttributeError):
        settings.seed = 4  # type: ignore[misc]


def test_a_stale_family_past_its_share_is_capped() -> None:
    share = FamilyShare(higher_is_better=True)
    share.record("naive_bayes", [(0, 0.70)])
    for _ in range(7):  # seven variants, none better than the first
        share.record("naive_bayes", [(0, 0.69)])
    share.record("lightgbm", [(0, 0.75)])
    assert share.counts["naive_bayes"] == 8 and share.stale["naive_bayes"] == 7
    assert share.capped("naive_bayes", families=2)
    assert not share.capped("naive_bayes", families=1)  # the only family left keeps going
    assert not share.capped("lightgbm", families=2)
    share.record("naive_bayes", [(0, 0.80)])  # an improvement lifts the cap
    assert not share.capped("naive_bayes", families=2)


def test_process_clock_counts_the_start_up() -> None:
    assert 0 < seconds_since_process_start() < time.time()  # this process began earlier


def _command_env(kb_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MILE_META_KB": str(kb_path),
        "COLUMNS": "120",
    }


def _mile_meta() -> str:
    return str(Path(sys.executable).with_name("mile-meta"))


@pytest.mark.slow
def test_budget_is_the_wall_clock_of_the_command(corpus_kb_path: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    answer = subprocess.run(
        [
            _mile_meta(),
            "search",
            str(EXAMPLE),
            "--target",
            "class",
            "--budget",
            "10s",
            "--no-record",
            "--out",
            str(tmp_path / "out"),
        ],
        env=_command_env(corpus_kb_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - started
    # 10 s + 5 %, start-up and the report included (a busy machine adds its own delays)
    assert wall <= 10.5 + 1.0, f"{wall:.1f} s"
    # a model, or (on a machine so busy that nothing completed) a one-line error and exit 1
    if answer.returncode == 0:
        assert (tmp_path / "out" / "model.joblib").exists()
    else:
        assert answer.returncode == 1 and "Error: no model" in answer.stderr
        assert "Traceback" not in answer.stderr


@pytest.mark.slow
def test_sigterm_keeps_the_best_so_far(corpus_kb_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            _mile_meta(),
            "search",
            str(EXAMPLE),
            "--target",
            "class",
            "--budget",
            "120s",
            "--no-record",
            "--no-prior",
            "--out",
            str(out),
            "--json",
        ],
        env=_command_env(corpus_kb_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not out.exists() and time.monotonic() < deadline:  # --out is made once data is read
        time.sleep(0.2)
    time.sleep(8)  # time for a few candidates to complete
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, 1), stderr  # ended as a Ctrl-C does, not killed
    summary = json.loads(stdout)
    assert summary["interrupted"] and summary["stopped_because"] == "interrupted"
    if process.returncode == 0:
        assert (out / "model.joblib").exists()
    else:  # nothing had completed yet (a very busy machine): said in one line
        assert "Error: no model" in stderr
