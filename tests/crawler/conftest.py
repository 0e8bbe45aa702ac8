"""Fixtures for the crawler tests: a replay OpenML server the real openml client talks to.

The server starts once per session on a fixed 127.0.0.1 port (openml's cache path holds
host and port) and serves recorded OpenML responses from ``../shared/openml-responses``
plus ``tests/crawler/fixtures``; tests needing it are skipped when the recorded responses
are not next to the checkout.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay import RECORDED, ReplayServer, recorded_available

MEASURES = ("predictive_accuracy", "area_under_roc_curve")
PAGE_SIZE = 7
# Columns that say when, not what: left out when two knowledge bases are compared.
_CLOCK_COLUMNS = {"updated_at", "fetched_at", "started_at", "ingested_at", "applied_at"}
_COMPARED_TABLES = (
    "datasets",
    "dataset_origins",
    "qualities",
    "tasks",
    "pipelines",
    "pipeline_origins",
    "evaluations",
    "openml_crawl_state",
    "openml_crawls",
    "openml_fetched",
    "openml_flows",
    "openml_flow_components",
    "openml_flow_parameters",
    "openml_setups",
    "openml_setup_parameters",
    "openml_runs",
    "sources",
)


def require_recorded() -> None:
    if not recorded_available():
        pytest.skip(
            f"recorded OpenML responses not found at {RECORDED}: the replay server serves them "
            "from ../shared/openml-responses next to the checkout"
        )


@pytest.fixture(scope="session")
def replay_server() -> Iterator[ReplayServer]:
    require_recorded()
    server = ReplayServer()
    yield server
    server.close()


@pytest.fixture
def openml_server(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    """The session's replay server, with no faults queued and an empty request log."""
    replay_server.reset()
    yield replay_server
    replay_server.reset()


@pytest.fixture
def make_crawler(openml_server: ReplayServer, tmp_path: Path) -> Any:
    """Build an OpenMLCrawler pointed at the replay server, with fast retries."""
    from mile_meta.sources.openml import OpenMLCrawler, RetryPolicy

    def make(**kwargs: Any) -> OpenMLCrawler:
        kwargs.setdefault("server", openml_server.url)
        kwargs.setdefault("cache_dir", tmp_path / "openml-cache")
        kwargs.setdefault("page_size", PAGE_SIZE)
        kwargs.setdefault(
            "retry", RetryPolicy(attempts=4, first_wait_seconds=0.01, max_wait_seconds=0.05)
        )
        return OpenMLCrawler(**kwargs)

    return make


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the crawler is responsible for, without timestamps, sorted."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = {}
        for table in _COMPARED_TABLES:
            cursor = connection.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            keep = [i for i, name in enumerate(names) if name not in _CLOCK_COLUMNS]
            result[table] = sorted(
                (tuple(row[i] for i in keep) for row in cursor.fetchall()), key=repr
            )
        return result
    finally:
        connection.close()


@pytest.fixture(scope="session")
def clean_suite_snapshot(
    replay_server: ReplayServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The knowledge base rows of one uninterrupted crawl of suite 99 (both measures)."""
    from mile_meta.kb import KnowledgeBase
    from mile_meta.sources.openml import CrawlScope, OpenMLCrawler

    folder = tmp_path_factory.mktemp("clean-crawl")
    crawler = OpenMLCrawler(
        server=replay_server.url, cache_dir=folder / "cache", page_size=PAGE_SIZE
    )
    with KnowledgeBase.open(folder / "kb.sqlite") as kb:
        crawler.crawl(kb, CrawlScope.suite(99), MEASURES)
    return snapshot(folder / "kb.sqlite")
