"""Workflow versions: what a user derived from what in a workbench session, with its result.

What is written
    A session (:meth:`Workflows.create_session`) for one dataset, target and metric, and one
    version per evaluated pipeline (:meth:`Workflows.add_version`): its spec, who made it
    (``recommendation``, ``user``, ``search``), the version it was derived from and the result
    (fold scores, fit seconds) beside the recommender's prediction.
What is read
    Sessions (:meth:`Workflows.sessions`, :meth:`Workflows.session`), a session's versions in
    order (:meth:`Workflows.versions`), one version, and the side-by-side comparison of two
    (:func:`compare_versions`).
Concurrency
    Every change bumps the session's ``revision`` inside the transaction that writes it. A
    writer passes the revision it last saw; if another writer (a second browser tab) changed
    the session meanwhile, :class:`StaleSessionError` says so and nothing is written.

The tables come from migration ``m0004_workflows``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mile_meta.errors import KnowledgeBaseError

if TYPE_CHECKING:
    from mile_meta.kb._store import KnowledgeBase

__all__ = [
    "AUTHORS",
    "StaleSessionError",
    "VersionComparison",
    "WorkflowSession",
    "WorkflowVersion",
    "Workflows",
    "compare_versions",
]

AUTHORS = ("recommendation", "user", "search")


class StaleSessionError(KnowledgeBaseError):
    """The session changed since the writer last read it (another tab added a version)."""


@dataclass(frozen=True)
class WorkflowSession:
    """A workbench session on one dataset; ``revision`` counts its changes."""

    session_id: str
    name: str
    dataset_id: str
    dataset_name: str
    data_path: str
    target: str
    task_type: str
    metric: str
    revision: int
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class WorkflowVersion:
    """One evaluated pipeline of a session (scores in the metric's unit, times in seconds).

    ``parent_id`` is the version it was derived from (``None`` for a root: a recommendation
    taken as is, a spec written from scratch, a search's best). A failed evaluation is kept
    with ``status = "failed"`` and its ``error``, so the history shows what did not work.
    """

    version_id: str
    session_id: str
    number: int
    parent_id: str | None
    author: str
    action: str
    pipeline_id: str
    spec: dict[str, Any]
    status: str
    error: str | None
    metric: str
    higher_is_better: bool
    mean: float | None
    std: float | None
    fold_scores: tuple[float, ...]
    fit_seconds: float | None
    total_seconds: float | None
    cached_folds: int
    predicted_score: float | None
    predicted_lower: float | None
    predicted_upper: float | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN-free)."""
        return {
            name: (list(value) if isinstance(value, tuple) else value)
            for name, value in self.__dict__.items()
        }


@dataclass(frozen=True)
class VersionComparison:
    """Two versions side by side: ``difference`` is b's mean minus a's, in the metric's unit,
    with a 95 % interval (paired over folds when both ran on the same folds); ``better`` names
    the better version when the interval excludes zero, else ``None``."""

    a: WorkflowVersion
    b: WorkflowVersion
    spec_diff: tuple[tuple[str, Any, Any], ...]  # (step.param, value in a, value in b)
    difference: float | None
    interval: tuple[float, float] | None
    paired: bool
    better: str | None
    fit_seconds_ratio: float | None  # b's fit time over a's

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "spec_diff": [
                {"key": key, "a": left, "b": right} for key, left, right in self.spec_diff
            ],
            "difference": self.difference,
            "interval": list(self.interval) if self.interval is not None else None,
            "paired": self.paired,
            "better": self.better,
            "fit_seconds_ratio": self.fit_seconds_ratio,
        }


_SESSION_COLUMNS = (
    "session_id, name, dataset_id, dataset_name, data_path, target, task_type, metric,"
    " revision, created_at, updated_at"
)
_VERSION_COLUMNS = (
    "version_id, session_id, number, parent_id, author, action, pipeline_id, spec_json,"
    " status, error, metric, higher_is_better, mean, std, fold_scores, fit_seconds,"
    " total_seconds, cached_folds, predicted_score, predicted_lower, predicted_upper, created_at"
)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


class Workflows:
    """The workflow tables of one knowledge base (read and written on its connection).

    >>> workflows = Workflows(kb)                                   # doctest: +SKIP
    >>> session = workflows.create_session("credit-g", dataset_id="local:ab", ...)  # doctest: +SKIP
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.db = kb.db

    # -- sessions ------------------------------------------------------------------------
    def create_session(
        self,
        name: str,
        *,
        dataset_id: str,
        dataset_name: str,
        data_path: str,
        target: str,
        task_type: str,
        metric: str,
    ) -> WorkflowSession:
        """A new, empty session (revision 0)."""
        now = _now()
        session_id = uuid.uuid4().hex[:12]
        with self.kb.transaction():
            self.db.execute(
                f"INSERT INTO workflow_sessions ({_SESSION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [
                    session_id,
                    name,
                    dataset_id,
                    dataset_name,
                    data_path,
                    target,
                    task_type,
                    metric,
                    now,
                    now,
                ],
            )
        return self.session(session_id)

    def session(self, session_id: str) -> WorkflowSession:
        row = self.db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM workflow_sessions WHERE session_id = ?",
            [session_id],
        ).fetchone()
        if row is None:
            raise KnowledgeBaseError(f"no workbench session {session_id!r} in {self.kb.path}")
        return WorkflowSession(*row)

    def sessions(self, *, limit: int = 50) -> list[WorkflowSession]:
        """The most recently changed sessions first."""
        rows = self.db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM workflow_sessions"
            " ORDER BY updated_at DESC, session_id LIMIT ?",
            [limit],
        ).fetchall()
        return [WorkflowSession(*row) for row in rows]

    # -- versions ------------------------------------------------------------------------
    def add_version(
        self,
        session_id: str,
        *,
        expected_revision: int | None,
        author: str,
        action: str,
        spec: dict[str, Any],
        pipeline_id: str,
        metric: str,
        higher_is_better: bool,
        parent_id: str | None = None,
        status: str = "ok",
        error: str | None = None,
        mean: float | None = None,
        std: float | None = None,
        fold_scores: tuple[float, ...] = (),
        fit_seconds: float | None = None,
        total_seconds: float | None = None,
        cached_folds: int = 0,
        predicted: tuple[float, float, float] | None = None,
    ) -> WorkflowVersion:
        """Append a version; with ``expected_revision``, refuse if the session moved on.

        ``predicted`` is the recommender's (score, lower, upper) for this pipeline, if any.
        """
        if author not in AUTHORS:
            raise KnowledgeBaseError(f"unknown author {author!r}; use one of {', '.join(AUTHORS)}")
        if status not in ("ok", "failed"):
            raise KnowledgeBaseError(f"unknown status {status!r}; use ok or failed")
        version_id = uuid.uuid4().hex[:12]
        score, lower, upper = predicted if predicted is not None else (None, None, None)
        with self.kb.transaction():
            session = self.session(session_id)
            if expected_revision is not None and session.revision != expected_revision:
                raise StaleSessionError(
                    f"session {session.name!r} changed in another tab or window (revision "
                    f"{session.revision}, this page had {expected_revision}); reload the "
                    "history and try again"
                )
            if parent_id is not None:
                parent = self.db.execute(
                    "SELECT session_id FROM workflow_versions WHERE version_id = ?", [parent_id]
                ).fetchone()
                if parent is None or parent[0] != session_id:
                    raise KnowledgeBaseError(
                        f"version {parent_id!r} is not part of session {session.name!r}"
                    )
            number = (
                self.db.execute(
                    "SELECT coalesce(max(number), 0) FROM workflow_versions WHERE session_id = ?",
                    [session_id],
                ).fetchone()[0]
                + 1
            )
            now = _now()
            self.db.execute(
                f"INSERT INTO workflow_versions ({_VERSION_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    version_id,
                    session_id,
                    number,
                    parent_id,
                    author,
                    action,
                    pipeline_id,
                    json.dumps(spec, sort_keys=True),
                    status,
                    error,
                    metric,
                    int(higher_is_better),
                    _finite(mean),
                    _finite(std),
                    json.dumps([float(s) for s in fold_scores]),
                    _finite(fit_seconds),
                    _finite(total_seconds),
                    int(cached_folds),
                    _finite(score),
                    _finite(lower),
                    _finite(upper),
                    now,
                ],
            )
            self.db.execute(
                "UPDATE workflow_sessions SET revision = revision + 1, updated_at = ?"
                " WHERE session_id = ?",
                [now, session_id],
            )
        return self.version(version_id)

    def version(self, version_id: str) -> WorkflowVersion:
        row = self.db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM workflow_versions WHERE version_id = ?",
            [version_id],
        ).fetchone()
        if row is None:
            raise KnowledgeBaseError(f"no workflow version {version_id!r} in {self.kb.path}")
        return _version(row)

    def versions(self, session_id: str) -> list[WorkflowVersion]:
        """A session's versions, oldest first (their ``parent_id`` links make the tree)."""
        rows = self.db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM workflow_versions WHERE session_id = ? ORDER BY number",
            [session_id],
        ).fetchall()
        return [_version(row) for row in rows]


