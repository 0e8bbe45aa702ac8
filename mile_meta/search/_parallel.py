"""Several candidates at once on one machine: a pool of killable worker processes.

:class:`ParallelExecutor` holds ``jobs`` :class:`~mile_meta.search._worker.CandidateRunner`
workers, each a process of its own with its own deadline and memory limit (the one-worker
safety model, ``jobs`` times); :meth:`ParallelExecutor.run` is thread-safe and runs a task on
whichever worker is idle. :class:`InFlight` lets the search loop keep that many candidates in
flight: each candidate's stages run in a thread of their own, and the search's bookkeeping
stays single-threaded because those threads hold one lock except while they wait for a worker's
reply (see :class:`_Unlocking`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mile_meta.search._executor import Executor
from mile_meta.search._worker import CandidateRunner, WorkerSettings

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.search._worker import EvaluateTask, PriorTask, RefitTask, WorkerReply

__all__ = ["InFlight", "ParallelExecutor", "resolve_jobs"]


def resolve_jobs(jobs: int) -> int:
    """``jobs`` as a number of workers: ``-1`` is every core of this machine."""
    if jobs == -1:
        return max(1, os.cpu_count() or 1)
    if jobs < 1:
        raise ValueError(f"jobs must be a positive number of workers or -1 (all cores), got {jobs}")
    return jobs


class ParallelExecutor(Executor):
    """``jobs`` worker processes; :meth:`run` may be called from ``jobs`` threads at once."""

    def __init__(
        self, dataset: Dataset, settings: WorkerSettings | None = None, *, jobs: int = 2
    ) -> None:
        self.dataset = dataset
        self.slots = resolve_jobs(jobs)
        self._runners = [CandidateRunner(dataset, settings) for _ in range(self.slots)]
        self._idle: queue.Queue[CandidateRunner] = queue.Queue()
        for runner in self._runners:
            self._idle.put(runner)

    @property
    def started_workers(self) -> int:
        return sum(runner.started_workers for runner in self._runners)

    def run(
        self, task: EvaluateTask | RefitTask | PriorTask, *, timeout_seconds: float
    ) -> WorkerReply:
        runner = self._idle.get()
        try:
            return runner.run(task, timeout_seconds=timeout_seconds)
        finally:
            self._idle.put(runner)

    def kill(self) -> None:
        """Stop every worker now (their tasks reply ``crashed``); the next tasks start new ones."""
        for runner in self._runners:
            process = runner._process
            if process is not None and process.is_alive():
                process.kill()

    def close(self) -> None:
        for runner in self._runners:
            runner.close()


class _Stopped(Exception):
    """The search stopped (Ctrl-C, SIGTERM) while this candidate was in flight: drop it."""


class _Unlocking(Executor):
    """The executor as a candidate's thread sees it: the search's lock is released while the
    task runs, so other candidates' replies can be recorded meanwhile."""

    def __init__(self, inner: Executor, flight: InFlight) -> None:
        self.inner = inner
        self.dataset = inner.dataset
        self.flight = flight

    def run(
        self, task: EvaluateTask | RefitTask | PriorTask, *, timeout_seconds: float
    ) -> WorkerReply:
        self.flight.lock.release()
        try:
            reply = self.inner.run(task, timeout_seconds=timeout_seconds)
        finally:
            self.flight.lock.acquire()
        if self.flight.stopping:
            raise _Stopped
        return reply

    def close(self) -> None:  # the inner executor belongs to the search
        pass


class InFlight:
    """Up to ``executor.slots`` candidates evaluated at once, each in a thread of its own.

    The search loop holds :attr:`lock` while it runs (enter the context); :meth:`submit`
    starts ``work(executor)`` in a thread that holds the same lock except while a task runs,
    then calls ``done(result)`` under the lock. :meth:`wait_for_slot` releases the lock until
    a thread finishes; leaving the context waits for every thread (or, after an interrupt,
    kills the workers and drops what was in flight).
    """

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.slots: int = getattr(executor, "slots", 1)
        self.lock = threading.Lock()
        self._changed = threading.Condition(self.lock)
        self._threads: dict[str, threading.Thread] = {}
        self.stopping = False
        self.view = _Unlocking(executor, self)
        self.errors: list[BaseException] = []

    def __enter__(self) -> InFlight:
        self.lock.acquire()
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if kind is not None:  # interrupted: stop at once, the in-flight candidates are lost
            self.stopping = True
            kill = getattr(self.executor, "kill", None)
            if kill is not None:
                kill()
        try:
            while self._threads:
                self._changed.wait()
        finally:
            self.lock.release()
            if self.errors and kind is None:
                raise self.errors[0]

    @property
    def running(self) -> set[str]:
        return set(self._threads)

    def full(self) -> bool:
        return len(self._threads) >= self.slots

    def wait_for_slot(self) -> None:
        """Wait (the lock released) until fewer than ``slots`` candidates are in flight."""
        while self.full() and not self.errors:
            self._changed.wait()
        if self.errors:
            raise self.errors[0]

    def submit(
        self, key: str, work: Callable[[Executor], Any], done: Callable[[Any], None]
    ) -> None:
        def body() -> None:
            with self.lock:
                try:
                    result = work(self.view)
                    if not self.stopping:
                        done(result)
                except _Stopped:
                    pass
                except BaseException as error:  # a bug: the loop re-raises it in its thread
                    self.errors.append(error)
                finally:
                    del self._threads[key]
                    self._changed.notify_all()

        thread = threading.Thread(target=body, name=f"mile-meta-candidate-{key[:8]}", daemon=True)
        self._threads[key] = thread
        thread.start()
