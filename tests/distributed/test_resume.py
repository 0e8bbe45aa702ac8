"""Resumable searches: the study and the evaluations kept in the folder, read back."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from sklearn.datasets import load_breast_cancer

from mile_meta.data import dataset_from_frame
from mile_meta.search import SearchJournal, SearchSettings, autopilot_search


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return dataset_from_frame(X.assign(target=y), "target", name="breast-cancer")


def _settings(folder: Path, resume: bool, evaluations: int) -> SearchSettings:
    return SearchSettings(
        budget_seconds=40,
        use_prior=False,
        record=False,
        max_evaluations=evaluations,
        resume_folder=str(folder),
        resume=resume,
    )


def test_a_resumed_search_evaluates_nothing_twice(dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = autopilot_search(use_prior=False).run(dataset, _settings(tmp_path, False, 3))
    assert first.best_score is not None
    decided = {r[1] for r in SearchJournal(tmp_path, resume=True).records() if r[0] == "outcome"}
    assert decided, "the first session logged its candidates"
    # a kill -9 in the middle of a write leaves a partial record: it is ignored
    with open(tmp_path / "evaluations.pkl", "ab") as handle:
        handle.write(b"\x80\x05\x95garbage")
    second = autopilot_search(use_prior=False).run(dataset, _settings(tmp_path, True, 8))
    assert any("resumed" in note for note in second.notes), second.notes
    carried = [e for e in second.evaluations if e.finished_seconds == 0.0]
    new = [e for e in second.evaluations if e.finished_seconds > 0.0]
    assert carried, "the first session's evaluations on all rows carried over"
    assert not {e.candidate.pipeline_id for e in new} & decided, "a candidate evaluated twice"
    # the best never gets worse: the first session's best is still a candidate
    assert second.best_score is not None and second.best_score >= first.best_score - 1e-9
    study = optuna.load_study(study_name="mile-meta", storage=f"sqlite:///{tmp_path}/study.sqlite3")
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.RUNNING not in states
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) >= 1


def test_without_resume_the_folder_starts_afresh(dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "evaluations.pkl").write_bytes(b"old")
    result = autopilot_search(use_prior=False).run(dataset, _settings(tmp_path, False, 1))
    assert not any("resumed" in note for note in result.notes)
    assert SearchJournal(tmp_path, resume=True).records()  # rewritten by this search


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--resume"], "--resume continues"), (["--jobs", "0"], "--jobs 0")],
)
def test_cli_flags_refuse_misuse(tmp_path: Path, flags: list[str], message: str) -> None:
    from click.testing import CliRunner

    from mile_meta.cli import main

    data = tmp_path / "data.csv"
    data.write_text("a,y\n1,0\n2,1\n")
    answer = CliRunner().invoke(main, ["search", str(data), "--target", "y", *flags])
    assert answer.exit_code == 2, answer.output
    assert message in answer.output