def _version(row: tuple[Any, ...]) -> WorkflowVersion:
    (
        version_id,
        session_id,
        number,
        parent_id,
        author,
        action,
        pipeline_id,
        spec_json,
        status,
        error,
        metric,
        higher_is_better,
        mean,
        std,
        fold_scores,
        fit_seconds,
        total_seconds,
        cached_folds,
        predicted_score,
        predicted_lower,
        predicted_upper,
        created_at,
    ) = row
    return WorkflowVersion(
        version_id=version_id,
        session_id=session_id,
        number=int(number),
        parent_id=parent_id,
        author=author,
        action=action,
        pipeline_id=pipeline_id,
        spec=json.loads(spec_json),
        status=status,
        error=error,
        metric=metric,
        higher_is_better=bool(higher_is_better),
        mean=mean,
        std=std,
        fold_scores=tuple(json.loads(fold_scores or "[]")),
        fit_seconds=fit_seconds,
        total_seconds=total_seconds,
        cached_folds=int(cached_folds or 0),
        predicted_score=predicted_score,
        predicted_lower=predicted_lower,
        predicted_upper=predicted_upper,
        created_at=created_at,
    )


def _flatten(spec: dict[str, Any]) -> dict[str, Any]:
    """``{"1:RandomForestClassifier.max_features": 0.3, "0:TabularPreprocessor": ...}``."""
    flat: dict[str, Any] = {}
    for index, step in enumerate(spec.get("steps", [])):
        component = step.get("component")
        flat[f"step {index + 1}"] = component
        for name, value in (step.get("params") or {}).items():
            flat[f"{component}.{name}"] = value
    return flat


