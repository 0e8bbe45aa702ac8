"""Background jobs (an evaluation, a search) whose progress the page follows live.

A job runs in its own thread and appends events; the page reads them as server-sent events
from a cursor, so a reconnecting page resumes where it was. ``stop()`` asks the job to end:
a search keeps its best candidate (it sees the request at its next progress report).
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "JobRegistry"]


@dataclass
class Job:
    """One background task: ``kind`` (``evaluate``/``search``), its events and its outcome."""

    kind: str
    session_id: str
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "running"  # running | done | failed | stopped
    events: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def emit(self, event: dict[str, Any]) -> None:
        with self.changed:
            self.events.append({**event, "elapsed": round(time.monotonic() - self.started, 3)})
            self.changed.notify_all()

    def finish(
        self, status: str, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self.changed:
            self.status, self.result, self.error = status, result, error
            self.events.append(
                {
                    "type": "end",
                    "status": status,
                    "result": result,
                    "error": error,
                    "elapsed": round(time.monotonic() - self.started, 3),
                }
            )
            self.changed.notify_all()

    def wait_for_events(self, cursor: int, timeout: float) -> list[dict[str, Any]]:
        """Events after ``cursor``; waits up to ``timeout`` seconds for the first new one."""
        with self.changed:
            if len(self.events) <= cursor:
                self.changed.wait(timeout)
            return self.events[cursor:]

    def wait_until_finished(self, timeout: float | None = None) -> bool:
        """Wait for the job to end (done, failed or stopped); False on a timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: self.status != "running", timeout)

    def summary(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "session_id": self.session_id,
            "status": self.status,
            "result": self.result,
            "error": self.error,
            "events": len(self.events),
        }


class JobRegistry:
    """The jobs of one workbench (kept for the life of the server, newest last)."""

    def __init__(self, max_jobs: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.max_jobs = max_jobs

    def start(self, kind: str, session_id: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        job = Job(kind, session_id)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self.max_jobs:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status == "running":
                    break
                del self._jobs[oldest]

        def run() -> None:
            try:
                result = work(job)
            except Exception as error:  # reported in the page, never a dead thread
                from mile_meta.errors import MileMetaError

                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                if not isinstance(error, MileMetaError):
                    message = f"{type(error).__name__}: {message}"
                    traceback.print_exc()
                job.finish("failed", error=message)
            else:
                job.finish("stopped" if job.stop_requested.is_set() else "done", result=result)

        threading.Thread(target=run, name=f"mile-meta-{kind}-{job.job_id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self, session_id: str, kind: str) -> Job | None:
        with self._lock:
            for job in self._jobs.values():
                if job.session_id == session_id and job.kind == kind and job.status == "running":
                    return job
        return None
