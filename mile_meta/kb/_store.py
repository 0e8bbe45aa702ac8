"""The knowledge base: one SQLite file, written through sqlite-utils.

What is written
    Records from a :class:`~mile_meta.sources.Source` (datasets, qualities, tasks, pipelines,
    evaluations) plus one ``sources`` row of provenance per ingest. Every row but datasets and
    pipelines carries the name of the source that wrote it; datasets and pipelines are shared
    (two corpora that evaluated OpenML dataset 31 meet on ``openml:31``) and are removed only
    when no source refers to them any more.
What is read
    Counts (:meth:`KnowledgeBase.stats`), a dataset's qualities and best pipelines
    (:meth:`KnowledgeBase.dataset_summary`), frames for the meta-learners
    (:meth:`KnowledgeBase.evaluations_frame`, :meth:`KnowledgeBase.qualities_frame`) and
    read-only SQL (:meth:`KnowledgeBase.query`).
Transactions
    :meth:`KnowledgeBase.ingest` replaces a source's rows inside one transaction: a process
    killed halfway leaves the previous knowledge base as it was. :meth:`KnowledgeBase.transaction`
    gives the same guarantee to writers that append (the OpenML crawler).
Schema version
    The highest migration applied (``schema_migrations``); opening a file upgrades it, and a
    file written by a newer mile-meta is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlite_utils

from mile_meta.errors import KnowledgeBaseError
from mile_meta.kb._reads import KnowledgeBaseReads
from mile_meta.kb.migrations import all_migrations
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    SourceInfo,
    TaskRecord,
)

if TYPE_CHECKING:
    from mile_meta.sources import Source

__all__ = [
    "BestPipeline",
    "DatasetSummary",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseStats",
    "evaluation_id",
]


# ``train_size`` of an evaluation on all the data (stored as NULL), larger than any real size.
FULL_DATA = 2**62

_BATCH_SIZE = 20_000
# `kb query` stops a statement after this long unless told otherwise (a recursive CTE can
# run for ever).
QUERY_TIMEOUT_SECONDS = 5.0
_ENTITY_TABLES = ("datasets", "qualities", "tasks", "pipelines", "evaluations")


def evaluation_id(source: str, record: EvaluationRecord) -> str:
    """Stable id of an evaluation, so re-ingesting the same result replaces it instead of adding."""
    key = "|".join(
        str(part)
        for part in (
            source,
            record.dataset_id,
            record.task_id,
            record.pipeline_id,
            record.metric,
            record.fold,
            record.seed,
            record.train_size,
            record.run_key,
        )
    )
    return hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


@dataclass(frozen=True)
class IngestReport:
    """What one :meth:`KnowledgeBase.ingest` wrote: rows per table, in ``seconds`` of wall time."""

    source: str
    counts: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class KnowledgeBaseStats:
    """What :meth:`KnowledgeBase.stats` reports: row counts per table (``totals``) and per
    source, the file's size in bytes, and one provenance row per ingested source."""

    path: str
    schema_version: int
    size_bytes: int
    totals: dict[str, int]
    per_source: dict[str, dict[str, int]]
    runnable_pipelines: int
    sources: list[dict[str, Any]]


