"""The crawl engine: workers fetch pages from OpenML, one consumer writes them in order.

A job is one listing (``task/3`` or ``flow/8353``) with the measures to list and where each
stands. Workers (``concurrency`` threads; the transport keeps at most that many requests in
flight) turn each page of evaluations into a self-contained :class:`PageBatch`: the page's
rows, plus every task, dataset, setup, flow and pipeline they refer to that the consumer has
not committed yet. The consumer (the knowledge-base writer, or ``OpenMLSource.records``)
handles one batch at a time and calls :meth:`Known.commit`; a batch is therefore always
consistent on its own, which is what makes a crawl killed between two batches resumable.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mile_meta.pipelines import COMPONENTS, family_of
from mile_meta.pipelines.translate import Translation
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    TaskRecord,
    dataset_key,
)
from mile_meta.sources.openml._fetch import (
    MAX_PAGE_SIZE,
    DatasetInfo,
    EntityUnavailable,
    FlowNode,
    OpenMLFetcher,
    SetupInfo,
    TaskInfo,
)
from mile_meta.sources.openml._measures import higher_is_better
from mile_meta.sources.openml._parse import ListedEvaluation
from mile_meta.sources.openml._translate import (
    flow_class_name,
    flow_description,
    translate_openml_setup,
)

__all__ = [
    "Budget",
    "Engine",
    "Known",
    "ListingJob",
    "PageBatch",
    "SetupRow",
    "TaskBatch",
    "UnavailableTask",
    "task_key",
]

_FINISHED = object()


def task_key(task_id: int) -> str:
    """The knowledge base's id of an OpenML task."""
    return f"openml-task:{int(task_id)}"


@dataclass(frozen=True)
class ListingJob:
    listing: str  # "task/3" or "flow/8353"
    task_id: int | None  # fetched before the listing (task listings)
    measures: tuple[tuple[str, int], ...]  # (measure, offset to start at)


@dataclass(frozen=True)
class TaskBatch:
    """A task and its dataset, as knowledge-base records."""

    task: TaskInfo
    dataset: DatasetInfo
    records: tuple[Record, ...]


@dataclass(frozen=True)
class UnavailableTask:
    """A task OpenML will not give (unknown, deleted, private dataset): recorded and skipped.

    ``listing`` and ``measures`` name the task's listings this ends, when it was met as the
    first step of a task listing.
    """

    task_id: int
    reason: str
    listing: str | None = None
    measures: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetupRow:
    """A setup met for the first time, with the pipeline it became."""

    setup_id: int
    flow_id: int
    setup: SetupInfo | None  # None: OpenML did not list it
    translation: Translation
    pipeline: PipelineRecord


@dataclass
class PageBatch:
    """One page of one listing and everything new it refers to."""

    listing: str
    measure: str
    offset: int
    limit: int
    rows: list[ListedEvaluation]
    finished: bool
    task_batches: list[TaskBatch] = field(default_factory=list)
    flows: list[FlowNode] = field(default_factory=list)
    setups: list[SetupRow] = field(default_factory=list)
    evaluations: list[EvaluationRecord] = field(default_factory=list)
    unavailable: list[UnavailableTask] = field(default_factory=list)
    skipped_tasks: set[int] = field(default_factory=set)  # rows of these tasks are not written

    @property
    def last_run_id(self) -> int | None:
        return max((row.run_id for row in self.rows), default=None)

    def records(self) -> Iterator[Record]:
        """Tasks, datasets and pipelines first, then evaluations (the ``Source`` order)."""
        for task_batch in self.task_batches:
            yield from task_batch.records
        for setup in self.setups:
            yield setup.pipeline
        yield from self.evaluations


@dataclass
class _Failed:
    error: BaseException


class Budget:
    """At most ``limit`` evaluation rows listed in this crawl (None: no limit)."""

    def __init__(self, limit: int | None) -> None:
        self._remaining = limit
        self._lock = threading.Lock()

    def reserve(self, wanted: int) -> int:
        with self._lock:
            if self._remaining is None:
                return wanted
            granted = min(wanted, self._remaining)
            self._remaining -= granted
            return granted

    def release(self, unused: int) -> None:
        with self._lock:
            if self._remaining is not None:
                self._remaining += unused

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self._remaining is not None and self._remaining <= 0


