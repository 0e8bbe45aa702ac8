"""The workbench's state and actions, on the public Python API (no web code here).

One :class:`Workbench` serves one knowledge base and one data folder. Reads of the
knowledge base (recommendations, evidence, the browser) run on one dedicated thread that
owns a connection (SQLite connections belong to the thread that opened them); an evaluation
or a search runs as a :class:`~mile_meta.ui._jobs.Job` in its own thread with its own
connection. Uploaded files are written into ``<data folder>/uploads`` and nowhere else.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from mile_meta.errors import DataError, MileMetaError
from mile_meta.ui._jobs import Job, JobRegistry

__all__ = ["UPLOAD_SUFFIXES", "Workbench", "WorkbenchError", "json_safe"]

T = TypeVar("T")

UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".parquet", ".pq")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# the meta-features shown beside the nearest datasets (the rest are one click away)
KEY_META_FEATURES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "NumberOfNumericFeatures",
    "NumberOfSymbolicFeatures",
    "NumberOfMissingValues",
    "PercentageOfInstancesWithMissingValues",
    "MajorityClassPercentage",
    "MinorityClassPercentage",
    "ClassEntropy",
    "DecisionStumpAUC",
    "NaiveBayesAUC",
)
# meta-features of the 2-D neighbourhood map; counts are log-scaled first
_MAP_FEATURES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "NumberOfSymbolicFeatures",
    "NumberOfMissingValues",
    "MajorityClassPercentage",
)
_PATTERN_QUESTIONS = (
    "which_hyperparameters_matter",
    "how_much_more_data_helps",
    "expected_fit_time",
    "how_candidates_compare",
)


class WorkbenchError(MileMetaError):
    """A request the workbench refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf as None and numpy scalars, tuples and paths made plain."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return json_safe({k: getattr(value, k) for k in value.__dataclass_fields__})
    return str(value)


@dataclass
class _Table:
    data_id: str
    path: Path
    name: str
    frame: pd.DataFrame


@dataclass
class _SessionState:
    """What the workbench keeps in memory about a session (rebuilt from its file if lost)."""

    dataset: Any  # mile_meta.data.Dataset
    report: Any = None  # RecommendationReport, full ranking
    context: Any = None  # QuestionContext (lives on the KB thread)
    answers: dict[str, Any] = field(default_factory=dict)


