"""Where candidates are evaluated: a small executor interface the search talks to.

The search sends tasks (cross-validate a pipeline, refit one, read the prior) and waits for one
reply each, under a deadline. :class:`~mile_meta.search._worker.CandidateRunner` runs them in a
child process it can kill; a parallel or Dask executor implements the same two methods.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.search._worker import (
        EvaluateTask,
        PriorTask,
        RefitTask,
        WorkerReply,
        WorkerSettings,
    )

__all__ = ["Executor", "open_executor"]


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

    def run_all(
        self, tasks: Sequence[EvaluateTask | RefitTask], *, timeout_seconds: float
    ) -> list[WorkerReply]:
        """Run ``tasks``, ``slots`` at a time (one at a time when the executor has no
        ``slots``), each under its own ``timeout_seconds``; the replies in the tasks' order."""
        slots = max(1, int(getattr(self, "slots", 1)))
        if slots == 1 or len(tasks) <= 1:
            return [self.run(task, timeout_seconds=timeout_seconds) for task in tasks]
        with ThreadPoolExecutor(slots, thread_name_prefix="mile-meta-task") as pool:
            return list(
                pool.map(lambda task: self.run(task, timeout_seconds=timeout_seconds), tasks)
            )

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_executor(
    dataset: Dataset,
    settings: WorkerSettings | None = None,
    *,
    jobs: int = 1,
    scheduler: Any = None,
) -> Executor:
    """Where tasks on ``dataset`` run: on the Dask cluster at ``scheduler`` (an address or a
    ``distributed.Client``; ``jobs`` caps the tasks at once), else on ``jobs`` local worker
    processes (-1: every core), else in one worker process. What the search, the probes of
    ``recommend`` and the benchmark scripts share."""
    if scheduler is not None:
        from mile_meta.search._dask import DaskExecutor

        return DaskExecutor(dataset, settings, scheduler=scheduler, jobs=jobs)
    if jobs != 1:
        from mile_meta.search._parallel import ParallelExecutor

        return ParallelExecutor(dataset, settings, jobs=jobs)
    from mile_meta.search._worker import CandidateRunner

    return CandidateRunner(dataset, settings)
