"""``OpenMLSource``: a crawl scope as a plain :class:`~mile_meta.sources.Source`.

``kb.ingest(OpenMLSource(...))`` fetches the scope from scratch and replaces the knowledge
base's "openml" rows in one transaction: simple, but neither incremental nor resumable, and
it writes no crawl state or raw flows. For anything bigger than a few tasks use
:meth:`OpenMLCrawler.crawl` (``mile-meta crawl``), which shares the fetching code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mile_meta.records import Record, SourceInfo
from mile_meta.sources._base import Source
from mile_meta.sources.openml._crawler import DEFAULT_MEASURES, OpenMLCrawler
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
from mile_meta.sources.openml._transport import RetryPolicy

__all__ = ["OpenMLSource"]


class OpenMLSource(Source):
    """The tasks, datasets, qualities, pipelines and evaluations of one OpenML scope."""

    name = "openml"

    def __init__(
        self,
        scope: CrawlScope,
        measures: Sequence[str] = DEFAULT_MEASURES,
        *,
        server: str | None = None,
        cache_dir: str | Path | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_evaluations: int | None = None,
    ) -> None:
        self.scope = scope
        self.measures = tuple(dict.fromkeys(measures)) or DEFAULT_MEASURES
        self.max_evaluations = max_evaluations
        self._crawler = OpenMLCrawler(
            server=server, cache_dir=cache_dir, retry=retry, page_size=page_size
        )

    def info(self) -> SourceInfo:
        return self._crawler.source_info([self.scope.key])

    def estimated_records(self) -> int | None:
        return self.max_evaluations

    def records(self) -> Iterator[Record]:
        crawler = self._crawler
        with crawler._client(None):
            fetcher = OpenMLFetcher(download_data=crawler.download_data)
            fetcher.check_measures(self.measures)
            task_ids = crawler._resolve_tasks(fetcher, self.scope)
            if self.scope.kind == "flow":
                jobs = [
                    ListingJob(
                        f"flow/{self.scope.value}", None, tuple((m, 0) for m in self.measures)
                    )
                ]
            else:
                jobs = [
                    ListingJob(f"task/{t}", t, tuple((m, 0) for m in self.measures))
                    for t in task_ids
                ]
            known = Known()
            engine = Engine(
                fetcher, known, page_size=crawler.page_size, budget=Budget(self.max_evaluations)
            )
            for batch in engine.batches(jobs):
                if isinstance(batch, UnavailableTask):  # OpenML refused it: nothing to yield
                    known.commit(batch)
                    continue
                # a worker may repeat what another batch brought first; yield it once
                task_batches = [batch] if isinstance(batch, TaskBatch) else batch.task_batches
                for task_batch in task_batches:
                    if task_batch.task.task_id not in known.tasks:
                        yield from task_batch.records
                if isinstance(batch, PageBatch):
                    for setup in batch.setups:
                        if setup.setup_id not in known.setup_pipelines:
                            yield setup.pipeline
                    yield from batch.evaluations
                known.commit(batch)
