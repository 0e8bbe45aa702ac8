"""The OpenML crawler: incremental, resumable ingestion of tasks, datasets, flows, setups and
evaluations into the knowledge base, built on the ``openml`` client.

>>> from mile_meta.kb import KnowledgeBase                       # doctest: +SKIP
>>> from mile_meta.sources.openml import CrawlScope, OpenMLCrawler
>>> with KnowledgeBase.open("kb.sqlite") as kb:                  # doctest: +SKIP
...     OpenMLCrawler().crawl(kb, CrawlScope.suite(99), ["predictive_accuracy"])

See ``docs/crawler.md`` for the command line (``mile-meta crawl``) and how resuming works.
"""

from mile_meta.sources.openml._crawler import (
    CrawlEvent,
    CrawlPlan,
    CrawlReport,
    OpenMLCrawler,
    PlannedListing,
    PlannedScope,
)
from mile_meta.sources.openml._fetch import (
    DatasetInfo,
    FlowNode,
    FlowParameter,
    OpenMLFetcher,
    SetupInfo,
    SetupParameter,
    TaskInfo,
)
from mile_meta.sources.openml._graph import openml_graph
from mile_meta.sources.openml._measures import higher_is_better
from mile_meta.sources.openml._parse import ListedEvaluation, parse_evaluation_list
from mile_meta.sources.openml._scope import CrawlScope
from mile_meta.sources.openml._source import OpenMLSource
from mile_meta.sources.openml._state import (
    CrawlStatus,
    ListingState,
    ScopeStatus,
    crawl_status,
)
from mile_meta.sources.openml._translate import flow_description, translate_openml_setup
from mile_meta.sources.openml._transport import (
    DEFAULT_SERVER,
    OpenMLCrawlError,
    RetryPolicy,
    Transport,
    openml_client,
)

__all__ = [
    "DEFAULT_SERVER",
    "CrawlEvent",
    "CrawlPlan",
    "CrawlReport",
    "CrawlScope",
    "CrawlStatus",
    "DatasetInfo",
    "FlowNode",
    "FlowParameter",
    "ListedEvaluation",
    "ListingState",
    "OpenMLCrawlError",
    "OpenMLCrawler",
    "OpenMLFetcher",
    "OpenMLSource",
    "PlannedListing",
    "PlannedScope",
    "RetryPolicy",
    "ScopeStatus",
    "SetupInfo",
    "SetupParameter",
    "TaskInfo",
    "Transport",
    "crawl_status",
    "flow_description",
    "higher_is_better",
    "openml_client",
    "openml_graph",
    "parse_evaluation_list",
    "translate_openml_setup",
]
