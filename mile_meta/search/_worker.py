"""Candidates run in a child process the search can stop, so a fit that would overrun is killed.

One worker process is started per search (forked on Linux, so it starts in milliseconds and
shares the loaded data) and reused while it behaves: it keeps its cache of transformed folds
across candidates. A task that outlives its deadline gets the worker killed; a task that
raises (including ``MemoryError`` under the memory limit) is reported and the worker goes on;
a worker that dies (out of memory, a crashing library) is replaced for the next task.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mile_meta.data import Dataset
from mile_meta.pipelines import PipelineSpec
from mile_meta.search._executor import Executor

__all__ = [
    "CandidateRunner",
    "EvaluateTask",
    "PriorTask",
    "RefitTask",
    "WorkerReply",
    "WorkerSettings",
    "preload_modules",
]

ReplyStatus = Literal["ok", "failed", "memory", "timeout", "crashed"]


@dataclass(frozen=True)
class WorkerSettings:
    """``threads`` per fit (BLAS and OpenMP); ``max_memory_bytes`` caps the worker's memory
    (address space beyond what it holds at start); ``start_method`` defaults to ``fork`` on
    Linux (fast; the worker limits its thread pools, which keeps OpenMP safe after a fork) and
    ``spawn`` elsewhere; ``reuse`` False keeps the tasks out of the reuse store (probes with
    ``--no-cache``)."""

    threads: int = 1
    max_memory_bytes: int | None = None
    start_method: str | None = None
    reuse: bool = True


@dataclass(frozen=True)
class EvaluateTask:
    """Cross-validate ``spec`` on ``rows`` of the data (all rows if None); with
    ``keep_predictions`` the reply carries the out-of-fold predictions too."""

    spec: PipelineSpec
    metric: str
    cv: int
    seed: int
    rows: np.ndarray | None = None
    keep_predictions: bool = False


@dataclass(frozen=True)
class RefitTask:
    """Fit ``spec`` on ``rows`` of the data (all rows if None) and send the pickled model."""

    spec: PipelineSpec
    seed: int
    rows: np.ndarray | None = None


@dataclass(frozen=True)
class PriorTask:
    """Read the prior from the knowledge base at ``kb_path`` (opened afresh in the worker)."""

    kb_path: str
    metric: str
    exclude_datasets: tuple[str | int, ...]
    meta_feature_seconds: float
    use_local: bool = True


@dataclass(frozen=True)
class WorkerReply:
    """``value`` is a ``CrossValidation`` (evaluate) or ``(model bytes, fit seconds)`` (refit)."""

    status: ReplyStatus
    value: Any
    message: str | None
    seconds: float


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _limit_memory(max_bytes: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as handle:
            held = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = held + max_bytes
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):  # not Linux: no limit, the deadline still holds
        pass


def _run_task(task: Any, dataset: Dataset, cache: Any) -> Any:
    from mile_meta.pipelines import build_pipeline
    from mile_meta.search._crossval import cross_validate

    if isinstance(task, EvaluateTask):
        return cross_validate(
            task.spec,
            dataset,
            metric=task.metric,
            cv=task.cv,
            seed=task.seed,
            cache=cache,
            rows=task.rows,
            keep_predictions=task.keep_predictions,
        )
    if isinstance(task, RefitTask):
        started = time.perf_counter()
        X, y = dataset.frame, dataset.target
        if task.rows is not None:
            X, y = X.iloc[task.rows], y.iloc[task.rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_pipeline(task.spec, random_state=task.seed).fit(X, y)
        seconds = time.perf_counter() - started
        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), seconds
    if isinstance(task, PriorTask):
        from mile_meta.kb import KnowledgeBase
        from mile_meta.search._prior import load_prior

        with KnowledgeBase.open(task.kb_path, must_exist=True) as kb:
            return load_prior(
                kb,
                dataset,
                task.metric,
                exclude_datasets=task.exclude_datasets,
                meta_feature_seconds=task.meta_feature_seconds,
                use_local=task.use_local,
            )
    raise TypeError(f"unknown task {type(task).__name__}")


def _serve(connection: Any, dataset: Dataset, settings: WorkerSettings) -> None:
    """The worker's loop: one task in, one reply out, until told to stop."""
    # Ctrl-C in a terminal reaches the whole process group; the search decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # libraries that print would scramble the progress display
    os.dup2(devnull, 2)
    os.close(devnull)
    warnings.simplefilter("ignore")
    from threadpoolctl import threadpool_limits

    from mile_meta.reuse import default_store

    threadpool_limits(limits=settings.threads)
    os.environ["OMP_NUM_THREADS"] = str(settings.threads)
    if settings.max_memory_bytes:
        _limit_memory(settings.max_memory_bytes)
    # the shared reuse store (None under MILE_META_NO_CACHE): its memory tier is bounded well
    # below the worker's memory limit, its disk tier serves later searches and evaluations
    cache = default_store(settings.reuse, max_memory_bytes=128 << 20)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", _run_task(task, dataset, cache))
        except MemoryError as error:
            # free what the cache holds before going on
            cache = default_store(settings.reuse, max_memory_bytes=128 << 20)
            reply = ("memory", f"out of memory ({_first_line(error)})")
        except Exception as error:  # any failure of a candidate is reported, never fatal
            reply = ("failed", _first_line(error))
        try:
            connection.send(reply)
        except MemoryError:
            reply = ("memory", "out of memory while sending the result")
        except (EOFError, OSError, KeyboardInterrupt):  # the search is gone
            return
        except Exception as error:  # e.g. a result that does not pickle: that candidate failed
            reply = ("failed", f"cannot send the result ({_first_line(error)})")
        else:
            continue
        try:
            connection.send(reply)
        except Exception:  # nothing more can be said: the search treats the worker as crashed
            return


