"""``OpenMLCrawler``: incremental, resumable crawls of OpenML into a knowledge base.

A crawl resolves its scope to listings (``task/<id>`` per task, or ``flow/<id>``), lists each
listing's evaluations one measure at a time, page by page from where the crawl state says
it stopped, and writes every page — its evaluations, the setups, flows, pipelines, tasks
and datasets they refer to, and the new crawl state — in one transaction. A crawl killed at
any moment therefore resumes with exactly the records a clean crawl gives, and a later
crawl fetches only what OpenML added since (pages past the stored offset).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mile_meta.config import cache_dir as default_cache_root
from mile_meta.errors import MileMetaError
from mile_meta.records import SourceInfo
from mile_meta.sources.openml._engine import (
    Budget,
    Engine,
    Known,
    ListingJob,
    PageBatch,
    TaskBatch,
    UnavailableTask,
)
from mile_meta.sources.openml._fetch import MAX_PAGE_SIZE, OpenMLFetcher
from mile_meta.sources.openml._scope import CrawlScope
from mile_meta.sources.openml._state import (
    SOURCE_NAME,
    ListingState,
    crawl_connection_settings,
    finish_scope,
    forget_if_source_removed,
    listing_states,
    load_known,
    open_read_only,
    scope_row,
    start_scope,
    unfinished_scopes,
    write_page_batch,
    write_task_batch,
    write_unavailable,
)
from mile_meta.sources.openml._transport import (
    DEFAULT_SERVER,
    OpenMLCrawlError,
    OpenMLUnreachable,
    RetryPolicy,
    Transport,
    openml_client,
)

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "CrawlEvent",
    "CrawlPlan",
    "CrawlReport",
    "OpenMLCrawler",
    "PlannedListing",
    "PlannedScope",
]

DEFAULT_MEASURES = ("predictive_accuracy",)


@dataclass(frozen=True)
class CrawlEvent:
    """Progress of a crawl, for progress bars. ``kind`` says what just happened."""

    kind: Literal["plan", "task", "page", "retry", "note"]
    scope: str = ""
    listing: str = ""
    measure: str = ""
    evaluations: int = 0  # written by this batch
    listings_total: int = 0  # listings this crawl will work on
    listings_done: int = 0
    evaluations_total: int = 0  # written by this crawl so far
    message: str = ""


@dataclass(frozen=True)
class CrawlReport:
    """What one crawl did. Times in seconds."""

    scopes: tuple[str, ...]
    measures: tuple[str, ...]
    listings: int
    listings_finished: int
    pages: int
    evaluations_written: int
    tasks_fetched: int
    datasets_fetched: int
    datasets_without_qualities: int
    tasks_unavailable: int  # OpenML refused them (unknown, deleted, private): skipped
    flows_fetched: int
    setups_fetched: int
    setups_translated: int
    requests: int
    retries: int
    seconds: float
    budget_exhausted: bool

    @property
    def translated_share(self) -> float | None:
        return self.setups_translated / self.setups_fetched if self.setups_fetched else None


@dataclass(frozen=True)
class PlannedListing:
    listing: str
    measure: str
    start_offset: int
    finished: bool
    action: str  # what a crawl would do, in words


@dataclass(frozen=True)
class PlannedScope:
    scope: str
    measures: tuple[str, ...]
    task_ids: tuple[int, ...]
    tasks_to_fetch: tuple[int, ...]
    listings: tuple[PlannedListing, ...]
    max_evaluations: int | None


@dataclass(frozen=True)
class CrawlPlan:
    """What a crawl would fetch (``--dry-run``); nothing was written to produce it."""

    kb_path: str
    server: str
    scopes: tuple[PlannedScope, ...]


@dataclass
class _Tally:
    pages: int = 0
    evaluations: int = 0
    tasks: int = 0
    datasets: int = 0
    no_qualities: int = 0
    unavailable: int = 0
    flows: int = 0
    setups: int = 0
    translated: int = 0
    listings_done: int = 0
    scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _ScopeWork:
    scope: CrawlScope
    measures: tuple[str, ...]
    task_ids: tuple[int, ...]
    max_evaluations: int | None  # for this crawl; a later --resume is not bound by it


class OpenMLCrawler:
    """Crawls OpenML through the openml client into a knowledge base.

    ``server`` defaults to www.openml.org; ``cache_dir`` is openml's download cache
    (default: ``<mile-meta cache>/openml``). ``concurrency`` bounds the requests in flight
    (1 is polite); ``retry`` says how failures are retried; ``page_size`` is the number of
    evaluations per listing request (OpenML allows at most 10,000).
    """

    def __init__(
        self,
        *,
        server: str | None = None,
        cache_dir: str | Path | None = None,
        concurrency: int = 1,
        retry: RetryPolicy | None = None,
        page_size: int = MAX_PAGE_SIZE,
        download_data: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise MileMetaError("--concurrency must be at least 1")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise MileMetaError(
                f"the page size must be between 1 and {MAX_PAGE_SIZE} (OpenML's limit)",
                usage=True,
            )
        self.server = (server or DEFAULT_SERVER).rstrip("/")
        if not self.server.startswith(("http://", "https://")):
            raise MileMetaError(
                f"--server {self.server!r} is not a URL; pass e.g. {DEFAULT_SERVER}",
                usage=True,
            )
        self.cache_dir = (
            Path(cache_dir) if cache_dir is not None else default_cache_root() / "openml"
        )
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.download_data = download_data
        self._sleep = sleep

    # -- the client --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _client(self, on_event: Callable[[CrawlEvent], None] | None) -> Iterator[Transport]:
        def on_retry(url: str, reason: str, wait: float) -> None:
            if on_event is not None:
                on_event(CrawlEvent("retry", message=f"{reason}; retrying in {wait:.1f} s"))

        transport = Transport(
            self.retry, concurrency=self.concurrency, sleep=self._sleep, on_retry=on_retry
        )
        with openml_client(transport, server=self.server, cache_dir=self.cache_dir):
            yield transport

    def source_info(self, scopes: Sequence[str] = ()) -> SourceInfo:
        import openml

        return SourceInfo(
            name=SOURCE_NAME,
            version=f"openml-python {openml.__version__}",
            licence="CC-BY 4.0 (OpenML meta-data); each dataset has its own licence",
            url=self.server,
            description="Crawled from OpenML" + (f": {', '.join(scopes)}" if scopes else ""),
        )

    # -- planning ------------------------------------------------------------------------------
    def _resolve_tasks(self, fetcher: OpenMLFetcher, scope: CrawlScope) -> tuple[int, ...]:
        if scope.kind == "tasks":
            return tuple(scope.task_ids)
        if scope.kind == "suite":
            _, task_ids = fetcher.suite_task_ids(
                scope.value if not scope.value.isdigit() else int(scope.value)
            )
            if not task_ids:
                raise OpenMLCrawlError(f"OpenML suite {scope.value} has no tasks")
            return tuple(task_ids)
        if scope.kind == "tag":
            task_ids = fetcher.tagged_task_ids(scope.value)
            if not task_ids:
                raise OpenMLCrawlError(f"no OpenML task carries the tag {scope.value!r}")
            return tuple(task_ids)
        return ()

    def _work_list(
        self,
        connection: sqlite3.Connection | None,
        fetcher: OpenMLFetcher,
        scope: CrawlScope | None,
        measures: Sequence[str],
        resume: bool,
        max_evaluations: int | None,
    ) -> list[_ScopeWork]:
        def stored(key: str) -> dict[str, Any] | None:
            return scope_row(connection, key) if connection is not None else None

        if scope is None:
            if not resume:
                raise MileMetaError(
                    "nothing to crawl: pass --suite, --task, --tag or --flow (or --resume)",
                    usage=True,
                )
            keys = unfinished_scopes(connection) if connection is not None else []
            if not keys:
                raise MileMetaError(
                    "nothing to resume: every crawl in this knowledge base finished; start one "
                    "with --suite, --task, --tag or --flow"
                )
            scopes = [CrawlScope.parse(key) for key in keys]
        else:
            scopes = [scope]
        work = []
        for item in scopes:
            row = stored(item.key)
            chosen = tuple(dict.fromkeys(measures))
            if not chosen:
                chosen = tuple(json.loads(str(row["measures"]))) if row else DEFAULT_MEASURES
            if resume and row is not None and row["task_ids"] and item.kind != "flow":
                task_ids = tuple(int(t) for t in json.loads(str(row["task_ids"])))
            else:
                task_ids = self._resolve_tasks(fetcher, item)
            work.append(_ScopeWork(item, chosen, task_ids, max_evaluations))
        return work

    @staticmethod
    def _jobs(
        work: _ScopeWork,
        states: dict[tuple[str, str], ListingState],
        known: Known,
        resume: bool,
    ) -> list[ListingJob]:
        if work.scope.kind == "flow":
            listings: list[tuple[str, int | None]] = [(f"flow/{work.scope.value}", None)]
        else:
            listings = [(f"task/{t}", t) for t in work.task_ids]
        jobs = []
        for listing, task_id in listings:
            measures = []
            for measure in work.measures:
                state = states.get((listing, measure))
                if resume and state is not None and state.finished:
                    continue
                measures.append((measure, state.listed if state else 0))
            if task_id is not None and task_id in known.unavailable_tasks:
                continue  # OpenML refused it before; its listings were closed then
            needs_task = task_id is not None and task_id not in known.tasks
            if measures or needs_task:
                jobs.append(ListingJob(listing, task_id, tuple(measures)))
        return jobs

    def plan(
        self,
        kb_path: str | Path,
        scope: CrawlScope | None,
        measures: Sequence[str] = (),
        *,
        resume: bool = False,
        max_evaluations: int | None = None,
    ) -> CrawlPlan:
        """What :meth:`crawl` would fetch; reads OpenML (suite, tag) but writes nothing."""
        path = Path(kb_path)
        connection = open_read_only(path) if path.is_file() else None
        try:
            states = listing_states(connection) if connection is not None else {}
            known = load_known(connection) if connection is not None else Known()
            with self._client(None):
                fetcher = OpenMLFetcher(download_data=self.download_data)
                work = self._work_list(
                    connection, fetcher, scope, measures, resume, max_evaluations
                )
                fetcher.check_measures({m for item in work for m in item.measures})
        finally:
            if connection is not None:
                connection.close()
        planned = []
        for item in work:
            jobs = {job.listing: job for job in self._jobs(item, states, known, resume)}
            listings = []
            listing_names = (
                [f"flow/{item.scope.value}"]
                if item.scope.kind == "flow"
                else [f"task/{t}" for t in item.task_ids]
            )
            for listing in listing_names:
                for measure in item.measures:
                    state = states.get((listing, measure))
                    start = state.listed if state else 0
                    job = jobs.get(listing)
                    pending = job is not None and any(m == measure for m, _ in job.measures)
                    task_id = int(listing.split("/")[1]) if listing.startswith("task/") else None
                    if task_id is not None and task_id in known.unavailable_tasks:
                        action = "skip: OpenML refused this task before"
                    elif not pending:
                        action = "skip: finished (drop --resume to look for new evaluations)"
                    elif state is None:
                        action = "list all evaluations"
                    elif state.finished:
                        action = f"look for evaluations past the {start} listed"
                    else:
                        action = f"continue from offset {start}"
                    listings.append(
                        PlannedListing(
                            listing, measure, start, bool(state and state.finished), action
                        )
                    )
            planned.append(
                PlannedScope(
                    scope=item.scope.key,
                    measures=item.measures,
                    task_ids=item.task_ids,
                    tasks_to_fetch=tuple(t for t in item.task_ids if t not in known.tasks),
                    listings=tuple(listings),
                    max_evaluations=item.max_evaluations,
                )
            )
        return CrawlPlan(str(path), self.server, tuple(planned))

    # -- crawling ------------------------------------------------------------------------------
    def crawl(
        self,
        kb: KnowledgeBase,
        scope: CrawlScope | None,
        measures: Sequence[str] = (),
        *,
        resume: bool = False,
        max_evaluations: int | None = None,
        on_event: Callable[[CrawlEvent], None] | None = None,
    ) -> CrawlReport:
        """Crawl ``scope`` (or, with ``resume`` and no scope, every unfinished crawl) into ``kb``.

        ``measures`` are OpenML evaluation measures (default: the scope's earlier measures,
        or predictive_accuracy). ``max_evaluations`` caps the evaluation rows this call lists
        per scope; a scope stopped by it stays unfinished, and ``resume`` continues it.
        """
        if max_evaluations is not None and max_evaluations < 0:
            raise MileMetaError("--max-evaluations must not be negative")
        started = time.perf_counter()
        tally = _Tally()
        budget_exhausted = False
        listings_total = 0
        all_measures: list[str] = []
        if forget_if_source_removed(kb) and on_event is not None:
            on_event(
                CrawlEvent("note", message="the openml rows were removed: crawling from scratch")
            )
        with self._client(on_event) as transport, crawl_connection_settings(kb):
            fetcher = OpenMLFetcher(download_data=self.download_data)
            try:
                work = self._work_list(
                    kb.db.conn, fetcher, scope, measures, resume, max_evaluations
                )
                fetcher.check_measures({m for item in work for m in item.measures})
                for item in work:
                    all_measures.extend(m for m in item.measures if m not in all_measures)
                    exhausted, total = self._crawl_scope(kb, fetcher, item, resume, tally, on_event)
                    budget_exhausted = budget_exhausted or exhausted
                    listings_total += total
            except OpenMLUnreachable as error:
                raise OpenMLUnreachable(f"{error}; {_advice(kb)}") from error
            except _SHAPE_ERRORS as error:
                if not _raised_by_openml_client(error):
                    raise
                # Well-formed XML of the wrong shape (a proxy's page, another API): the
                # openml client indexes into it and fails; that is the server's answer.
                raise OpenMLCrawlError(
                    f"OpenML's answer from {transport.last_endpoint or self.server} is not what "
                    f"an OpenML server sends ({type(error).__name__}: {str(error)[:120]}); check "
                    f"--server {self.server}, or try later; {_advice(kb)}"
                ) from error
            requests, retries = transport.requests_sent, transport.retries
        return CrawlReport(
            scopes=tuple(tally.scopes),
            measures=tuple(all_measures),
            listings=listings_total,
            listings_finished=tally.listings_done,
            pages=tally.pages,
            evaluations_written=tally.evaluations,
            tasks_fetched=tally.tasks,
            datasets_fetched=tally.datasets,
            datasets_without_qualities=tally.no_qualities,
            tasks_unavailable=tally.unavailable,
            flows_fetched=tally.flows,
            setups_fetched=tally.setups,
            setups_translated=tally.translated,
            requests=requests,
            retries=retries,
            seconds=time.perf_counter() - started,
            budget_exhausted=budget_exhausted,
        )

    def _crawl_scope(
        self,
        kb: KnowledgeBase,
        fetcher: OpenMLFetcher,
        work: _ScopeWork,
        resume: bool,
        tally: _Tally,
        on_event: Callable[[CrawlEvent], None] | None,
    ) -> tuple[bool, int]:
        key = work.scope.key
        tally.scopes.append(key)
        with kb.transaction():
            start_scope(kb, key, list(work.measures), list(work.task_ids), work.max_evaluations)
        known = load_known(kb.db.conn)
        states = listing_states(kb.db.conn)
        jobs = self._jobs(work, states, known, resume)
        listings_total = sum(len(job.measures) for job in jobs)
        budget = Budget(work.max_evaluations)
        engine = Engine(
            fetcher, known, page_size=self.page_size, concurrency=self.concurrency, budget=budget
        )
        if on_event is not None:
            on_event(CrawlEvent("plan", scope=key, listings_total=listings_total, listings_done=0))
        info_scopes = [key]
        done_before = tally.listings_done
        for batch in engine.batches(jobs):
            with kb.transaction():
                if isinstance(batch, UnavailableTask):
                    tally.unavailable += 1
                    tally.listings_done += len(batch.measures)
                    write_unavailable(kb, [batch])
                elif isinstance(batch, TaskBatch):
                    self._count_task(batch, known, tally)
                    write_task_batch(kb, batch)
                else:
                    self._count_page(batch, known, tally)
                    write_page_batch(kb, batch, key)
                    if batch.finished:
                        tally.listings_done += 1
                        kb.record_source(
                            self.source_info(info_scopes), kb.source_counts(SOURCE_NAME)
                        )
            known.commit(batch)
            if on_event is not None:
                done = tally.listings_done - done_before
                on_event(self._event(batch, key, listings_total, done, tally.evaluations))
        exhausted = budget.exhausted and tally.listings_done - done_before < listings_total
        with kb.transaction():
            finish_scope(kb, key, finished=not exhausted)
            kb.record_source(self.source_info(info_scopes), kb.source_counts(SOURCE_NAME))
        return exhausted, listings_total

    @staticmethod
    def _count_task(batch: TaskBatch, known: Known, tally: _Tally) -> None:
        if batch.task.task_id not in known.tasks:
            tally.tasks += 1
        if batch.dataset.dataset_id not in known.datasets:
            tally.datasets += 1
            tally.no_qualities += int(not batch.dataset.has_qualities)

    def _count_page(self, batch: PageBatch, known: Known, tally: _Tally) -> None:
        for task_batch in batch.task_batches:
            self._count_task(task_batch, known, tally)
        tally.unavailable += sum(1 for u in batch.unavailable if u.task_id not in known.tasks)
        tally.pages += 1
        tally.evaluations += len(batch.evaluations)
        tally.flows += sum(1 for flow in batch.flows if flow.flow_id not in known.flows)
        for setup in batch.setups:
            if setup.setup_id not in known.setup_pipelines:
                tally.setups += 1
                tally.translated += int(setup.translation.runnable)

    @staticmethod
    def _event(
        batch: TaskBatch | PageBatch | UnavailableTask,
        scope: str,
        total: int,
        done: int,
        evaluations: int,
    ) -> CrawlEvent:
        if isinstance(batch, UnavailableTask):
            return CrawlEvent(
                "task",
                scope=scope,
                listing=f"task/{batch.task_id}",
                listings_total=total,
                listings_done=done,
                evaluations_total=evaluations,
                message=f"skipped: {batch.reason}",
            )
        if isinstance(batch, TaskBatch):
            return CrawlEvent(
                "task",
                scope=scope,
                listing=f"task/{batch.task.task_id}",
                listings_total=total,
                listings_done=done,
                evaluations_total=evaluations,
            )
        return CrawlEvent(
            "page",
            scope=scope,
            listing=batch.listing,
            measure=batch.measure,
            evaluations=len(batch.evaluations),
            listings_total=total,
            listings_done=done,
            evaluations_total=evaluations,
        )


# What the openml client raises when a well-formed answer has an unexpected shape.
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, LookupError)


def _raised_by_openml_client(error: BaseException) -> bool:
    """Whether the error comes from inside the openml package (its parsing of an answer)."""
    import openml

    package = str(Path(openml.__file__).parent)
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename.startswith(package):
            return True
        traceback = traceback.tb_next
    return False


def _advice(kb: KnowledgeBase) -> str:
    """The true next step: --resume only when a crawl was recorded as unfinished."""
    if unfinished_scopes(kb.db.conn):
        return "`mile-meta crawl --resume` continues where this crawl stopped"
    return "nothing was recorded yet, so run the same command again"
