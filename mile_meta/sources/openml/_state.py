"""Crawl state in the knowledge base: reading it, writing batches with it, reporting it.

Every write here happens inside the caller's ``kb.transaction()``, together with the records
of the same batch (see ``OpenMLCrawler``); the state therefore never claims a page the
knowledge base does not hold, nor the other way round.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mile_meta.sources.openml._engine import Known, PageBatch, TaskBatch, UnavailableTask
from mile_meta.sources.openml._fetch import FlowNode

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "CrawlStatus",
    "ListingState",
    "ScopeStatus",
    "crawl_connection_settings",
    "crawl_status",
    "read_crawl_status",
]

SOURCE_NAME = "openml"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ListingState:
    """How far one listing (``task/3``, measure ``predictive_accuracy``) has been crawled."""

    listing: str
    measure: str
    listed: int  # evaluations listed so far = the offset of the next page
    pages_done: int
    last_run_id: int | None
    evaluations: int  # evaluations written (listed rows that had a value)
    finished: bool  # the last page came back short: nothing more, until OpenML grows
    updated_at: str | None = None


@dataclass(frozen=True)
class ScopeStatus:
    scope: str
    measures: tuple[str, ...]
    task_ids: tuple[int, ...]
    max_evaluations: int | None
    evaluations: int  # written by crawls of this scope
    finished: bool
    started_at: str | None
    updated_at: str | None
    listings: tuple[ListingState, ...]

    @property
    def listings_finished(self) -> int:
        return sum(1 for listing in self.listings if listing.finished)


@dataclass(frozen=True)
class CrawlStatus:
    """What the crawler has put in a knowledge base."""

    path: str
    scopes: tuple[ScopeStatus, ...]
    evaluations: int
    tasks: int
    datasets: int
    datasets_without_qualities: int
    tasks_unavailable: int  # OpenML refused them (unknown, deleted, private): skipped
    flows: int
    setups: int
    setups_translated: int
    setups_exact: int
    runs: int

    @property
    def translated_share(self) -> float | None:
        """Fraction of setups translated into runnable pipeline specs."""
        return self.setups_translated / self.setups if self.setups else None


_STATE_COLUMNS = (
    "listing, measure, listed, pages_done, last_run_id, evaluations, finished, updated_at"
)


def _state_from_row(row: Iterable[Any]) -> ListingState:
    listing, measure, listed, pages, last, evaluations, finished, updated = row
    return ListingState(listing, measure, listed, pages, last, evaluations, bool(finished), updated)


def listing_states(connection: sqlite3.Connection) -> dict[tuple[str, str], ListingState]:
    if not _has_table(connection, "openml_crawl_state"):
        return {}
    rows = connection.execute(f"SELECT {_STATE_COLUMNS} FROM openml_crawl_state").fetchall()
    return {(row[0], row[1]): _state_from_row(row) for row in rows}


def scope_row(connection: sqlite3.Connection, scope: str) -> dict[str, Any] | None:
    if not _has_table(connection, "openml_crawls"):
        return None
    cursor = connection.execute("SELECT * FROM openml_crawls WHERE scope = ?", [scope])
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def unfinished_scopes(connection: sqlite3.Connection) -> list[str]:
    if not _has_table(connection, "openml_crawls"):
        return []
    return [
        row[0]
        for row in connection.execute(
            "SELECT scope FROM openml_crawls WHERE finished = 0 ORDER BY started_at, scope"
        )
    ]


def load_known(connection: sqlite3.Connection) -> Known:
    """What earlier crawls committed: fetched tasks and datasets, flows, setup → pipeline."""
    if not _has_table(connection, "openml_fetched"):
        return Known()
    fetched = connection.execute("SELECT kind, openml_id, note FROM openml_fetched").fetchall()
    return Known(
        tasks=(i for kind, i, _ in fetched if kind == "task"),
        datasets=(i for kind, i, _ in fetched if kind == "dataset"),
        unavailable_tasks=(
            i for kind, i, note in fetched if kind == "task" and note.startswith("unavailable")
        ),
        flows=(row[0] for row in connection.execute("SELECT flow_id FROM openml_flows")),
        setup_pipelines=dict(
            connection.execute("SELECT setup_id, pipeline_id FROM openml_setups").fetchall()
        ),
    )


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return (
        connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()
        is not None
    )


# -- writing (inside the caller's transaction) ---------------------------------------------------
# Connection settings while a crawl writes: the evaluations table's indexes take random
# inserts, so a larger page cache saves rereading their pages, and fewer WAL checkpoints
# copy a page written by several transactions once. (~30 % more evaluations per second at
# a few hundred thousand evaluations; measured by scripts/benchmark_crawler.py.)
_CRAWL_PRAGMAS = {"cache_size": -131_072, "wal_autocheckpoint": 10_000}  # 128 MiB; 10,000 pages


@contextlib.contextmanager
def crawl_connection_settings(kb: KnowledgeBase) -> Iterator[None]:
    """Tune the knowledge base's connection for bulk appends; restore it afterwards."""
    conn = kb.db.conn
    previous = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _CRAWL_PRAGMAS}
    try:
        for name, value in _CRAWL_PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {int(value)}")
        yield
    finally:
        for name, value in previous.items():
            conn.execute(f"PRAGMA {name} = {int(value)}")