class Known:
    """What the consumer has committed, and what workers fetched but nobody committed yet."""

    def __init__(
        self,
        *,
        tasks: Iterable[int] = (),
        datasets: Iterable[int] = (),
        flows: Iterable[int] = (),
        setup_pipelines: dict[int, str] | None = None,
        unavailable_tasks: Iterable[int] = (),
    ) -> None:
        self.lock = threading.Lock()
        self.tasks = set(tasks)
        self.datasets = set(datasets)
        self.flows = set(flows)
        self.setup_pipelines = dict(setup_pipelines or {})
        self.unavailable_tasks = set(unavailable_tasks)
        self.pending_tasks: dict[int, TaskBatch | UnavailableTask] = {}
        self.pending_setups: dict[int, SetupRow] = {}
        self.flow_cache: dict[int, FlowNode] = {}
        self._entity_locks: dict[tuple[str, int], threading.Lock] = {}

    def entity_lock(self, kind: str, entity_id: int) -> threading.Lock:
        """One fetch of an entity at a time: openml's disk cache is not safe for two."""
        with self.lock:
            return self._entity_locks.setdefault((kind, entity_id), threading.Lock())

    def commit(self, batch: PageBatch | TaskBatch | UnavailableTask) -> None:
        with self.lock:
            if isinstance(batch, UnavailableTask):
                self._unavailable(batch)
                return
            task_batches = [batch] if isinstance(batch, TaskBatch) else batch.task_batches
            for task_batch in task_batches:
                self.tasks.add(task_batch.task.task_id)
                self.datasets.add(task_batch.dataset.dataset_id)
                self.pending_tasks.pop(task_batch.task.task_id, None)
            if isinstance(batch, PageBatch):
                for unavailable in batch.unavailable:
                    self._unavailable(unavailable)
                for flow in batch.flows:
                    self.flows.add(flow.flow_id)
                for setup in batch.setups:
                    self.setup_pipelines[setup.setup_id] = setup.pipeline.pipeline_id
                    self.pending_setups.pop(setup.setup_id, None)

    def _unavailable(self, item: UnavailableTask) -> None:
        self.tasks.add(item.task_id)
        self.unavailable_tasks.add(item.task_id)
        self.pending_tasks.pop(item.task_id, None)


def task_records(task: TaskInfo, dataset: DatasetInfo) -> tuple[Record, ...]:
    """Dataset, qualities and task records of one OpenML task."""
    key = dataset_key(dataset.dataset_id)
    qualities = dict(dataset.qualities)

    def as_int(name: str) -> int | None:
        value = qualities.get(name)
        return None if value is None else int(value)

    n_classes = as_int("NumberOfClasses")
    if "Classification" in task.task_type:
        classes = task.n_class_labels or n_classes
        task_type = "binary" if classes == 2 else "multiclass"
    elif "Regression" in task.task_type:
        task_type = "regression"
    else:
        task_type = task.task_type.lower()
    records: list[Record] = [
        DatasetRecord(
            dataset_id=key,
            name=dataset.name,
            openml_id=dataset.dataset_id,
            n_rows=as_int("NumberOfInstances"),
            n_features=as_int("NumberOfFeatures"),
            n_classes=n_classes or task.n_class_labels,
            origin_key=str(dataset.dataset_id),
        )
    ]
    records.extend(QualityRecord(key, name, value) for name, value in dataset.qualities)
    records.append(
        TaskRecord(
            task_id=task_key(task.task_id),
            dataset_id=key,
            task_type=task_type,
            target=task.target,
            estimation_procedure=task.estimation_procedure,
            metric=task.evaluation_measure,
            openml_task_id=task.task_id,
        )
    )
    return tuple(records)


