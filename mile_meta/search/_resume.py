"""Resumable searches: what a search evaluated, kept in its ``--out`` folder as it goes.

Two files: ``study.sqlite3``, the Optuna study (the optimizer's state: every trial, its
parameters and score; ``optuna-dashboard D/study.sqlite3`` shows it), and
``evaluations.pkl``, an append-only log of each candidate's outcome and of every candidate
evaluated on all rows with its out-of-fold predictions (what the final model and the ensemble
are built from). ``--resume`` reads both back: candidates already decided are never evaluated
again, the best so far and the ensemble's library carry over, and the search goes on with a
budget of its own (each session gets the whole ``--budget``). A ``kill -9`` loses only what was
in flight: a record cut short by the kill is ignored, and the study's trials left running are
marked failed.
:meth:`SearchJournal.replan` lets a search resume under changed constraints (the workbench's
re-plan): what the new constraints rule out is dropped first.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mile_meta.search._base import Outcome
    from mile_meta.search._budget import SearchState
    from mile_meta.search._records import Evaluation
    from mile_meta.search._space import Constraints

__all__ = ["SearchJournal"]

STUDY_FILE = "study.sqlite3"
LOG_FILE = "evaluations.pkl"
STUDY_NAME = "mile-meta"


class SearchJournal:
    """The resumable state of a search in ``folder`` (fresh unless ``resume``)."""

    def __init__(self, folder: str | Path, *, resume: bool = False) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / LOG_FILE
        self.study_path = self.folder / STUDY_FILE
        self.resume = resume
        if not resume:  # a new search in this folder starts from nothing
            for path in (self.log_path, self.study_path):
                path.unlink(missing_ok=True)
        self.restored = 0

    @property
    def storage_url(self) -> str:
        return f"sqlite:///{self.study_path}"

    def _append(self, record: tuple[Any, ...]) -> None:
        with open(self.log_path, "ab") as handle:
            pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())

    def outcome(self, pipeline_id: str, outcome: Outcome) -> None:
        """A candidate is decided: a resumed search will not evaluate it again."""
        self._append(("outcome", pipeline_id, outcome))

    def evaluation(self, evaluation: Evaluation, result: Any, predictions: Any) -> None:
        """A candidate evaluated on all rows: the final model may be built from it."""
        self._append(("evaluation", evaluation, result, predictions))

    def records(self) -> list[tuple[Any, ...]]:
        """What was logged, in order; a last record cut short (kill -9) is left out."""
        if not self.log_path.exists():
            return []
        found: list[tuple[Any, ...]] = []
        with open(self.log_path, "rb") as handle:
            while True:
                try:
                    found.append(pickle.load(handle))
                except EOFError:
                    break
                except (pickle.UnpicklingError, ValueError, AttributeError, IndexError):
                    break  # a partial record at the end: the candidate was in flight
        return found

    def restore(self, state: SearchState, outcomes: dict[str, Outcome], better: Any) -> int:
        """Put what an earlier session evaluated into ``state`` and ``outcomes``; how many."""
        if not self.resume:
            return 0
        restored = 0
        for record in self.records():
            if record[0] == "outcome":
                outcomes[record[1]] = record[2]
                continue
            _, evaluation, result, predictions = record
            number = len(state.evaluations) + 1
            evaluation = replace(
                evaluation, number=number, started_seconds=0.0, finished_seconds=0.0
            )
            state.evaluations.append(evaluation)
            state.results.append(result)
            store = state.store
            if (
                predictions is not None
                and store is not None
                and store.duplicate_of(predictions) is None
            ):
                store.add(number, result.mean, predictions)
            if state.best is None or better(evaluation.score, state.best.score):
                state.best = evaluation
                state.history.append((0.0, evaluation.score, number))
            restored += 1
        self.restored = restored
        if restored or outcomes:
            state.notes.append(
                f"resumed: {len(outcomes)} candidates decided and {restored} evaluated on all "
                "rows in earlier sessions carried over (this session has its own budget)"
            )
        return restored

    def replan(self, task_type: str, constraints: Constraints) -> int:
        """Keep what was evaluated here that ``constraints`` still admit, so a search resumed
        from this folder under changed constraints starts from it; how many evaluations were
        dropped.

        An evaluation is dropped when its estimator is ruled out, a pin changes its spec or
        its fit took longer than ``max_fit_seconds``; its candidate's decision goes with it
        (it is evaluated again if proposed). The optimizer's study starts afresh, since its
        space changed (Optuna refuses an ``estimator`` choice whose options changed); the
        candidates already decided are told to it, unevaluated, when it proposes them again.
        """
        from mile_meta.search._base import admits
        from mile_meta.search._space import constrained_space

        if not self.resume:
            raise ValueError("open the journal with resume=True to re-plan what it holds")
        space, _ = constrained_space(task_type, constraints)
        records = self.records()
        dropped: set[str] = set()
        for record in records:
            if record[0] != "evaluation":
                continue
            evaluation = record[1]
            candidate = evaluation.candidate
            too_slow = (
                constraints.max_fit_seconds is not None
                and evaluation.fit_seconds is not None
                and evaluation.fit_seconds > constraints.max_fit_seconds
            )
            if (
                not admits(space, candidate, constraints)
                or space.apply_pins(candidate.spec) != candidate.spec
                or too_slow
            ):
                dropped.add(candidate.pipeline_id)
        kept = [
            record
            for record in records
            if (record[1] if record[0] == "outcome" else record[1].candidate.pipeline_id)
            not in dropped
        ]
        partial = self.log_path.with_suffix(".replan")
        with open(partial, "wb") as handle:
            for record in kept:
                pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(self.log_path)
        self.study_path.unlink(missing_ok=True)
        return len(dropped)
