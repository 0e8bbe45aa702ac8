"""Where candidates are evaluated: a small executor interface the search talks to.

The search sends tasks (cross-validate a pipeline, refit one, read the prior) and waits for one
reply each, under a deadline. :class:`~mile_meta.search._worker.CandidateRunner` runs them in a
child process it can kill; a parallel or Dask executor implements the same two methods.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.search._worker import EvaluateTask, PriorTask, RefitTask, WorkerReply

__all__ = ["Executor"]


class Executor(abc.ABC):
    """Runs one task at a time on ``dataset`` and replies within a deadline.

    Contract: :meth:`run` returns a ``WorkerReply`` whose status is ``"ok"`` (with the task's
    value), ``"failed"``, ``"memory"``, ``"crashed"`` or ``"timeout"`` (the task was stopped at
    ``timeout_seconds``); it never raises for a failing task, and a ``KeyboardInterrupt``
    during a task stops that task before propagating. :meth:`close` releases the workers.
    """

    dataset: Dataset

    @abc.abstractmethod
    def run(
        self, task: EvaluateTask | RefitTask | PriorTask, *, timeout_seconds: float
    ) -> WorkerReply:
        """Run ``task``; past ``timeout_seconds`` stop it and reply ``timeout``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