_CRAWLER_TABLES = (
    "openml_crawl_state",
    "openml_crawls",
    "openml_fetched",
    "openml_flows",
    "openml_flow_components",
    "openml_flow_parameters",
    "openml_setups",
    "openml_setup_parameters",
    "openml_runs",
)


def forget_if_source_removed(kb: KnowledgeBase) -> bool:
    """Clear the crawl state when the knowledge base's "openml" rows were removed.

    ``kb.remove_source("openml")`` (or a rebuild) deletes the records but not the crawler's
    tables; without this, the state would claim pages the knowledge base no longer holds.
    """
    conn = kb.db.conn
    claimed = conn.execute(
        "SELECT coalesce(sum(evaluations), 0) FROM openml_crawl_state"
    ).fetchone()
    if not claimed[0]:
        return False
    present = conn.execute(
        "SELECT 1 FROM evaluations WHERE source = ? LIMIT 1", [SOURCE_NAME]
    ).fetchone()
    if present is not None:
        return False
    with kb.transaction():
        for table in _CRAWLER_TABLES:
            conn.execute(f"DELETE FROM {table}")
    return True


def start_scope(
    kb: KnowledgeBase,
    scope: str,
    measures: list[str],
    task_ids: list[int],
    max_evaluations: int | None,
) -> None:
    now = _now()
    previous = scope_row(kb.db.conn, scope)
    kb.db.conn.execute(
        "INSERT INTO openml_crawls (scope, measures, task_ids, max_evaluations, evaluations,"
        " finished, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
        " ON CONFLICT(scope) DO UPDATE SET measures = excluded.measures,"
        " task_ids = excluded.task_ids, max_evaluations = excluded.max_evaluations,"
        " finished = 0, updated_at = excluded.updated_at",
        [
            scope,
            json.dumps(measures),
            json.dumps(task_ids),
            max_evaluations,
            previous["evaluations"] if previous else 0,
            now,
            now,
        ],
    )


def finish_scope(kb: KnowledgeBase, scope: str, *, finished: bool) -> None:
    kb.db.conn.execute(
        "UPDATE openml_crawls SET finished = ?, updated_at = ? WHERE scope = ?",
        [int(finished), _now(), scope],
    )


def write_task_batch(kb: KnowledgeBase, batch: TaskBatch) -> None:
    kb.write_records(batch.records, SOURCE_NAME)
    _write_fetched(kb, [batch])


def write_unavailable(kb: KnowledgeBase, items: list[UnavailableTask]) -> None:
    """Remember tasks OpenML refused, and end the listings they would have had."""
    now = _now()
    kb.db.conn.executemany(
        "INSERT OR REPLACE INTO openml_fetched (kind, openml_id, note, fetched_at) VALUES (?, ?, ?, ?)",
        [("task", item.task_id, f"unavailable: {item.reason}", now) for item in items],
    )
    kb.db.conn.executemany(
        f"INSERT INTO openml_crawl_state ({_STATE_COLUMNS}) VALUES (?, ?, 0, 0, NULL, 0, 1, ?)"
        " ON CONFLICT(listing, measure) DO UPDATE SET finished = 1, updated_at = excluded.updated_at",
        [
            (item.listing, measure, now)
            for item in items
            if item.listing
            for measure in item.measures
        ],
    )