class Workbench:
    """State shared by every page of one ``mile-meta ui`` server."""

    def __init__(
        self,
        kb_path: Path,
        data_dir: Path,
        *,
        max_upload_bytes: int = 50 * 1024 * 1024,
        max_rows_for_recommendations: int | None = None,
    ) -> None:
        self.kb_path = Path(kb_path)
        self.data_dir = Path(data_dir)
        self.upload_dir = self.data_dir / "uploads"
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.max_upload_bytes = max_upload_bytes
        self.jobs = JobRegistry()
        self._tables: OrderedDict[str, _Table] = OrderedDict()
        self._sessions: dict[str, _SessionState] = {}
        self._lock = threading.Lock()
        self._kb_thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="mile-meta-kb"
        )
        # the practitioner patterns' questions take seconds: their own lane keeps the
        # browser and the tables responsive meanwhile
        self._questions_thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="mile-meta-kb-questions"
        )
        self._report_lock = threading.Lock()
        self._local = threading.local()
        from mile_meta.evaluate import FoldCache

        # transformed folds outlive one evaluation: a hyperparameter-only edit reuses them
        self.fold_cache = FoldCache(self.data_dir / "fold-cache", max_entries=128)
        self._fold_lock = threading.Lock()
        self._first_warm_up: concurrent.futures.Future[None] | None = None

    def warm_up_once(self) -> concurrent.futures.Future[None]:
        """The first :meth:`warm_up`, started when the workbench is first used (the page's
        first request for data, an upload, a session), not when the server starts: fitting
        meta-learners takes the CPU for seconds, and the first page must not wait for it."""
        with self._lock:
            if self._first_warm_up is None:
                self._first_warm_up = self.warm_up()
            return self._first_warm_up

    def warm_up(self) -> concurrent.futures.Future[None]:
        """Fit (or load) the meta-learners of the default metrics in the background, so the
        first ranking of a session, and the first after new local runs, comes at once."""

        def warm() -> None:
            from mile_meta.recommend import recommend_from_metafeatures

            shape = {"NumberOfInstances": 1000.0, "NumberOfFeatures": 10.0}
            for task_type, classes in (("binary", 2.0), ("regression", None)):
                features = dict(shape) if classes is None else {**shape, "NumberOfClasses": classes}
                with contextlib.suppress(MileMetaError):
                    recommend_from_metafeatures(features, task_type, kb=self._kb(), top=1)

        # on the questions' lane: the reads of the page must not wait for a refit
        return self._questions_thread.submit(warm)

    # -- the knowledge base thread ---------------------------------------------------------
    def _kb(self) -> Any:
        kb = getattr(self._local, "kb", None)
        if kb is None:
            from mile_meta.kb import KnowledgeBase

            kb = KnowledgeBase.open(self.kb_path, must_exist=True)
            self._local.kb = kb
        return kb

    def on_kb_thread(self, function: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run ``function`` on the thread that owns the read connection."""
        return self._kb_thread.submit(function)

    def call(self, function: Callable[[], T], *, questions: bool = False) -> T:
        """Run ``function`` on a knowledge-base thread and wait for it (at once when
        already on one: a thread waiting on itself would never return)."""
        if threading.current_thread().name.startswith("mile-meta-kb"):
            return function()
        executor = self._questions_thread if questions else self._kb_thread
        return executor.submit(function).result()

    def close(self) -> None:
        def close_kb() -> None:
            kb = getattr(self._local, "kb", None)
            if kb is not None:
                kb.close()
                self._local.kb = None

        self._kb_thread.submit(close_kb).result()
        self._questions_thread.submit(close_kb).result()
        self._kb_thread.shutdown(wait=False)
        self._questions_thread.shutdown(wait=False)

    # -- data in ---------------------------------------------------------------------------
    def save_upload(self, filename: str, chunks: Iterable[bytes]) -> dict[str, Any]:
        """Write an uploaded file into the data folder (refusing what is too large or not a
        table) and describe its columns."""
        name = _SAFE_NAME.sub("_", Path(filename or "").name).strip("._") or "upload.csv"
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            raise WorkbenchError(
                f"{filename!r} is not a CSV or Parquet file; upload a .csv, .tsv, .csv.gz or .parquet file",
                415,
            )
        digest = hashlib.sha256()
        partial = self.upload_dir / f".{name}.{threading.get_ident()}.partial"
        size = 0
        try:
            with partial.open("wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_upload_bytes:
                        raise WorkbenchError(
                            f"{name} is larger than the upload limit of "
                            f"{self.max_upload_bytes / 1e6:.0f} MB; open it by path instead, or "
                            "restart with a larger --max-upload-mb",
                            413,
                        )
                    digest.update(chunk)
                    handle.write(chunk)
            if size == 0:
                raise WorkbenchError(f"{name} is empty; upload a file with a header and rows")
            # one folder per content, so the file keeps its own name (the dataset's name)
            folder = self.upload_dir / digest.hexdigest()[:16]
            folder.mkdir(exist_ok=True)
            target = folder / name
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        try:
            return self.open_path(target, data_id=digest.hexdigest()[:16])
        except MileMetaError:
            target.unlink(missing_ok=True)  # an unreadable upload is not kept
            with contextlib.suppress(OSError):
                target.parent.rmdir()
            raise

    def open_path(self, path: str | Path, *, data_id: str | None = None) -> dict[str, Any]:
        """Read a CSV/Parquet file and describe its columns (with a suggested target)."""
        from mile_meta.data import read_table

        self.warm_up_once()  # a ranking comes next
        resolved = Path(path).expanduser()
        if not resolved.is_absolute():
            raise WorkbenchError(
                f"{path!r} is not an absolute path; give the full path of the file"
            )
        frame = read_table(resolved)
        if frame.shape[1] < 2:
            raise DataError(
                f"{resolved.name} has {frame.shape[1]} column; a dataset needs features and a "
                "target (check the separator)"
            )
        if len(frame) == 0:
            raise DataError(f"{resolved.name} has a header but no rows; pass a file with data rows")
        stat = resolved.stat()
        data_id = (
            data_id
            or hashlib.sha256(
                f"{resolved.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
            ).hexdigest()[:16]
        )
        table = _Table(data_id, resolved, resolved.name.split(".")[0], frame)
        with self._lock:
            self._tables[data_id] = table
            while len(self._tables) > 8:
                self._tables.popitem(last=False)
        columns = []
        for column in frame.columns:
            series = frame[column]
            columns.append(
                {
                    "name": str(column),
                    "dtype": str(series.dtype),
                    "distinct": int(series.nunique()),
                    "missing": int(series.isna().sum()),
                }
            )
        return {
            "data_id": data_id,
            "name": table.name,
            "path": str(resolved),
            "rows": len(frame),
            "columns": columns,
            "suggested_target": _suggest_target(frame),
            "preview": json_safe(
                frame.head(5).astype(object).where(frame.head(5).notna(), None).values.tolist()
            ),
        }

    def _table(self, data_id: str) -> _Table:
        with self._lock:
            table = self._tables.get(data_id)
        if table is None:
            raise WorkbenchError(f"no open file {data_id!r}; upload or open the file again", 404)
        return table

    # -- sessions ----------------------------------------------------------------------------
    def create_session(
        self,
        data_id: str,
        target: str,
        *,
        task_type: str | None = None,
        metric: str | None = None,
    ) -> dict[str, Any]:
        """Pick the target (the task inferred, with why) and open a workflow session on it."""
        import warnings

        from mile_meta.data import dataset_from_frame
        from mile_meta.kb import Workflows
        from mile_meta.metafeatures import infer_task_type
        from mile_meta.metrics import default_metric, resolve_metric

        table = self._table(data_id)
        if not target:
            raise WorkbenchError("pick the target column: the one the model should predict")
        if target not in table.frame.columns:
            raise DataError(f"target column {target!r} not found in {table.name}")
        labels = table.frame[target]
        inferred = infer_task_type(labels)
        why = _task_reason(labels, inferred)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dataset = dataset_from_frame(
                table.frame, target, task_type=task_type, name=table.name, path=table.path
            )
        chosen = resolve_metric(metric) if metric else default_metric(dataset.task_type)
        if dataset.task_type not in chosen.task_types:
            raise WorkbenchError(
                f"metric {chosen.name} does not apply to a {dataset.task_type} task"
            )

        def create() -> Any:
            return Workflows(self._kb()).create_session(
                f"{table.name} → {target}",
                dataset_id=dataset.dataset_id,
                dataset_name=dataset.name,
                data_path=str(table.path),
                target=target,
                task_type=dataset.task_type,
                metric=chosen.name,
            )

        session = self.call(create)
        with self._lock:
            self._sessions[session.session_id] = _SessionState(dataset)
        return {
            "session": json_safe(session),
            "task_type": dataset.task_type,
            "inferred_task_type": inferred,
            "why": why
            if task_type in (None, inferred)
            else f"set by you ({why}, so the guess was {inferred})",
            "metric": chosen.name,
            "higher_is_better": chosen.higher_is_better,
            "rows": len(dataset.frame),
            "features": int(dataset.frame.shape[1]),
            "warnings": [str(w.message) for w in caught],
        }

    def _state(self, session_id: str) -> _SessionState:
        with self._lock:
            state = self._sessions.get(session_id)
        if state is not None:
            return state
        from mile_meta.data import load_dataset
        from mile_meta.kb import Workflows

        session = self.call(lambda: Workflows(self._kb()).session(session_id))
        dataset = load_dataset(
            session.data_path,
            session.target,
            task_type=session.task_type,
            name=session.dataset_name,
        )
        state = _SessionState(dataset)
        with self._lock:
            self._sessions.setdefault(session_id, state)
            return self._sessions[session_id]

    def session(self, session_id: str) -> dict[str, Any]:
        from mile_meta.kb import Workflows

        self.warm_up_once()

        def read() -> dict[str, Any]:
            workflows = Workflows(self._kb())
            return {
                "session": workflows.session(session_id),
                "versions": [v.to_dict() for v in workflows.versions(session_id)],
                # a search kept what it evaluated: a re-plan can resume from it
                "searched": self.search_folder(session_id).is_dir(),
            }

        return json_safe(self.call(read))

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions, newest first (the page asks once loaded: the workbench is in use)."""
        from mile_meta.kb import Workflows

        self.warm_up_once()
        return json_safe(self.call(lambda: Workflows(self._kb()).sessions()))

    # -- recommendations -------------------------------------------------------------------
    def _report(self, session_id: str) -> Any:
        """The full ranking for the session (computed once, on the KB thread)."""
        state = self._state(session_id)
        with self._report_lock:
            if state.report is None:
                from mile_meta.recommend import recommend

                state.report = recommend(
                    state.dataset, kb=self._kb(), metric=self._metric(session_id), top=10_000
                )
            return state.report

    def _metric(self, session_id: str) -> str:
        from mile_meta.kb import Workflows

        return str(Workflows(self._kb()).session(session_id).metric)

    def recommendations(self, session_id: str, top: int = 25) -> dict[str, Any]:
        """The ranked pipelines with predicted score, interval, fit time and evidence."""

        def compute() -> dict[str, Any]:
            started = time.perf_counter()
            report = self._report(session_id)
            payload = report.to_dict()
            payload["recommendations"] = payload["recommendations"][:top]
            payload["total"] = len(report.recommendations)
            payload["seconds"] = time.perf_counter() - started
            return payload

        payload = json_safe(self.call(compute))
        # answer the patterns' questions in the background, so expanding a row is quick
        self._questions_thread.submit(self._answers, session_id)
        return payload

    def _answers(self, session_id: str) -> dict[str, Any]:
        """The patterns' questions for the session's data (on the questions thread)."""
        from mile_meta.questions import QuestionContext, answer_question

        state = self._state(session_id)
        self._report(session_id)
        if state.context is None:
            state.context = QuestionContext(state.dataset, self._kb())
        for question in _PATTERN_QUESTIONS:
            if question not in state.answers:
                state.answers[question] = answer_question(
                    question, state.dataset, self._kb(), context=state.context
                )
        return state.answers

    def profile(self, session_id: str) -> dict[str, Any]:
        """Meta-features beside the nearest knowledge-base datasets and what won there."""

        def compute() -> dict[str, Any]:
            from mile_meta.metrics import resolve_metric
            from mile_meta.ranking import nearest_datasets

            kb = self._kb()
            state = self._state(session_id)
            report = self._report(session_id)
            near = nearest_datasets(
                kb,
                report.meta_features,
                resolve_metric(report.metric),
                exclude=(state.dataset.dataset_id,),
                k=10,
            )
            rows = []
            for item in near:
                best = kb.best_pipelines(item.dataset_id, report.knowledge_base_metric, limit=1)
                rows.append(
                    {
                        "dataset_id": item.dataset_id,
                        "name": item.dataset_name,
                        "distance": item.distance,
                        "winner": best[0].family if best else None,
                        "winner_description": best[0].origin_key if best else None,
                        "winner_score": _in_user_metric(
                            best[0].value, report.knowledge_base_metric, report.metric
                        )
                        if best
                        else None,
                        "metric": report.metric,
                    }
                )
            meta = dict(report.meta_features)
            return {
                "key_meta_features": {k: meta.get(k) for k in KEY_META_FEATURES if k in meta},
                "meta_features": meta,
                "nearest": rows,
            }

        return json_safe(self.call(compute))

    def details(self, session_id: str, pipeline_id: str) -> dict[str, Any]:
        """One recommendation's evidence and the practitioner patterns' answers for this data."""

        def compute() -> dict[str, Any]:
            report = self._report(session_id)
            chosen = next((r for r in report.recommendations if r.pipeline_id == pipeline_id), None)
            if chosen is None:
                raise WorkbenchError(
                    f"pipeline {pipeline_id} is not among the recommendations", 404
                )
            answers = []
            for question, answer in self._answers(session_id).items():
                rows = [json_safe(row) for row in answer.table]
                if question in ("which_hyperparameters_matter", "how_much_more_data_helps"):
                    mine = [r for r in rows if r.get("family") == chosen.family]
                    rows = mine or rows
                answers.append(
                    {
                        "question": question,
                        "title": answer.title,
                        "answered": answer.answered,
                        "summary": answer.summary,
                        "rows": rows[:12],
                        "method": answer.method,
                    }
                )
            return {
                "pipeline_id": pipeline_id,
                "description": chosen.spec.describe(),
                "family": chosen.family,
                "evidence": [json_safe(e) for e in chosen.evidence],
                "answers": answers,
            }

        return json_safe(self.call(compute, questions=True))

    # -- the pipeline editor ---------------------------------------------------------------
    def form(
        self, session_id: str, spec: dict[str, Any] | None, estimator: str | None
    ) -> dict[str, Any]:
        from mile_meta.pipelines import PipelineSpec
        from mile_meta.ui._forms import default_spec, estimators_for, form_for

        state = self._state(session_id)
        if estimator:
            built = default_spec(estimator)
        elif spec is not None:
            try:
                built = PipelineSpec.from_dict(spec)
            except (ValueError, TypeError) as error:
                raise WorkbenchError(str(error)) from None
        else:
            built = default_spec(estimators_for(state.dataset.task_type)[0]["estimator"])
        return json_safe(
            {
                "steps": form_for(built),
                "estimators": estimators_for(state.dataset.task_type),
                "spec": built.to_dict(),
                "pipeline_id": built.pipeline_id,
            }
        )

    def validate(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        from mile_meta.ui._forms import FormError, spec_from_form

        try:
            spec, notes = spec_from_form(steps)
        except FormError as error:
            return {"ok": False, "errors": error.errors}
        return {
            "ok": True,
            "notes": notes,
            "spec": spec.to_dict(),
            "pipeline_id": spec.pipeline_id,
            "description": spec.describe(),
        }

    def evaluate(
        self,
        session_id: str,
        steps: list[dict[str, Any]],
        *,
        parent_id: str | None,
        author: str,
        action: str,
        expected_revision: int | None,
        cv: int = 5,
    ) -> Job:
        """Validate the edited pipeline and cross-validate it in the background."""
        from mile_meta.kb import StaleSessionError, Workflows
        from mile_meta.ui._forms import FormError, spec_from_form

        try:
            spec, _ = spec_from_form(steps)
        except FormError as error:
            raise WorkbenchError(
                "invalid pipeline: " + "; ".join(f"{k}: {v}" for k, v in error.errors.items())
            ) from None
        if author not in ("recommendation", "user"):
            raise WorkbenchError(f"unknown author {author!r}")
        session = self.call(lambda: Workflows(self._kb()).session(session_id))
        if expected_revision is not None and session.revision != expected_revision:
            raise WorkbenchError(
                str(
                    StaleSessionError(
                        f"session {session.name!r} changed in another tab or window (now at "
                        f"revision {session.revision}, this page had {expected_revision}); "
                        "reload the history, then evaluate again"
                    )
                ),
                409,
            )
        state = self._state(session_id)
        expected = _expected_seconds(state, spec.pipeline_id, cv)
        if parent_id is not None and author == "user":
            action = self.call(
                lambda: _edit_action(Workflows(self._kb()), parent_id, spec.to_dict())
            )

        def work(job: Job) -> dict[str, Any]:
            from mile_meta.evaluate import evaluate_pipeline
            from mile_meta.kb import KnowledgeBase
            from mile_meta.metrics import resolve_metric
            from mile_meta.recommend import compare_evaluation

            job.emit(
                {
                    "type": "start",
                    "description": spec.describe(),
                    "expected_seconds": expected,
                    "folds": cv,
                }
            )
            done = threading.Event()

            def tick() -> None:  # the page's clock between folds: elapsed against expected
                while not done.wait(0.5):
                    job.emit({"type": "progress", "expected_seconds": expected})

            def fold_finished(finished: int, total: int, mean_so_far: float) -> None:
                job.emit(
                    {
                        "type": "fold",
                        "done": finished,
                        "total": total,
                        "score": mean_so_far,
                        "expected_seconds": expected,
                    }
                )

            threading.Thread(target=tick, daemon=True).start()
            try:
                with KnowledgeBase.open(self.kb_path, must_exist=True) as kb:
                    error = None
                    comparison = None
                    try:
                        with self._fold_lock:
                            result = evaluate_pipeline(
                                spec,
                                state.dataset,
                                metric=session.metric,
                                cv=cv,
                                kb=kb,
                                record=True,
                                cache=self.fold_cache,
                                progress=fold_finished,
                            )
                    except MileMetaError as failure:
                        result, error = None, str(failure).splitlines()[0]
                    if result is not None:
                        job.emit({"type": "comparing"})
                        # the prediction (ranked without this data's own runs) and the
                        # knowledge base's best on similar data, as `mile-meta evaluate` says
                        with contextlib.suppress(MileMetaError):
                            comparison = compare_evaluation(result, state.dataset, kb)
                    predicted = None
                    if comparison is not None and comparison.predicted is not None:
                        lower, upper = comparison.lower, comparison.upper
                        if lower is not None and upper is not None:
                            predicted = (comparison.predicted, lower, upper)
                    metric = resolve_metric(session.metric)
                    version = Workflows(kb).add_version(
                        session_id,
                        expected_revision=None,  # checked when the request came in
                        author=author,
                        action=action,
                        spec=spec.to_dict(),
                        pipeline_id=spec.pipeline_id,
                        metric=metric.name,
                        higher_is_better=metric.higher_is_better,
                        parent_id=parent_id,
                        status="ok" if result is not None else "failed",
                        error=error,
                        mean=result.mean if result else None,
                        std=result.std if result else None,
                        fold_scores=result.fold_scores if result else (),
                        fit_seconds=result.fit_seconds if result else None,
                        total_seconds=result.total_seconds if result else None,
                        cached_folds=result.cached_folds if result else 0,
                        predicted=predicted,
                    )
                    # this page's own change: it must not look like another tab's
                    revision = Workflows(kb).session(session_id).revision
            finally:
                done.set()
            self.warm_up()  # the new local run changes the next ranking's meta-learner
            if error is not None:
                raise WorkbenchError(
                    f"{spec.describe()} failed: {error} (kept as version {version.number})"
                )
            return json_safe(
                {
                    "version": version.to_dict(),
                    "revision": revision,
                    "comparison": None
                    if comparison is None
                    else {**json_safe(comparison), "verdict": comparison.verdict},
                }
            )

        return self.jobs.start("evaluate", session_id, work)

    def compare(self, version_a: str, version_b: str) -> dict[str, Any]:
        from mile_meta.kb import Workflows, compare_versions

        def compute() -> dict[str, Any]:
            workflows = Workflows(self._kb())
            a, b = workflows.version(version_a), workflows.version(version_b)
            if a.session_id != b.session_id:
                raise WorkbenchError("the two versions belong to different sessions")
            return compare_versions(a, b).to_dict()

        return json_safe(self.call(compute))

    # -- cruise-control and autopilot ------------------------------------------------------
    @staticmethod
    def constraints(form: dict[str, Any]) -> Any:
        from mile_meta.search import Constraints, parse_duration, parse_pins, parse_size

        pins = [line.strip() for line in str(form.get("pins") or "").splitlines() if line.strip()]

        def text(name: str) -> str | None:
            value = str(form.get(name) or "").strip()
            return value or None

        fit = text("max_fit_time")
        size = text("max_model_size")
        return Constraints(
            include=tuple(form.get("include") or ()),
            exclude=tuple(form.get("exclude") or ()),
            pinned=parse_pins(pins),
            interpretable=bool(form.get("interpretable")),
            max_fit_seconds=parse_duration(fit) if fit else None,
            max_model_bytes=parse_size(size) if size else None,
        )

    def check_constraints(self, task_type: str, form: dict[str, Any]) -> dict[str, Any]:
        """Whether the constraints leave anything to search, and what they cut (or why not)."""
        from mile_meta.pipelines.space import search_space
        from mile_meta.search import constrained_space, parse_duration

        families = sorted({s.family for s in search_space(task_type)})
        try:
            budget = parse_duration(str(form.get("budget") or "60s"))
            constraints = self.constraints(form)
            space, cuts = constrained_space(task_type, constraints)
        except MileMetaError as error:
            return {"ok": False, "reason": str(error), "families": families}
        return json_safe(
            {
                "ok": True,
                "families": families,
                "budget_seconds": budget,
                "estimators": list(space.estimator_names),
                "cuts": [
                    {"target": c.target, "reason": c.reason, "before": c.before, "after": c.after}
                    for c in cuts
                ],
            }
        )

    def search_folder(self, session_id: str) -> Path:
        """Where the session's searches keep what they evaluated (the engine's resume folder)."""
        return self.data_dir / "searches" / _SAFE_NAME.sub("_", session_id)

    def start_search(self, session_id: str, form: dict[str, Any], *, replan: bool = False) -> Job:
        """Launch cruise-control (autopilot when no constraint is set) in the background.

        With ``replan`` the search resumes the session's last one under the form's
        constraints (the engine's resume: what they still admit is carried over, nothing is
        evaluated twice); a search still running is stopped first, keeping its best.
        """
        from mile_meta.kb import Workflows
        from mile_meta.search import SearchSettings, constrained_space, parse_duration

        running = self.jobs.running(session_id, "search")
        if running is not None and not replan:
            raise WorkbenchError("a search is already running in this session; stop it first", 409)
        if running is not None and running.stop_requested.is_set():
            raise WorkbenchError(
                "the running search is already stopping for a re-plan; wait for it", 409
            )
        state = self._state(session_id)
        session = self.call(lambda: Workflows(self._kb()).session(session_id))
        budget = parse_duration(str(form.get("budget") or "60s"))
        if budget > 24 * 3600:
            raise WorkbenchError(
                "a budget of more than a day is not a workbench search; use `mile-meta search`"
            )
        constraints = self.constraints(form)
        constrained_space(state.dataset.task_type, constraints)  # refuse before starting
        folder = self.search_folder(session_id)
        if running is not None:
            running.stop_requested.set()  # it keeps its best; the re-plan starts when it ended

        def work(job: Job) -> dict[str, Any]:
            from mile_meta.kb import KnowledgeBase
            from mile_meta.search import SearchJournal, cruise_control

            raised = threading.Event()

            def progress(update: Any) -> None:
                last = update.last
                job.emit(
                    json_safe(
                        {
                            "type": "progress",
                            "phase": update.phase,
                            "search_elapsed": update.elapsed_seconds,
                            "budget": update.budget_seconds,
                            "evaluations": update.evaluations,
                            "failures": update.failures,
                            "best_score": update.best_score,
                            "best_description": update.best_description,
                            "notes": list(update.notes)[-3:],
                            "last": None
                            if last is None
                            else {
                                "number": last.number,
                                "pipeline_id": last.candidate.pipeline_id,
                                "description": last.candidate.spec.describe(),
                                "family": last.candidate.family,
                                "score": last.score,
                                "std": last.std,
                                "status": last.status,
                                "fidelity": last.fidelity.label,
                                "fit_seconds": last.fit_seconds,
                                "reason": last.candidate.reason,
                                "error": last.error,
                            },
                        }
                    )
                )
                # the engine keeps the best so far when interrupted; ask once, at a report
                if (
                    job.stop_requested.is_set()
                    and not raised.is_set()
                    and update.phase not in ("refit", "done")
                ):
                    raised.set()
                    raise KeyboardInterrupt

            if running is not None:
                job.emit(
                    {"type": "note", "text": "stopping the running search (its best is kept)…"}
                )
                running.wait_until_finished()
            resume = replan and SearchJournal(folder, resume=True).records() != []
            note = None
            if resume:
                journal = SearchJournal(folder, resume=True)
                dropped = journal.replan(state.dataset.task_type, constraints)
                kept = sum(record[0] == "evaluation" for record in journal.records())
                note = (
                    f"re-planned from the last search: {kept} evaluation{'s' * (kept != 1)} "
                    "carried over"
                    + (f", {dropped} that the new constraints rule out dropped" if dropped else "")
                )
            elif replan:
                note = "nothing evaluated yet in this session: a new search"
            job.emit({"type": "start", "budget": budget, "replan": resume, "note": note})
            settings = SearchSettings.create(
                budget=budget,
                include=constraints.include,
                exclude=constraints.exclude,
                pinned=dict(constraints.pinned),
                max_fit_seconds=constraints.max_fit_seconds,
                interpretable=constraints.interpretable,
                max_model_bytes=constraints.max_model_bytes,
                metric=session.metric,
                record=True,
                resume_folder=str(folder),
                resume=resume,
            )
            with KnowledgeBase.open(self.kb_path, must_exist=True) as kb:
                result = cruise_control(state.dataset, kb=kb, progress=progress, settings=settings)
                summary = result.summary()
                version = None
                best = result.best
                if best is not None and best.score is not None:
                    version = Workflows(kb).add_version(
                        session_id,
                        expected_revision=None,
                        author="search",
                        action=f"{result.preset} best of {len(result.evaluations)} "
                        f"({best.fidelity.label}, {result.stopped_because})",
                        spec=best.candidate.spec.to_dict(),
                        pipeline_id=best.candidate.pipeline_id,
                        metric=result.metric,
                        higher_is_better=result.higher_is_better,
                        mean=best.score,
                        std=best.std,
                        fold_scores=best.fold_scores,
                        fit_seconds=best.fit_seconds,
                        total_seconds=result.elapsed_seconds,
                        cached_folds=best.cached_folds,
                    )
            self.warm_up()
            with self._lock:
                state.report = None  # the new local runs change the next ranking
                state.answers.clear()
                state.context = None
            return json_safe(
                {"summary": summary, "version": version.to_dict() if version else None}
            )

        return self.jobs.start("search", session_id, work)

    # -- the knowledge base browser --------------------------------------------------------
    def browse(self, table: str, **options: Any) -> dict[str, Any]:
        from mile_meta.kb import browse

        page = self.call(lambda: browse(self._kb(), table, **options))
        return json_safe(
            {
                "table": page.table,
                "columns": page.columns,
                "rows": page.rows,
                "offset": page.offset,
                "total": page.total,
            }
        )

    def query(self, sql: str, limit: int = 1000) -> dict[str, Any]:
        """Read-only SQL (what ``mile-meta kb query`` runs), the first ``limit`` rows."""
        if not sql.strip():
            raise WorkbenchError("write a SELECT statement")
        columns, rows = self.call(lambda: self._kb().query(sql))
        return json_safe({"columns": columns, "rows": rows[:limit], "total": len(rows)})

    def patterns(self, text: str) -> list[dict[str, Any]]:
        from mile_meta.patterns import ensure_corpus, list_patterns, search_patterns

        def compute() -> list[dict[str, Any]]:
            kb = self._kb()
            ensure_corpus(kb)  # one query when the bundled patterns are there already
            if not text.strip():
                return [
                    {"name": p.name, "score": None, "stages": list(p.stages), "title": p.name}
                    for p in list_patterns(kb)
                ]
            return [json_safe(hit) for hit in search_patterns(kb, text, limit=20)]

        return json_safe(self.call(compute))

    # -- plots -----------------------------------------------------------------------------
    def neighbourhood(self, session_id: str) -> dict[str, Any]:
        """A 2-D projection (principal components of log-scaled size and shape meta-features)
        of the knowledge base's datasets, with the user's dataset placed on it."""

        def compute() -> dict[str, Any]:
            kb = self._kb()
            report = self._report(session_id)
            frame = kb.qualities_frame()
            columns = [c for c in _MAP_FEATURES if c in frame.columns]
            frame = frame[columns].dropna(thresh=max(2, len(columns) - 2))
            user = pd.DataFrame([{c: report.meta_features.get(c, np.nan) for c in columns}])
            both = pd.concat([frame, user], ignore_index=True).astype(float)
            for column in columns:
                if column.startswith("NumberOf"):
                    both[column] = np.log1p(both[column].clip(lower=0))
            both = both.fillna(both.median())
            values = both.to_numpy()
            values = (values - values.mean(axis=0)) / (values.std(axis=0) + 1e-12)
            _, _, components = np.linalg.svd(values[:-1], full_matrices=False)
            projected = values @ components[:2].T
            names = kb.dataset_names(frame.index)
            return {
                "features": columns,
                "points": [
                    {
                        "id": dataset_id,
                        "name": names.get(dataset_id, dataset_id),
                        "x": float(x),
                        "y": float(y),
                    }
                    for dataset_id, (x, y) in zip(frame.index, projected[:-1], strict=True)
                ],
                "user": {
                    "name": report.dataset_name,
                    "x": float(projected[-1, 0]),
                    "y": float(projected[-1, 1]),
                },
            }

        return json_safe(self.call(compute))

    def answer(self, session_id: str, question: str) -> dict[str, Any]:
        """One knowledge-base question for the session's data, with its raw evidence points
        (learning curves, hyperparameter effects) for the plots."""

        def compute() -> dict[str, Any]:
            from mile_meta.questions import QuestionContext, answer_question

            state = self._state(session_id)
            self._report(session_id)
            if state.context is None:
                state.context = QuestionContext(state.dataset, self._kb())
            if question not in state.answers:
                state.answers[question] = answer_question(
                    question, state.dataset, self._kb(), context=state.context
                )
            answer = state.answers[question]
            return {
                "question": question,
                "title": answer.title,
                "answered": answer.answered,
                "summary": answer.summary,
                "rows": [json_safe(r) for r in answer.table],
                "points": [json_safe(p) for p in answer.evidence.points[:5000]],
            }

        return json_safe(self.call(compute, questions=True))


def _suggest_target(frame: pd.DataFrame) -> str:
    for name in frame.columns:
        if str(name).lower() in ("class", "target", "label", "y", "outcome"):
            return str(name)
    return str(frame.columns[-1])


def _task_reason(labels: pd.Series, inferred: str) -> str:
    known = labels.dropna()
    distinct = int(known.astype(str).nunique()) if len(known) else 0
    if not pd.api.types.is_numeric_dtype(labels) or pd.api.types.is_bool_dtype(labels):
        return f"{distinct} distinct non-numeric labels, so {inferred} classification"
    if inferred == "regression":
        return f"numeric with {distinct} distinct values, so regression"
    if distinct <= 2:
        return f"numeric with {distinct} distinct values, so binary classification"
    return f"{distinct} distinct whole numbers (at most 10 read as classes), so multiclass classification"


def _expected_seconds(state: _SessionState, pipeline_id: str, cv: int) -> float | None:
    report = state.report
    if report is None:
        return None
    for recommendation in report.recommendations:
        if recommendation.pipeline_id == pipeline_id and recommendation.expected_fit_seconds:
            return float(recommendation.expected_fit_seconds) * cv * 1.2
    return None


def _in_user_metric(value: float, stored: str, metric: str) -> float:
    """A stored result in the user's metric (balanced error rate → balanced accuracy)."""
    from mile_meta.ranking import KNOWLEDGE_BASE_METRICS

    for name, transform in KNOWLEDGE_BASE_METRICS.get(metric, ()):
        if name == stored and transform == "one_minus":
            return 1.0 - value
    return value


def _edit_action(workflows: Any, parent_id: str, spec: dict[str, Any]) -> str:
    """``edit of v3: learning_rate 0.1 → 0.05`` (the settings that changed)."""
    import dataclasses

    from mile_meta.kb import compare_versions

    parent = workflows.version(parent_id)
    child = dataclasses.replace(parent, spec=spec, mean=None, std=None)
    changes = compare_versions(parent, child).spec_diff
    words = ", ".join(
        f"{key.split('.')[-1]} {json.dumps(left)} → {json.dumps(right)}"
        for key, left, right in changes[:4]
    )
    more = f" and {len(changes) - 4} more" if len(changes) > 4 else ""
    return f"edit of v{parent.number}: {words}{more}" if changes else f"re-run of v{parent.number}"


def json_dumps(value: Any) -> str:
    return json.dumps(json_safe(value), allow_nan=False)