def compare_versions(a: WorkflowVersion, b: WorkflowVersion) -> VersionComparison:
    """Spec differences, score difference (b - a) with a 95 % interval, fit-time ratio.

    When both versions ran on the same folds (same number of fold scores), the interval is
    the paired t-interval over the per-fold differences; otherwise Welch's, from each
    version's fold scores.
    """
    from scipy import stats

    left, right = _flatten(a.spec), _flatten(b.spec)
    diff = tuple(
        (key, left.get(key), right.get(key))
        for key in sorted(set(left) | set(right))
        if left.get(key) != right.get(key)
    )
    difference = interval = better = None
    paired = False
    if a.mean is not None and b.mean is not None:
        difference = float(b.mean - a.mean)
        fa, fb = a.fold_scores, b.fold_scores
        if len(fa) >= 2 and len(fa) == len(fb):
            paired = True
            deltas = [y - x for x, y in zip(fa, fb, strict=True)]
            n = len(deltas)
            mean = sum(deltas) / n
            variance = sum((d - mean) ** 2 for d in deltas) / (n - 1)
            half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
            interval = (mean - half, mean + half)
        elif len(fa) >= 2 and len(fb) >= 2:
            va = _variance(fa) / len(fa)
            vb = _variance(fb) / len(fb)
            se = math.sqrt(va + vb)
            dof = (va + vb) ** 2 / (
                (va**2 / (len(fa) - 1) if va else 0) + (vb**2 / (len(fb) - 1) if vb else 0) or 1.0
            )
            half = float(stats.t.ppf(0.975, max(dof, 1.0))) * se
            interval = (difference - half, difference + half)
        if interval is not None and (interval[0] > 0 or interval[1] < 0):
            b_higher = interval[0] > 0
            better = b.version_id if b_higher == a.higher_is_better else a.version_id
    ratio = None
    if a.fit_seconds and b.fit_seconds is not None and a.fit_seconds > 0:
        ratio = float(b.fit_seconds / a.fit_seconds)
    return VersionComparison(
        a=a,
        b=b,
        spec_diff=diff,
        difference=difference,
        interval=interval,
        paired=paired,
        better=better,
        fit_seconds_ratio=ratio,
    )


def _variance(values: tuple[float, ...]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