def _write_fetched(kb: KnowledgeBase, batches: list[TaskBatch]) -> None:
    now = _now()
    rows = []
    for batch in batches:
        rows.append(("task", batch.task.task_id, "", now))
        note = "" if batch.dataset.has_qualities else "no-qualities"
        rows.append(("dataset", batch.dataset.dataset_id, note, now))
    kb.db.conn.executemany(
        "INSERT OR REPLACE INTO openml_fetched (kind, openml_id, note, fetched_at) VALUES (?, ?, ?, ?)",
        rows,
    )


def _write_flows(kb: KnowledgeBase, flows: list[FlowNode]) -> None:
    conn = kb.db.conn
    seen: set[int] = set()
    flow_rows, component_rows, parameter_rows = [], [], []
    for top in flows:
        for flow in top.walk():
            if flow.flow_id in seen:
                continue
            seen.add(flow.flow_id)
            flow_rows.append(
                (
                    flow.flow_id,
                    flow.name,
                    flow.class_name,
                    flow.external_version,
                    flow.version,
                    flow.uploader,
                    flow.upload_date,
                    flow.language,
                    flow.dependencies,
                    flow.description,
                )
            )
            for position, (identifier, child) in enumerate(flow.components):
                component_rows.append((flow.flow_id, identifier, child.flow_id, position))
            for parameter in flow.parameters:
                parameter_rows.append(
                    (
                        flow.flow_id,
                        parameter.name,
                        parameter.data_type,
                        parameter.default_value,
                        parameter.description,
                    )
                )
    conn.executemany(
        "INSERT OR REPLACE INTO openml_flows (flow_id, name, class_name, external_version, version,"
        " uploader, upload_date, language, dependencies, description)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        flow_rows,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO openml_flow_components (parent_flow_id, identifier, child_flow_id,"
        " position) VALUES (?, ?, ?, ?)",
        component_rows,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO openml_flow_parameters (flow_id, name, data_type, default_value,"
        " description) VALUES (?, ?, ?, ?, ?)",
        parameter_rows,
    )


def write_page_batch(kb: KnowledgeBase, batch: PageBatch, scope: str) -> None:
    """Write one page's records, raw rows and crawl state (call inside ``kb.transaction()``)."""
    conn = kb.db.conn
    kb.write_records(batch.records(), SOURCE_NAME)
    if batch.task_batches:
        _write_fetched(kb, batch.task_batches)
    if batch.unavailable:
        write_unavailable(kb, batch.unavailable)
    if batch.flows:
        _write_flows(kb, batch.flows)
    if batch.setups:
        conn.executemany(
            "INSERT OR REPLACE INTO openml_setups (setup_id, flow_id, pipeline_id, translated,"
            " exact, reasons) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    s.setup_id,
                    s.flow_id,
                    s.pipeline.pipeline_id,
                    int(s.translation.runnable),
                    int(s.translation.exact),
                    json.dumps(list(s.translation.reasons)),
                )
                for s in batch.setups
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO openml_setup_parameters (setup_id, input_id, flow_id,"
            " parameter_name, full_name, data_type, default_value, value)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.setup_id,
                    p.input_id,
                    p.flow_id,
                    p.parameter_name,
                    p.full_name,
                    p.data_type,
                    p.default_value,
                    p.value,
                )
                for s in batch.setups
                if s.setup is not None
                for p in s.setup.parameters
            ],
        )
    if batch.rows:
        conn.executemany(
            "INSERT OR IGNORE INTO openml_runs (run_id, task_id, setup_id, flow_id, data_id,"
            " uploader, upload_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (r.run_id, r.task_id, r.setup_id, r.flow_id, r.data_id, r.uploader, r.upload_time)
                for r in batch.rows
                if r.task_id not in batch.skipped_tasks
            ],
        )
    previous = conn.execute(
        "SELECT pages_done, last_run_id, evaluations FROM openml_crawl_state"
        " WHERE listing = ? AND measure = ?",
        [batch.listing, batch.measure],
    ).fetchone()
    pages, last_run, evaluations = previous if previous else (0, None, 0)
    newest = batch.last_run_id
    if last_run is not None and (newest is None or last_run > newest):
        newest = last_run
    now = _now()
    conn.execute(
        f"INSERT OR REPLACE INTO openml_crawl_state ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch.listing,
            batch.measure,
            batch.offset + len(batch.rows),
            pages + 1,
            newest,
            evaluations + len(batch.evaluations),
            int(batch.finished),
            now,
        ],
    )
    conn.execute(
        "UPDATE openml_crawls SET evaluations = evaluations + ?, updated_at = ? WHERE scope = ?",
        [len(batch.evaluations), now, scope],
    )