@dataclass(frozen=True)
class BestPipeline:
    """A pipeline's mean result on one dataset (``value`` in the metric's unit, over
    ``n_evaluations`` folds/seeds), with the corpus it came from and its name there."""

    pipeline_id: str
    family: str
    metric: str
    value: float
    source: str
    origin_key: str
    n_evaluations: int


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset as :meth:`KnowledgeBase.dataset_summary` shows it: size, where each
    corpus knows it from, its qualities per source and its best pipelines per metric."""

    dataset_id: str
    name: str
    openml_id: int | None
    n_rows: int | None
    n_features: int | None
    n_classes: int | None
    origins: dict[str, list[str]]
    qualities: dict[str, dict[str, float | None]]  # source -> quality -> value
    best_pipelines: dict[str, list[BestPipeline]]  # metric -> best first


class KnowledgeBase(KnowledgeBaseReads):
    """A mile-meta knowledge base in one SQLite file (WAL mode).

    >>> kb = KnowledgeBase.open("kb.sqlite")          # doctest: +SKIP
    >>> kb.stats().totals["evaluations"]               # doctest: +SKIP
    """

    def __init__(self, path: Path, db: sqlite_utils.Database) -> None:
        self.path = path
        self.db = db

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, must_exist: bool = False) -> KnowledgeBase:
        """Open (and upgrade) the knowledge base at ``path``, creating it unless ``must_exist``.

        Without ``path``, the default one (``$MILE_META_KB`` or the per-user data folder) is
        opened, built from the bundled corpus snapshot first if it is not there yet: an empty
        default would answer every later question with "no results".

        A file that is not a knowledge base (empty, another application's SQLite file, not
        SQLite at all) is refused, never turned into one. A file (or folder) this process
        cannot write is opened read-only: reading works, :attr:`writable` is False and any
        write raises :class:`~mile_meta.errors.KnowledgeBaseError`.
        """
        if path is None:
            from mile_meta.kb._build import ensure_default_knowledge_base

            resolved = ensure_default_knowledge_base()
        else:
            resolved = Path(path).expanduser()
        _check_path(resolved, must_exist=must_exist)
        writable = _can_write(resolved)
        try:
            connection = _connect(resolved, writable=writable)
        except sqlite3.Error as error:
            raise KnowledgeBaseError(
                f"cannot open {resolved} ({error}); check the file's permissions or pass another --kb path"
            ) from error
        try:
            db = sqlite_utils.Database(connection)
            tables = db.table_names()
            if tables and "schema_migrations" not in tables:
                # Migrating would add our tables to someone else's database.
                raise KnowledgeBaseError(
                    f"{resolved} is an SQLite file of another application, not a mile-meta "
                    "knowledge base; pass another --kb path"
                )
            knowledge_base = cls(resolved, db)
            knowledge_base.writable = writable
            if writable:
                _with_retries(lambda: db.execute("PRAGMA journal_mode=WAL"))
                db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=OFF")
            knowledge_base._upgrade()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise KnowledgeBaseError(
                f"{resolved} is not a mile-meta knowledge base ({error}); pass another --kb path or delete the file"
            ) from error
        except BaseException:
            connection.close()
            raise
        return knowledge_base

    #: False when the file or its folder cannot be written (a read-only medium, permissions).
    writable: bool = True

    def require_writable(self, what: str = "write to it") -> None:
        """Raise a one-line :class:`KnowledgeBaseError` unless this process can write the file.

        Commands that record results call this *before* their work, so a read-only knowledge
        base never costs the user a finished result.
        """
        if not self.writable:
            raise KnowledgeBaseError(
                f"{self.path} is read-only, so mile-meta cannot {what}; make the file and its "
                "folder writable or pass another --kb path"
            )

    def close(self) -> None:
        """Close the connection (``with KnowledgeBase.open(...) as kb`` does it for you)."""
        self.db.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file (0 for a new file)."""
        if not self.db["schema_migrations"].exists():
            return 0
        row = self.db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _upgrade(self) -> None:
        migrations = all_migrations()
        newest = migrations[-1].version if migrations else 0
        current = self.schema_version
        if current > newest:
            raise KnowledgeBaseError(
                f"{self.path} has schema version {current}, newer than this mile-meta ({newest}); upgrade mile-meta"
            )
        if current == newest and self.db["schema_migrations"].exists():
            return
        self.require_writable(f"upgrade it from schema version {current} to {newest}")
        for migration in migrations:
            if migration.version <= current:
                continue
            with self.transaction():
                # Another process may have applied it while we waited for the write lock.
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
                )
                if self.schema_version >= migration.version:
                    continue
                migration.upgrade(self.db)
                self.db.table("schema_migrations").insert(
                    {
                        "version": migration.version,
                        "name": migration.name,
                        "applied_at": _now(),
                    }
                )

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[KnowledgeBase]:
        """All writes inside the block land together or not at all.

        The write lock is taken at the start (``BEGIN IMMEDIATE``): several processes writing
        at once queue on SQLite's busy timeout, then retry with backoff, instead of failing
        halfway with "database is locked". A block inside another is a savepoint.
        """
        connection = self.db.conn
        if connection.in_transaction:
            with self.db.atomic():
                yield self
            return
        self.require_writable()
        try:
            _with_retries(lambda: connection.execute("BEGIN IMMEDIATE"))
        except sqlite3.OperationalError as error:
            raise _write_error(self.path, error) from error
        try:
            yield self
        except BaseException as error:
            if connection.in_transaction:
                connection.rollback()
            if isinstance(error, sqlite3.OperationalError) and _is_read_only_error(error):
                raise _write_error(self.path, error) from error
            raise
        try:
            _with_retries(lambda: connection.execute("COMMIT"))
        except BaseException as error:
            if connection.in_transaction:
                connection.rollback()
            if isinstance(error, sqlite3.OperationalError):
                raise _write_error(self.path, error) from error
            raise

    def ingest(
        self,
        source: Source,
        *,
        replace: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Write every record of ``source`` in one transaction and record its provenance.

        With ``replace`` (the default) the source's previous rows are removed first, so
        ingesting the same source twice gives the same knowledge base.
        """
        started = dt.datetime.now(dt.UTC)
        info = source.info()
        with self.transaction():
            if replace:
                self.remove_source(info.name, _inside_transaction=True)
            counts = self.write_records(source.records(), info.name, progress=progress)
            self.record_source(info, self.source_counts(info.name))
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        return IngestReport(info.name, counts, seconds)

    def record_source(self, info: SourceInfo, counts: dict[str, int]) -> None:
        """Store (or replace) a source's provenance row with its record counts."""
        self.db.table("sources").upsert(
            {
                "name": info.name,
                "version": info.version,
                "licence": info.licence,
                "url": info.url,
                "files": json.dumps([list(pair) for pair in info.files]),
                "description": info.description,
                "ingested_at": _now(),
                "record_counts": json.dumps(counts, sort_keys=True),
            },
            pk="name",
        )

    def remove_source(self, name: str, *, _inside_transaction: bool = False) -> None:
        """Delete every row written by source ``name`` (and what only it referred to)."""
        context = contextlib.nullcontext() if _inside_transaction else self.transaction()
        with context:
            for table in (
                "qualities",
                "dataset_origins",
                "tasks",
                "pipeline_origins",
                "evaluations",
            ):
                self.db.execute(f"DELETE FROM {table} WHERE source = ?", [name])
            self.db.execute("DELETE FROM sources WHERE name = ?", [name])
            self._remove_orphans()

    def _remove_orphans(self) -> None:
        self.db.execute(
            "DELETE FROM datasets WHERE dataset_id NOT IN (SELECT dataset_id FROM dataset_origins)"
        )
        self.db.execute(
            "DELETE FROM pipelines WHERE pipeline_id NOT IN (SELECT pipeline_id FROM pipeline_origins)"
            " AND pipeline_id NOT IN (SELECT DISTINCT pipeline_id FROM evaluations)"
        )

    def write_records(
        self,
        records: Iterable[Record],
        source: str,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Upsert records for ``source``; call inside :meth:`transaction` for atomicity."""
        buffers: dict[type, list[Record]] = {
            DatasetRecord: [],
            QualityRecord: [],
            TaskRecord: [],
            PipelineRecord: [],
            EvaluationRecord: [],
        }
        counts = dict.fromkeys(_ENTITY_TABLES, 0)
        seen = 0
        for record in records:
            buffer = buffers.get(type(record))
            if buffer is None:
                raise TypeError(f"not a knowledge-base record: {type(record).__name__}")
            buffer.append(record)
            seen += 1
            if len(buffer) >= _BATCH_SIZE:
                self._flush(buffers, source, counts)
                if progress is not None:
                    progress(seen)
        self._flush(buffers, source, counts)
        if progress is not None:
            progress(seen)
        return counts

    def _flush(
        self, buffers: dict[type, list[Record]], source: str, counts: dict[str, int]
    ) -> None:
        conn = self.db.conn
        datasets: list[Any] = buffers[DatasetRecord]
        if datasets:
            conn.executemany(
                "INSERT INTO datasets (dataset_id, name, openml_id, n_rows, n_features, n_classes)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dataset_id) DO UPDATE SET"
                " name = coalesce(datasets.name, excluded.name),"
                " openml_id = coalesce(datasets.openml_id, excluded.openml_id),"
                " n_rows = coalesce(datasets.n_rows, excluded.n_rows),"
                " n_features = coalesce(datasets.n_features, excluded.n_features),"
                " n_classes = coalesce(datasets.n_classes, excluded.n_classes)",
                [
                    (d.dataset_id, d.name, d.openml_id, d.n_rows, d.n_features, d.n_classes)
                    for d in datasets
                ],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO dataset_origins (dataset_id, source, origin_key) VALUES (?, ?, ?)",
                [(d.dataset_id, source, d.origin_key or d.name) for d in datasets],
            )
            counts["datasets"] += len(datasets)
        qualities: list[Any] = buffers[QualityRecord]
        if qualities:
            conn.executemany(
                "INSERT OR REPLACE INTO qualities (dataset_id, source, name, value) VALUES (?, ?, ?, ?)",
                [(q.dataset_id, source, q.name, q.value) for q in qualities],
            )
            counts["qualities"] += len(qualities)
        tasks: list[Any] = buffers[TaskRecord]
        if tasks:
            conn.executemany(
                "INSERT OR REPLACE INTO tasks (task_id, dataset_id, source, task_type, target,"
                " estimation_procedure, metric, openml_task_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.task_id,
                        t.dataset_id,
                        source,
                        t.task_type,
                        t.target,
                        t.estimation_procedure,
                        t.metric,
                        t.openml_task_id,
                    )
                    for t in tasks
                ],
            )
            counts["tasks"] += len(tasks)
        pipelines: list[Any] = buffers[PipelineRecord]
        if pipelines:
            conn.executemany(
                "INSERT OR IGNORE INTO pipelines (pipeline_id, spec_json, family, task_type, runnable)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (p.pipeline_id, p.spec_json, p.family, p.task_type, int(p.runnable))
                    for p in pipelines
                ],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO pipeline_origins (pipeline_id, source, origin_key) VALUES (?, ?, ?)",
                [(p.pipeline_id, source, p.origin_key) for p in pipelines],
            )
            counts["pipelines"] += len(pipelines)
        evaluations: list[Any] = buffers[EvaluationRecord]
        if evaluations:
            conn.executemany(
                "INSERT OR REPLACE INTO evaluations (evaluation_id, source, dataset_id, task_id,"
                " pipeline_id, metric, value, higher_is_better, fold, seed, runtime_seconds,"
                " train_size, value_std, repeats, run_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        evaluation_id(source, e),
                        source,
                        e.dataset_id,
                        e.task_id,
                        e.pipeline_id,
                        e.metric,
                        e.value,
                        int(e.higher_is_better),
                        e.fold,
                        e.seed,
                        e.runtime_seconds,
                        e.train_size,
                        e.value_std,
                        e.repeats,
                        e.run_key,
                    )
                    for e in evaluations
                ],
            )
            counts["evaluations"] += len(evaluations)
        for buffer in buffers.values():
            buffer.clear()

    # -- reading -------------------------------------------------------------------------
    def source_counts(self, source: str) -> dict[str, int]:
        """Rows per table that ``source`` contributed."""

        def count(sql: str) -> int:
            return int(self.db.execute(sql, [source]).fetchone()[0])

        return {
            "datasets": count(
                "SELECT count(DISTINCT dataset_id) FROM dataset_origins WHERE source = ?"
            ),
            "qualities": count("SELECT count(*) FROM qualities WHERE source = ?"),
            "tasks": count("SELECT count(*) FROM tasks WHERE source = ?"),
            "pipelines": count(
                "SELECT count(DISTINCT pipeline_id) FROM pipeline_origins WHERE source = ?"
            ),
            "evaluations": count("SELECT count(*) FROM evaluations WHERE source = ?"),
        }

    def source_provenance(self, name: str) -> tuple[str, list[list[str]]] | None:
        """The version and files (name, checksum) a source was last ingested from."""
        row = self.db.execute(
            "SELECT version, files FROM sources WHERE name = ?", [name]
        ).fetchone()
        return None if row is None else (row[0], json.loads(row[1] or "[]"))

    def source_names(self) -> list[str]:
        """Names of the sources ingested so far, sorted."""
        rows = self.db.execute("SELECT name FROM sources ORDER BY name")
        return [row[0] for row in rows if row[0] not in self.hidden_sources]

    def stats(self) -> KnowledgeBaseStats:
        """Counts per entity and per source (answers from the sources table and indexes)."""
        totals = {table: self.db[table].count for table in _ENTITY_TABLES}
        per_source = {}
        sources = []
        for row in self.db.query("SELECT * FROM sources ORDER BY name"):
            per_source[row["name"]] = json.loads(row["record_counts"] or "{}")
            sources.append(
                {
                    "name": row["name"],
                    "version": row["version"],
                    "licence": row["licence"],
                    "ingested_at": row["ingested_at"],
                    "files": json.loads(row["files"] or "[]"),
                }
            )
        runnable = int(
            self.db.execute("SELECT count(*) FROM pipelines WHERE runnable = 1").fetchone()[0]
        )
        size = sum(
            path.stat().st_size for path in (self.path, Path(f"{self.path}-wal")) if path.exists()
        )
        return KnowledgeBaseStats(
            path=str(self.path),
            schema_version=self.schema_version,
            size_bytes=size,
            totals=totals,
            per_source=per_source,
            runnable_pipelines=runnable,
            sources=sources,
        )

    def resolve_dataset(self, key: str | int) -> str:
        """A dataset id from an OpenML id, a dataset id (``openml:31``) or a name."""
        text = str(key).strip()
        candidates: list[str]
        candidates = [f"openml:{int(text)}"] if text.isdigit() else [text]
        for candidate in candidates:
            if self.db.execute(
                "SELECT 1 FROM datasets WHERE dataset_id = ?", [candidate]
            ).fetchone():
                return candidate
        rows = self.db.execute(
            "SELECT dataset_id FROM datasets WHERE lower(name) = lower(?) ORDER BY openml_id IS NULL, dataset_id",
            [text],
        ).fetchall()
        if not rows:
            rows = self.db.execute(
                "SELECT DISTINCT dataset_id FROM dataset_origins WHERE lower(origin_key) = lower(?)",
                [text],
            ).fetchall()
        if not rows:
            raise KnowledgeBaseError(
                f"no dataset {text!r} in {self.path}; list some with "
                '`mile-meta kb query "SELECT dataset_id, name FROM datasets LIMIT 20"`',
                usage=True,
            )
        return str(rows[0][0])

    def best_pipelines(
        self, dataset_id: str, metric: str, *, limit: int = 5, train_size: int | None = None
    ) -> list[BestPipeline]:
        """The best pipelines on one dataset for one metric (mean over folds/seeds)."""
        direction_row = self.db.execute(
            "SELECT higher_is_better FROM evaluations WHERE dataset_id = ? AND metric = ? LIMIT 1",
            [dataset_id, metric],
        ).fetchone()
        if direction_row is None:
            return []
        order = "DESC" if direction_row[0] else "ASC"
        params: list[Any] = [dataset_id, metric]
        if train_size is not None:
            rows_sql = (
                "SELECT pipeline_id, value, source FROM evaluations"
                " WHERE dataset_id = ? AND metric = ? AND train_size = ?"
            )
            params.append(train_size)
        elif self.db.execute(
            "SELECT 1 FROM evaluations WHERE dataset_id = ? AND metric = ? AND train_size IS NOT NULL LIMIT 1",
            [dataset_id, metric],
        ).fetchone():
            # learning curves and subsampled search runs: judge each pipeline at the largest
            # training size it was run on, where no size (NULL) means all the data
            rows_sql = (
                "SELECT pipeline_id, value, source FROM (SELECT pipeline_id, value, source, train_size,"
                f" max(coalesce(train_size, {FULL_DATA})) OVER (PARTITION BY pipeline_id) AS largest"
                " FROM evaluations WHERE dataset_id = ? AND metric = ?)"
                f" WHERE coalesce(train_size, {FULL_DATA}) = largest"
            )
        else:  # the common case needs no window function: one range of the (dataset, metric) index
            rows_sql = "SELECT pipeline_id, value, source FROM evaluations WHERE dataset_id = ? AND metric = ?"
        params.append(limit)
        # origin keys and families are looked up for the top rows only
        rows = self.db.execute(
            "SELECT top.pipeline_id, p.family, top.value, top.source, top.n,"
            " (SELECT origin_key FROM pipeline_origins o WHERE o.pipeline_id = top.pipeline_id"
            " ORDER BY o.source LIMIT 1)"
            " FROM (SELECT pipeline_id, avg(value) AS value, min(source) AS source, count(*) AS n"
            f" FROM ({rows_sql}) GROUP BY pipeline_id ORDER BY value {order} LIMIT ?) AS top"
            f" JOIN pipelines p ON p.pipeline_id = top.pipeline_id ORDER BY top.value {order}",
            params,
        ).fetchall()
        return [
            BestPipeline(
                pipeline_id=row[0],
                family=row[1],
                metric=metric,
                value=float(row[2]),
                source=row[3],
                origin_key=row[5] or "",
                n_evaluations=int(row[4]),
            )
            for row in rows
        ]

    def dataset_summary(self, key: str | int, *, top: int = 5) -> DatasetSummary:
        """A dataset (OpenML id, dataset id or name) with its ``top`` best pipelines per metric."""
        dataset_id = self.resolve_dataset(key)
        row = self.db.execute(
            "SELECT dataset_id, name, openml_id, n_rows, n_features, n_classes FROM datasets WHERE dataset_id = ?",
            [dataset_id],
        ).fetchone()
        origins: dict[str, list[str]] = {}
        for source, origin_key in self.db.execute(
            "SELECT source, origin_key FROM dataset_origins WHERE dataset_id = ? ORDER BY source",
            [dataset_id],
        ):
            origins.setdefault(source, []).append(origin_key)
        qualities: dict[str, dict[str, float | None]] = {}
        for source, name, value in self.db.execute(
            "SELECT source, name, value FROM qualities WHERE dataset_id = ? ORDER BY source, name",
            [dataset_id],
        ):
            qualities.setdefault(source, {})[name] = value
        metrics = [
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT metric FROM evaluations WHERE dataset_id = ? ORDER BY metric",
                [dataset_id],
            )
        ]
        best = {metric: self.best_pipelines(dataset_id, metric, limit=top) for metric in metrics}
        return DatasetSummary(
            dataset_id=row[0],
            name=row[1],
            openml_id=row[2],
            n_rows=row[3],
            n_features=row[4],
            n_classes=row[5],
            origins=origins,
            qualities=qualities,
            best_pipelines=best,
        )

    def query(
        self,
        sql: str,
        params: Iterable[Any] = (),
        *,
        timeout: float | None = QUERY_TIMEOUT_SECONDS,
        max_rows: int | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run read-only SQL; any statement that would write is refused.

        The query stops after ``timeout`` seconds (None: no limit) or on Ctrl-C, with a
        :class:`KnowledgeBaseError`; at most ``max_rows`` rows are fetched. Nothing is
        created on disk: the connection is read-only and ``ATTACH`` is refused (attaching a
        new path would create an empty file).
        """
        import signal
        import threading
        import time

        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        interrupted = threading.Event()

        def stop_when_due() -> int:
            # called by SQLite every few thousand steps; non-zero aborts the statement
            if interrupted.is_set():
                return 1
            return int(deadline is not None and time.monotonic() > deadline)

        def refuse_attach(action: int, *args: object) -> int:
            if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK

        previous_handler = None
        if threading.current_thread() is threading.main_thread():
            # SQLite runs the query in C, where Python sees Ctrl-C only when it returns:
            # flag it, and let the progress handler abort the statement.
            previous_handler = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
        try:
            connection.execute("PRAGMA query_only = ON")
            connection.set_authorizer(refuse_attach)
            connection.set_progress_handler(stop_when_due, 10_000)
            cursor = connection.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows)
            return columns, rows
        except sqlite3.Error as error:
            message = str(error)
            if interrupted.is_set():
                raise KeyboardInterrupt from error
            if "interrupted" in message and deadline is not None and time.monotonic() > deadline:
                raise KnowledgeBaseError(
                    f"query stopped after its time limit of {timeout:g} s; "
                    "pass --timeout SECONDS for a longer one (0: none)"
                ) from error
            if "not authorized" in message:
                raise KnowledgeBaseError(
                    "kb query cannot ATTACH or DETACH databases; it reads this knowledge base only",
                    usage=True,
                ) from error
            if "readonly" in message or "query_only" in message or "read-only" in message:
                raise KnowledgeBaseError(
                    "kb query is read-only: the statement would write; use the Python API to change the knowledge base",
                    usage=True,
                ) from error
            raise KnowledgeBaseError(f"query failed: {message}", usage=True) from error
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
            connection.close()

    def evaluations_frame(
        self,
        metric: str,
        *,
        sources: Iterable[str] | None = None,
        largest_train_size: bool = True,
    ) -> pd.DataFrame:
        """Long frame of mean results: dataset_id, pipeline_id, value, runtime_seconds, n.

        Folds and seeds are averaged; for learning curves and subsampled search runs only the
        largest training size per (dataset, pipeline) is kept (no size means all the data)
        unless ``largest_train_size`` is False.
        """
        params: list[Any] = [metric]
        source_filter = ""
        if sources is not None:
            names = list(sources)
            source_filter = f" AND source IN ({','.join('?' * len(names))})"
            params.extend(names)
        frame = pd.read_sql_query(
            "SELECT dataset_id, pipeline_id, source, value, runtime_seconds, train_size,"
            " higher_is_better FROM evaluations WHERE metric = ?" + source_filter,
            self.db.conn,
            params=params,
        )
        frame = self._visible_rows(frame)
        if frame.empty:
            return frame
        if largest_train_size and frame["train_size"].notna().any():
            sizes = frame["train_size"].fillna(FULL_DATA)
            largest = sizes.groupby([frame["dataset_id"], frame["pipeline_id"]]).transform("max")
            frame = frame[sizes == largest]
        grouped = frame.groupby(["dataset_id", "pipeline_id"], as_index=False).agg(
            value=("value", "mean"),
            runtime_seconds=("runtime_seconds", "mean"),
            n=("value", "size"),
            higher_is_better=("higher_is_better", "first"),
        )
        return grouped

    def qualities_frame(self, *, sources: Iterable[str] | None = None) -> pd.DataFrame:
        """Wide frame: one row per dataset, one column per quality name.

        Where two sources give the same quality of the same dataset, the first source in
        ``sources`` order (or alphabetical order) wins.
        """
        frame = pd.read_sql_query(
            "SELECT dataset_id, source, name, value FROM qualities", self.db.conn
        )
        frame = self._visible_rows(frame)
        if sources is not None:
            order = {name: rank for rank, name in enumerate(sources)}
            frame = frame[frame["source"].isin(order)]
            frame = frame.assign(_rank=frame["source"].map(order))
        else:
            frame = frame.assign(_rank=frame["source"])
        frame = frame.sort_values("_rank").drop_duplicates(["dataset_id", "name"], keep="first")
        wide = frame.pivot(index="dataset_id", columns="name", values="value")
        wide.columns.name = None
        return wide.astype(float)

    def checksum(self, sources: Iterable[str] | None = None) -> str:
        """A digest of what the named sources put in (name, version, files, counts)."""
        names = sorted(sources) if sources is not None else self.source_names()
        digest = hashlib.sha256()
        for name in names:
            row = self.db.execute(
                "SELECT name, version, files, record_counts FROM sources WHERE name = ?", [name]
            ).fetchone()
            digest.update(json.dumps(row).encode())
        return digest.hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# How long one SQLite call waits for another process's write lock, then how often we retry.
_BUSY_TIMEOUT_SECONDS = 15.0
_RETRIES = 6
_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_path(path: Path, *, must_exist: bool) -> None:
    """Refuse what must never become a knowledge base, before SQLite touches the file."""
    if path.is_dir():
        raise KnowledgeBaseError(
            f"{path} is a folder; pass the knowledge base file, e.g. --kb {path / 'kb.sqlite'}",
            usage=True,
        )
    if not path.exists():
        if must_exist:
            raise KnowledgeBaseError(
                f"no knowledge base at {path}; build one with `mile-meta kb build --kb {path}`",
                usage=True,
            )
        if not path.parent.is_dir():
            raise KnowledgeBaseError(
                f"folder {path.parent} does not exist; create it or pass another --kb path",
                usage=True,
            )
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as error:
        raise KnowledgeBaseError(
            f"cannot read {path} ({error.strerror or error}); check its permissions"
        ) from error
    if not header:
        # SQLite would happily turn an empty file into a new database: a typo or a failed
        # copy would then silently give an empty knowledge base.
        raise KnowledgeBaseError(
            f"{path} is an empty file (0 bytes), not a knowledge base; delete it to build a "
            "new one there, or pass another --kb path"
        )
    if header != _SQLITE_HEADER:
        raise KnowledgeBaseError(
            f"{path} is not an SQLite file, so not a mile-meta knowledge base; pass another --kb path"
        )


def _can_write(path: Path) -> bool:
    """Whether this process may write the file and create its journal beside it."""
    import os

    folder_ok = os.access(path.parent, os.W_OK | os.X_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


def _connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    if writable:
        return sqlite3.connect(str(path), timeout=_BUSY_TIMEOUT_SECONDS)
    uri = path.resolve().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError:
        # A WAL file in a read-only folder cannot get its shared-memory index; nobody can
        # be writing there, so reading it as immutable is safe.
        connection.close()
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _is_busy_error(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def _is_read_only_error(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "readonly" in message or "read-only" in message


def _write_error(path: Path, error: sqlite3.OperationalError) -> KnowledgeBaseError:
    if _is_read_only_error(error):
        return KnowledgeBaseError(
            f"{path} is read-only, so mile-meta cannot write to it; make the file and its "
            "folder writable or pass another --kb path"
        )
    if _is_busy_error(error):
        return KnowledgeBaseError(
            f"{path} stayed locked by another process for over "
            f"{_BUSY_TIMEOUT_SECONDS * _RETRIES:.0f} s; try again when it has finished"
        )
    return KnowledgeBaseError(f"cannot write to {path} ({error})")


def _with_retries(action: Callable[[], Any]) -> Any:
    """Run ``action``, retrying with exponential backoff while another process holds the lock."""
    import random
    import time

    for attempt in range(_RETRIES):
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not _is_busy_error(error) or attempt == _RETRIES - 1:
                raise
            # jitter so that writers who collided do not collide again
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
