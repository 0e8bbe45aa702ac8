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
        """
        if path is None:
            from mile_meta.kb._build import ensure_default_knowledge_base

            resolved = ensure_default_knowledge_base()
        else:
            resolved = Path(path).expanduser()
        if resolved.is_dir():
            raise KnowledgeBaseError(
                f"{resolved} is a folder; pass the knowledge base file, e.g. --kb {resolved / 'kb.sqlite'}"
            )
        if not resolved.exists():
            if must_exist:
                raise KnowledgeBaseError(
                    f"no knowledge base at {resolved}; build one with `mile-meta kb build --kb {resolved}`"
                )
            if not resolved.parent.exists():
                raise KnowledgeBaseError(
                    f"folder {resolved.parent} does not exist; create it or pass another --kb path"
                )
        connection = sqlite3.connect(str(resolved), timeout=30.0)
        try:
            db = sqlite_utils.Database(connection)
            tables = db.table_names()
            if tables and "schema_migrations" not in tables:
                # Migrating would add our tables to someone else's database.
                raise KnowledgeBaseError(
                    f"{resolved} is an SQLite file of another application, not a mile-meta "
                    "knowledge base; pass another --kb path"
                )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=OFF")
            knowledge_base = cls(resolved, db)
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
        if not self.db["schema_migrations"].exists():
            self.db.table("schema_migrations").create(
                {"version": int, "name": str, "applied_at": str}, pk="version"
            )
        current = self.schema_version
        newest = migrations[-1].version if migrations else 0
        if current > newest:
            raise KnowledgeBaseError(
                f"{self.path} has schema version {current}, newer than this mile-meta ({newest}); upgrade mile-meta"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            with self.db.atomic():
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
        """All writes inside the block land together or not at all."""
        with self.db.atomic():
            yield self

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
                '`mile-meta kb query "SELECT dataset_id, name FROM datasets LIMIT 20"`'
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
        self, sql: str, params: Iterable[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run read-only SQL; any statement that would write is refused."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True)
        try:
            connection.execute("PRAGMA query_only = ON")
            cursor = connection.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            return columns, cursor.fetchall()
        except sqlite3.Error as error:
            message = str(error)
            if "readonly" in message or "query_only" in message or "read-only" in message:
                raise KnowledgeBaseError(
                    "kb query is read-only: the statement would write; use the Python API to change the knowledge base"
                ) from error
            raise KnowledgeBaseError(f"query failed: {message}") from error
        finally:
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