# -- reporting -----------------------------------------------------------------------------------
def read_crawl_status(connection: sqlite3.Connection, path: str) -> CrawlStatus:
    states = listing_states(connection)
    scopes = []
    if _has_table(connection, "openml_crawls"):
        cursor = connection.execute("SELECT * FROM openml_crawls ORDER BY started_at, scope")
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            measures = tuple(json.loads(row["measures"] or "[]"))
            task_ids = tuple(json.loads(row["task_ids"] or "[]"))
            kind, _, value = row["scope"].partition(":")
            listings = [f"flow/{value}"] if kind == "flow" else [f"task/{t}" for t in task_ids]
            scopes.append(
                ScopeStatus(
                    scope=row["scope"],
                    measures=measures,
                    task_ids=task_ids,
                    max_evaluations=row["max_evaluations"],
                    evaluations=row["evaluations"] or 0,
                    finished=bool(row["finished"]),
                    started_at=row["started_at"],
                    updated_at=row["updated_at"],
                    listings=tuple(
                        states.get(
                            (listing, measure), ListingState(listing, measure, 0, 0, None, 0, False)
                        )
                        for listing in listings
                        for measure in measures
                    ),
                )
            )

    def count(sql: str) -> int:
        try:
            return int(connection.execute(sql).fetchone()[0] or 0)
        except sqlite3.OperationalError:  # a knowledge base without the crawler's tables
            return 0

    return CrawlStatus(
        path=path,
        scopes=tuple(scopes),
        evaluations=sum(state.evaluations for state in states.values()),
        tasks=count(
            "SELECT count(*) FROM openml_fetched WHERE kind = 'task' AND note NOT LIKE 'unavailable%'"
        ),
        tasks_unavailable=count(
            "SELECT count(*) FROM openml_fetched WHERE kind = 'task' AND note LIKE 'unavailable%'"
        ),
        datasets=count("SELECT count(*) FROM openml_fetched WHERE kind = 'dataset'"),
        datasets_without_qualities=count(
            "SELECT count(*) FROM openml_fetched WHERE kind = 'dataset' AND note = 'no-qualities'"
        ),
        flows=count("SELECT count(*) FROM openml_flows"),
        setups=count("SELECT count(*) FROM openml_setups"),
        setups_translated=count("SELECT count(*) FROM openml_setups WHERE translated = 1"),
        setups_exact=count("SELECT count(*) FROM openml_setups WHERE exact = 1"),
        runs=count("SELECT count(*) FROM openml_runs"),
    )


def crawl_status(kb: KnowledgeBase | str | Path) -> CrawlStatus:
    """The crawl state of a knowledge base (an open one, or a path opened read-only)."""
    from mile_meta.kb import KnowledgeBase

    if isinstance(kb, KnowledgeBase):
        return read_crawl_status(kb.db.conn, str(kb.path))
    path = Path(kb)
    with contextlib.closing(open_read_only(path)) as connection:
        return read_crawl_status(connection, str(path))


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that neither creates nor upgrades the file."""
    from mile_meta.errors import KnowledgeBaseError

    if not path.is_file():
        raise KnowledgeBaseError(
            f"no knowledge base at {path}; crawl into it with `mile-meta crawl --kb {path} --suite 99`",
            usage=True,
        )
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
