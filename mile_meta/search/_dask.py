"""Candidates evaluated on a Dask cluster: ``--scheduler tcp://host:8786`` or ``scheduler=client``.

The data go to the workers once (``scatter``, broadcast); each task then names them. On a
worker, a task runs in a killable child process (a
:class:`~mile_meta.search._worker.CandidateRunner` per worker thread, reused across tasks),
so the deadline and memory limit hold there as they do locally. The knowledge base stays on
the client: the prior is read by a local worker process, the workers return their results and
the search records them. A worker that dies loses only what it was running: Dask runs those
tasks again elsewhere (or they reply ``crashed`` once their time is up).
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from mile_meta.search._errors import SearchError
from mile_meta.search._executor import Executor
from mile_meta.search._worker import CandidateRunner, PriorTask, WorkerReply, WorkerSettings

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.search._worker import EvaluateTask, RefitTask

__all__ = ["DaskExecutor"]

# Beyond a task's own deadline (kept on the worker), what the client waits for its reply:
# scheduling, transfer, and a worker killing an overrunning child.
_GRACE_SECONDS = 5.0
# The lag kept off a task's deadline is the median overhead of this many recent tasks.
_LAG_WINDOW = 64
# How often the workers (and their threads) are re-read for placing tasks.
_WORKERS_REREAD_SECONDS = 5.0

# On each worker: idle runners per scattered dataset (one per thread using it at a time).
_RUNNERS: dict[tuple[int, WorkerSettings], list[CandidateRunner]] = {}
_RUNNERS_LOCK = threading.Lock()


def _prepare_worker() -> None:
    """Import what candidates need in the worker process, once: the killable processes it
    forks then start with it loaded (else each first task pays seconds of imports)."""
    import multiprocessing

    from mile_meta.search._worker import preload_modules

    # a worker under a nanny (the default `dask worker`) is a daemonic process, which
    # multiprocessing forbids children; the candidates' processes are daemonic themselves
    # and end with the worker (their pipe closes), so allow them
    process = multiprocessing.current_process()
    if process.daemon:
        process._config["daemon"] = False  # type: ignore[attr-defined]
    preload_modules()


def _on_worker(
    dataset: Dataset, task: Any, timeout_seconds: float, settings: WorkerSettings
) -> tuple[WorkerReply, str]:
    """Run ``task`` in a killable process on this Dask worker; reply and say where it ran."""
    try:
        from distributed import get_worker

        where = get_worker().address
    except (ImportError, ValueError):
        where = "local"
    _prepare_worker()  # once per process (cached), also when nobody warmed the worker up
    key = (id(dataset), settings)
    with _RUNNERS_LOCK:
        idle = _RUNNERS.setdefault(key, [])
        runner = idle.pop() if idle else CandidateRunner(dataset, settings)
    try:
        return runner.run(task, timeout_seconds=timeout_seconds), where
    finally:
        with _RUNNERS_LOCK:
            _RUNNERS[key].append(runner)


class DaskExecutor(Executor):
    """Runs tasks on the Dask cluster at ``scheduler`` (an address or a ``Client``).

    ``jobs`` tasks at once (``1`` or ``-1``: one per thread of the cluster). Thread-safe:
    the search keeps ``slots`` candidates in flight. ``evaluated_by`` counts the tasks each
    worker ran.
    """

    def __init__(
        self,
        dataset: Dataset,
        settings: WorkerSettings | None = None,
        *,
        scheduler: Any,
        jobs: int = 1,
    ) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise SearchError(
                "--scheduler needs Dask: pip install 'mile-meta[dask]' (dask[distributed])"
            ) from None
        self.dataset = dataset
        self.settings = settings or WorkerSettings()
        self._own_client = not isinstance(scheduler, Client)
        if self._own_client:
            try:
                self.client = Client(str(scheduler), timeout="10s", set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise SearchError(
                    f"cannot reach the Dask scheduler at {scheduler} ({error}); start it with "
                    "`dask scheduler` or pass the address it prints"
                ) from None
        else:
            self.client = scheduler
        threads = sum(self.client.nthreads().values())
        if threads < 1:
            if self._own_client:
                self.client.close(timeout=5)
            raise SearchError(
                f"the Dask cluster at {scheduler} has no workers; start some with "
                "`dask worker ADDRESS`"
            )
        self.slots = threads if jobs in (1, -1) else jobs
        started = time.perf_counter()
        # once, to every worker: tasks then carry only the pipeline
        self._data = self.client.scatter(dataset, broadcast=True, hash=False)
        self.client.run(_prepare_worker)
        self.scatter_seconds = time.perf_counter() - started
        self._local = CandidateRunner(dataset, self.settings)  # the prior: the KB stays here
        self._local_lock = threading.Lock()
        self._futures: set[Any] = set()
        self._lock = threading.Lock()
        self.evaluated_by: Counter[str] = Counter()
        # client-side seconds of each task beyond the worker's own (scheduling, transfer)
        self.overheads: list[float] = []
        self._recent_overheads: deque[float] = deque(maxlen=_LAG_WINDOW)
        # tasks sent to each worker and not yet answered, and its threads (re-read now and
        # then: workers come and go)
        self._in_flight: Counter[str] = Counter()
        self._threads_by_worker: dict[str, int] = dict(self.client.nthreads())
        self._workers_read = time.monotonic()

    def run(
        self, task: EvaluateTask | RefitTask | PriorTask, *, timeout_seconds: float
    ) -> WorkerReply:
        if isinstance(task, PriorTask):
            with self._local_lock:
                return self._local.run(task, timeout_seconds=timeout_seconds)
        started = time.perf_counter()
        # the worker stops the task early enough for its reply to arrive within the deadline
        with self._lock:
            lag = statistics.median(self._recent_overheads) if self._recent_overheads else 0.5
            worker = self._least_busy_worker()
            self._in_flight[worker] += 1
        worker_deadline = max(0.0, timeout_seconds - min(lag, 0.2 * timeout_seconds))
        try:
            # a hint, not a pin: Dask places a burst of tasks submitted together on one
            # worker (measured: 4 probes on one of two idle workers); a lost worker's tasks go
            # elsewhere (allow_other_workers)
            future = self.client.submit(
                _on_worker,
                self._data,
                task,
                worker_deadline,
                self.settings,
                pure=False,
                key=f"mile-meta-{type(task).__name__}-{id(task):x}-{time.monotonic_ns()}",
                workers=[worker] if worker else None,
                allow_other_workers=True,
            )
            with self._lock:
                self._futures.add(future)
            return self._reply(future, task, started, timeout_seconds)
        finally:
            with self._lock:
                self._in_flight[worker] -= 1

    def _least_busy_worker(self) -> str:
        """The worker with the fewest tasks in flight per thread (call with the lock held)."""
        if time.monotonic() - self._workers_read > _WORKERS_REREAD_SECONDS:
            # the scheduler unreachable: the tasks' replies will say so
            with contextlib.suppress(OSError, TimeoutError):
                self._threads_by_worker = dict(self.client.nthreads()) or self._threads_by_worker
            self._workers_read = time.monotonic()
        if not self._threads_by_worker:
            return ""
        return min(
            self._threads_by_worker,
            key=lambda worker: self._in_flight[worker] / max(self._threads_by_worker[worker], 1),
        )

    def _reply(self, future: Any, task: Any, started: float, timeout_seconds: float) -> WorkerReply:
        from distributed import TimeoutError as DaskTimeout

        try:
            reply, where = future.result(timeout=max(0.0, timeout_seconds) + _GRACE_SECONDS)
        except (DaskTimeout, TimeoutError):
            future.cancel()
            return WorkerReply(
                "timeout", None, "stopped at its time limit", time.perf_counter() - started
            )
        except Exception as error:  # a worker lost for good (KilledWorker), a cancelled task
            return WorkerReply(
                "crashed",
                None,
                f"the Dask task failed ({type(error).__name__}: {str(error)[:120]})",
                time.perf_counter() - started,
            )
        finally:
            with self._lock:
                self._futures.discard(future)
        elapsed = time.perf_counter() - started
        with self._lock:
            self.evaluated_by[where] += 1
            overhead = max(0.0, elapsed - reply.seconds)
            self.overheads.append(overhead)
            self._recent_overheads.append(overhead)
        # the time the search sees is the client's: scheduling and transfer count
        return WorkerReply(reply.status, reply.value, reply.message, elapsed)

    def kill(self) -> None:
        """Cancel what is in flight (the workers stop those tasks' processes when they end)."""
        with self._lock:
            futures = list(self._futures)
        if futures:
            self.client.cancel(futures, force=True)
        self._local.kill()

    def close(self) -> None:
        self._local.close()
        if self._own_client:
            self.client.close(timeout=5)