@functools.cache
def preload_modules() -> None:
    """Import what workers need in this process, once: forked workers then start with it
    loaded instead of importing it again after every kill (seconds on a busy machine)."""
    import importlib

    import optuna  # the optimizer, in this process  # noqa: F401

    import mile_meta.evaluate
    import mile_meta.kb
    import mile_meta.metafeatures
    import mile_meta.recommend  # noqa: F401
    from mile_meta.pipelines import COMPONENTS

    modules = {
        info.import_path.split(":")[0]
        for info in COMPONENTS.values()
        if info.kind in ("classifier", "regressor", "data_preprocessor")
    }
    for module in sorted(modules):
        try:
            importlib.import_module(module)
        except ImportError:  # an optional library: the candidates using it will say so
            continue


def _default_start_method() -> str:
    return "fork" if sys.platform.startswith("linux") else "spawn"


class CandidateRunner(Executor):
    """Runs tasks in a reusable worker process, each under a deadline (the default
    :class:`~mile_meta.search._executor.Executor`)."""

    def __init__(self, dataset: Dataset, settings: WorkerSettings | None = None) -> None:
        self.dataset = dataset
        self.settings = settings or WorkerSettings()
        self.context: Any = multiprocessing.get_context(
            self.settings.start_method or _default_start_method()
        )
        self._process: Any = None
        self._connection: Any = None
        self.started_workers = 0

    def __enter__(self) -> CandidateRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_serve,
            args=(child, self.dataset, self.settings),
            daemon=True,
            name="mile-meta-search-worker",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            process.start()
        child.close()
        self._process, self._connection = process, parent
        self.started_workers += 1

    def run(
        self, task: EvaluateTask | RefitTask | PriorTask, *, timeout_seconds: float
    ) -> WorkerReply:
        """Run ``task``; past ``timeout_seconds`` the worker is killed and ``timeout`` returned."""
        started = time.perf_counter()
        if self._process is None or not self._process.is_alive():
            self._discard()
            self._start()
        try:
            self._connection.send(task)
            if not self._connection.poll(max(0.0, timeout_seconds)):
                self.kill()
                return WorkerReply(
                    "timeout", None, "stopped at its time limit", time.perf_counter() - started
                )
            status, value = self._connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._process.join(timeout=1)  # reap it, so its exit code is known
            code = self._process.exitcode
            self.kill()
            reason = (
                "killed by signal " + signal.Signals(-code).name
                if isinstance(code, int) and code < 0
                else f"exit code {code}"
            )
            return WorkerReply(
                "crashed",
                None,
                f"the worker process died ({reason})",
                time.perf_counter() - started,
            )
        except BaseException:  # KeyboardInterrupt: the reply would arrive out of step
            self.kill()
            raise
        seconds = time.perf_counter() - started
        if status == "ok":
            return WorkerReply("ok", value, None, seconds)
        return WorkerReply(status, None, str(value), seconds)

    def kill(self) -> None:
        """Stop the worker at once (its cache goes with it); the next task starts a new one."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=2)
        self._discard()

    def _discard(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            self._process.join(timeout=0.1)
            if self._process.exitcode is not None:
                self._process.close()
        self._process = self._connection = None

    def close(self) -> None:
        """Stop the worker. It holds nothing worth saving, and a polite shutdown of an
        interpreter full of libraries can take a second the budget does not have."""
        self.kill()


def unpickle_model(payload: bytes) -> Any:
    return pickle.loads(payload)