def pipeline_record(
    flow: FlowNode, setup: SetupInfo | None, setup_id: int, translation: Translation
) -> PipelineRecord:
    """The knowledge-base pipeline of a setup: its spec, or a ``runnable=False`` description."""
    origin = f"setup:{setup_id}"
    if translation.spec is not None:
        spec = translation.spec
        kind = COMPONENTS[spec.estimator.component].kind
        return PipelineRecord(
            pipeline_id=spec.pipeline_id,
            spec_json=spec.to_json(),
            family=family_of(spec),
            origin_key=origin,
            runnable=True,
            task_type="regression" if kind == "regressor" else "classification",
        )
    description = flow_description(flow, setup, setup_id)
    estimator = COMPONENTS.get(flow_class_name(flow).rsplit(".", 1)[-1])
    return PipelineRecord(
        pipeline_id=hashlib.sha256(description.encode()).hexdigest()[:16],
        spec_json=description,
        family=estimator.family if estimator is not None else "other",
        origin_key=origin,
        runnable=False,
    )


class Engine:
    """Runs listing jobs on worker threads and yields their batches in a consumable order."""

    def __init__(
        self,
        fetcher: OpenMLFetcher,
        known: Known,
        *,
        page_size: int = MAX_PAGE_SIZE,
        concurrency: int = 1,
        budget: Budget | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.fetcher = fetcher
        self.known = known
        self.page_size = page_size
        self.concurrency = max(1, concurrency)
        self.budget = budget or Budget(None)
        self.stop = threading.Event()

    # -- driving ---------------------------------------------------------------------------
    def batches(self, jobs: list[ListingJob]) -> Iterator[TaskBatch | PageBatch | UnavailableTask]:
        """Batches of every job; jobs start in order, ``concurrency`` at a time."""
        todo: queue.Queue[ListingJob | None] = queue.Queue()
        for job in jobs:
            todo.put(job)
        workers = min(self.concurrency, max(1, len(jobs)))
        for _ in range(workers):
            todo.put(None)
        out: queue.Queue[object] = queue.Queue(maxsize=2 * workers)
        threads = [
            threading.Thread(
                target=self._work, args=(todo, out), daemon=True, name=f"openml-crawl-{i}"
            )
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        running = workers
        try:
            while running:
                item = out.get()
                if item is _FINISHED:
                    running -= 1
                elif isinstance(item, _Failed):
                    raise item.error
                else:
                    yield item  # type: ignore[misc]
        finally:
            self.stop.set()
            # Unblock workers waiting to hand over a batch. One inside a request stops when
            # the transport closes; the threads are daemons, so do not wait for them long.
            deadline = time.monotonic() + 2.0
            while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    out.get(timeout=0.05)

    def _put(self, out: queue.Queue[object], item: object) -> bool:
        while not self.stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, todo: queue.Queue[ListingJob | None], out: queue.Queue[object]) -> None:
        try:
            while not self.stop.is_set():
                job = todo.get()
                if job is None:
                    break
                for batch in self._run_job(job):
                    if not self._put(out, batch):
                        return
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(out, _Failed(error))
            return
        self._put(out, _FINISHED)

    # -- one job ---------------------------------------------------------------------------
    def _run_job(self, job: ListingJob) -> Iterator[TaskBatch | PageBatch | UnavailableTask]:
        if job.task_id is not None:
            with self.known.lock:
                if job.task_id in self.known.unavailable_tasks:
                    return
            first = self._task_batch(job.task_id)
            if isinstance(first, UnavailableTask):
                measures = tuple(measure for measure, _ in job.measures)
                yield UnavailableTask(first.task_id, first.reason, job.listing, measures)
                return
            if first is not None:
                yield first
        for measure, start in job.measures:
            offset = start
            while not self.stop.is_set():
                limit = self.budget.reserve(self.page_size)
                if limit == 0:
                    return
                rows = self.fetcher.evaluation_page(
                    job.listing, measure, offset=offset, limit=limit
                )
                self.budget.release(limit - len(rows))
                finished = len(rows) < limit
                yield self._page_batch(job.listing, measure, offset, limit, rows, finished)
                offset += len(rows)
                if finished:
                    break

    def _task_batch(self, task_id: int) -> TaskBatch | UnavailableTask | None:
        """The task's batch; None when committed already; UnavailableTask when OpenML refuses."""
        with self.known.entity_lock("task", task_id):
            with self.known.lock:
                if task_id in self.known.tasks:
                    return None
                pending = self.known.pending_tasks.get(task_id)
            if pending is not None:
                return pending
            batch: TaskBatch | UnavailableTask
            try:
                task = self.fetcher.task(task_id)
                with self.known.entity_lock("dataset", task.dataset_id):
                    dataset = self.fetcher.dataset(task.dataset_id)
                batch = TaskBatch(task, dataset, task_records(task, dataset))
            except EntityUnavailable as error:
                batch = UnavailableTask(task_id, str(error))
            with self.known.lock:
                self.known.pending_tasks[task_id] = batch
            return batch

    def _flow(self, flow_id: int) -> FlowNode:
        with self.known.entity_lock("flow", flow_id):
            with self.known.lock:
                cached = self.known.flow_cache.get(flow_id)
            if cached is not None:
                return cached
            flow = self.fetcher.flow(flow_id)
            with self.known.lock:
                self.known.flow_cache[flow_id] = flow
            return flow

    def _page_batch(
        self,
        listing: str,
        measure: str,
        offset: int,
        limit: int,
        rows: list[ListedEvaluation],
        finished: bool,
    ) -> PageBatch:
        batch = PageBatch(listing, measure, offset, limit, rows, finished)
        if not rows:
            return batch
        for task_id in sorted({row.task_id for row in rows}):
            task_batch = self._task_batch(task_id)
            if isinstance(task_batch, UnavailableTask):
                batch.unavailable.append(task_batch)
                batch.skipped_tasks.add(task_batch.task_id)
            elif task_batch is not None:
                batch.task_batches.append(task_batch)
        with self.known.lock:
            batch.skipped_tasks.update(
                t for t in {row.task_id for row in rows} if t in self.known.unavailable_tasks
            )
        if batch.skipped_tasks:  # evaluations on tasks OpenML will not give are not kept
            rows = [row for row in rows if row.task_id not in batch.skipped_tasks]
        pipelines: dict[int, str] = {}
        flow_of_setup = {row.setup_id: row.flow_id for row in rows}
        needed: list[int] = []
        with self.known.lock:
            for setup_id in sorted(flow_of_setup):
                if setup_id in self.known.setup_pipelines:
                    pipelines[setup_id] = self.known.setup_pipelines[setup_id]
                elif setup_id in self.known.pending_setups:
                    pending = self.known.pending_setups[setup_id]
                    batch.setups.append(pending)
                    pipelines[setup_id] = pending.pipeline.pipeline_id
                else:
                    needed.append(setup_id)
        fetched = self.fetcher.setups(needed) if needed else {}
        for setup_id in needed:
            setup = fetched.get(setup_id)
            flow = self._flow(setup.flow_id if setup is not None else flow_of_setup[setup_id])
            translation = (
                translate_openml_setup(flow, setup)
                if setup is not None
                else Translation(
                    f"setup:{setup_id}", None, False, ("OpenML did not list this setup",)
                )
            )
            setup_row = SetupRow(
                setup_id,
                flow.flow_id,
                setup,
                translation,
                pipeline_record(flow, setup, setup_id, translation),
            )
            batch.setups.append(setup_row)
            pipelines[setup_id] = setup_row.pipeline.pipeline_id
            with self.known.lock:
                self.known.pending_setups[setup_id] = setup_row
        with self.known.lock:
            flow_ids = sorted({s.flow_id for s in batch.setups} - self.known.flows)
        batch.flows = [self._flow(flow_id) for flow_id in flow_ids]
        direction = higher_is_better(measure)
        # a page holds few datasets and tasks: name each once, not once per row
        datasets = {data_id: dataset_key(data_id) for data_id in {row.data_id for row in rows}}
        tasks = {task_id: task_key(task_id) for task_id in {row.task_id for row in rows}}
        append = batch.evaluations.append
        for row in rows:
            value = row.value
            if value is None or not math.isfinite(value):
                continue
            append(
                EvaluationRecord(
                    datasets[row.data_id],
                    pipelines[row.setup_id],
                    row.function,
                    value,
                    direction,
                    task_id=tasks[row.task_id],
                    run_key=str(row.run_id),
                )
            )
        return batch
