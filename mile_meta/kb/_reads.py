"""Named reads for the recommender, and views of the knowledge base (what it may see).

A *view* (:meth:`KnowledgeBaseReads.without`) is the same knowledge base with some datasets
and/or the user's local runs hidden: every read below, and ``evaluations_frame`` /
``qualities_frame`` / ``source_names``, answer as if those rows were not there. Leakage-free
experiments ("exclude OpenML 31") and ``--no-local`` are views, not arguments passed from
layer to layer. A view shares its parent's connection: close the parent, not the view.

Local runs (source ``local``) are what ``evaluate``, ``search`` and ``recommend --probe``
recorded on the user's data; :meth:`KnowledgeBaseReads.local_runs` lists them and
:meth:`KnowledgeBaseReads.forget_local_runs` removes them by dataset or by search.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import sqlite_utils

__all__ = ["LOCAL_SOURCE", "KnowledgeBaseReads", "LocalRun", "display_name"]

LOCAL_SOURCE = "local"


def display_name(dataset_id: str, name: str | None) -> str:
    """What a person reads: the dataset's name, else ``OpenML 826``, else the id."""
    if name:
        return name
    if dataset_id.startswith("openml:"):
        return f"OpenML {dataset_id.split(':', 1)[1]}"
    return dataset_id


@dataclass(frozen=True)
class LocalRun:
    """One pipeline's local result on one dataset: ``value`` is the mean over its
    ``n_evaluations`` folds/seeds (metric unit); ``search`` is the search that recorded it
    (the ``search:<id>`` run key), empty for ``evaluate`` and probes."""

    dataset_id: str
    dataset_name: str
    pipeline_id: str
    family: str
    metric: str
    value: float
    n_evaluations: int
    search: str


class KnowledgeBaseReads:
    """Mixed into :class:`~mile_meta.kb.KnowledgeBase`: its recommender-facing reads."""

    db: sqlite_utils.Database
    hidden_datasets: frozenset[str] = frozenset()
    hidden_sources: frozenset[str] = frozenset()

    # -- views ---------------------------------------------------------------------------
    def without(self, datasets: Iterable[str] = (), *, local: bool = True) -> Any:
        """This knowledge base with ``datasets`` (dataset ids) hidden, and the user's local
        runs too unless ``local``. Views stack: ``kb.without(a).without(b)`` hides both."""
        view = copy.copy(self)
        view.hidden_datasets = self.hidden_datasets | frozenset(str(d) for d in datasets)
        view.hidden_sources = self.hidden_sources | (
            frozenset() if local else frozenset({LOCAL_SOURCE})
        )
        return view

    @property
    def is_view(self) -> bool:
        """True when something is hidden."""
        return bool(self.hidden_datasets or self.hidden_sources)

    def _visible_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` (with ``dataset_id`` and/or ``source`` columns) this view shows."""
        if frame.empty or not self.is_view:
            return frame
        keep = pd.Series(True, index=frame.index)
        if self.hidden_datasets and "dataset_id" in frame.columns:
            keep &= ~frame["dataset_id"].isin(self.hidden_datasets)
        if self.hidden_sources and "source" in frame.columns:
            keep &= ~frame["source"].isin(self.hidden_sources)
        return frame[keep]

    def view_key(self) -> tuple[object, ...]:
        """What distinguishes this view's answers: hidden datasets and sources."""
        return (tuple(sorted(self.hidden_datasets)), tuple(sorted(self.hidden_sources)))

    # -- metrics and sources -------------------------------------------------------------
    def result_count(self, metric: str, sources: Sequence[str] | None = None) -> int:
        """Evaluations stored for ``metric`` (in ``sources``, visible ones only)."""
        params: list[Any] = [metric]
        where = "metric = ?"
        if sources is not None:
            where += f" AND source IN ({','.join('?' * len(sources))})"
            params.extend(sources)
        if self.hidden_sources:
            where += f" AND source NOT IN ({','.join('?' * len(self.hidden_sources))})"
            params.extend(sorted(self.hidden_sources))
        return int(
            self.db.execute(f"SELECT count(*) FROM evaluations WHERE {where}", params).fetchone()[0]
        )

    def sources_with_metrics(self, metrics: Sequence[str]) -> list[str]:
        """Visible sources holding evaluations of any of ``metrics``."""
        if not metrics:
            return []
        rows = self.db.execute(
            f"SELECT DISTINCT source FROM evaluations WHERE metric IN ({','.join('?' * len(metrics))})"
            " ORDER BY source",
            list(metrics),
        ).fetchall()
        return [str(row[0]) for row in rows if row[0] not in self.hidden_sources]

    def ingest_stamp(self) -> tuple[object, ...]:
        """Changes whenever a source is (re)ingested or local runs are recorded."""
        return tuple(self.db.execute("SELECT max(ingested_at), count(*) FROM sources").fetchone())

    # -- datasets ------------------------------------------------------------------------
    def dataset_names(self, dataset_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Readable names: the dataset's (OpenML) name where any source knows it, else how a
        corpus names it, else ``OpenML <id>`` (see :func:`display_name`)."""
        known: dict[str, str] = {}
        for dataset_id, name in self.db.execute("SELECT dataset_id, name FROM datasets"):
            if name:
                known[dataset_id] = name
        # Oboe's row labels are zero-padded ids ("00826"), not names: never shown
        for dataset_id, origin_key in self.db.execute(
            "SELECT dataset_id, origin_key FROM dataset_origins"
            " WHERE source NOT IN ('oboe', 'lcdb') ORDER BY source"
        ):
            if origin_key and not str(origin_key).strip("0123456789"):
                continue
            known.setdefault(dataset_id, origin_key)
        wanted = (
            list(dataset_ids)
            if dataset_ids is not None
            else [r[0] for r in self.db.execute("SELECT dataset_id FROM datasets")]
        )
        return {d: display_name(d, known.get(d)) for d in wanted}

    def dataset_count(self) -> int:
        """How many datasets the knowledge base holds."""
        return int(self.db.execute("SELECT count(*) FROM datasets").fetchone()[0])

    def dataset_sizes(self) -> pd.DataFrame:
        """Rows and width of every dataset, indexed by ``dataset_id``: rows from its record,
        else its largest NumberOfInstances; width its one-hot encoded feature count (Oboe's
        ``OboeEncodedFeatures`` or ``NumberOfFeaturesAfterBinarization``), else OpenML's
        ``NumberOfFeatures``."""
        return pd.read_sql_query(
            "SELECT d.dataset_id,"
            " coalesce(d.n_rows, (SELECT max(q.value) FROM qualities q"
            "  WHERE q.dataset_id = d.dataset_id AND q.name = 'NumberOfInstances')) AS rows,"
            " coalesce((SELECT max(q.value) FROM qualities q WHERE q.dataset_id = d.dataset_id"
            "  AND q.name = 'OboeEncodedFeatures'), (SELECT max(q.value) FROM qualities q"
            "  WHERE q.dataset_id = d.dataset_id AND q.name = 'NumberOfFeaturesAfterBinarization'),"
            " (SELECT max(q.value) FROM qualities q"
            "  WHERE q.dataset_id = d.dataset_id AND q.name = 'NumberOfFeatures')) AS width"
            " FROM datasets d",
            self.db.conn,
        ).set_index("dataset_id")

    def existing_datasets(self, dataset_ids: Iterable[str]) -> tuple[str, ...]:
        """Those of ``dataset_ids`` the knowledge base holds, sorted."""
        wanted = sorted(set(dataset_ids))
        if not wanted:
            return ()
        rows = self.db.execute(
            f"SELECT dataset_id FROM datasets WHERE dataset_id IN ({','.join('?' * len(wanted))})",
            wanted,
        ).fetchall()
        return tuple(sorted(str(row[0]) for row in rows))

    def dataset_rows(self, dataset_ids: Sequence[str]) -> dict[str, int]:
        """Rows of each dataset (its record, else its largest NumberOfInstances)."""
        if not dataset_ids:
            return {}
        marks = ",".join("?" * len(dataset_ids))
        rows = self.db.execute(
            "SELECT d.dataset_id, coalesce(d.n_rows, (SELECT max(q.value) FROM qualities q"
            " WHERE q.dataset_id = d.dataset_id AND q.name = 'NumberOfInstances'))"
            f" FROM datasets d WHERE d.dataset_id IN ({marks})",
            list(dataset_ids),
        ).fetchall()
        return {key: int(value) for key, value in rows if value is not None}

    # -- pipelines -----------------------------------------------------------------------
    def pipeline_descriptors(self, pipeline_ids: Sequence[str]) -> pd.DataFrame:
        """family, spec_json, origin_key and source of each pipeline (indexed by id); a
        corpus' name for it wins over a local one."""
        rows = self.db.execute(
            "SELECT p.pipeline_id, p.family, p.spec_json,"
            " (SELECT origin_key FROM pipeline_origins o WHERE o.pipeline_id = p.pipeline_id"
            "  ORDER BY o.source = 'local', o.source LIMIT 1),"
            " (SELECT source FROM pipeline_origins o WHERE o.pipeline_id = p.pipeline_id"
            "  ORDER BY o.source = 'local', o.source LIMIT 1)"
            " FROM pipelines p"
        ).fetchall()
        frame = pd.DataFrame(
            rows, columns=["pipeline_id", "family", "spec_json", "origin_key", "source"]
        ).set_index("pipeline_id")
        frame = frame.reindex(list(pipeline_ids))
        frame["family"] = frame["family"].fillna("unknown")
        return frame

    def runnable_pipelines(self, task_type: str) -> dict[str, tuple[str, str, str]]:
        """Runnable pipelines serving ``task_type``: id -> (spec JSON, family, origin key).

        Binary and multiclass pipelines serve each other: the same classifiers run on both,
        and a corpus rarely says which one it evaluated them on.
        """
        wanted = "regression" if task_type == "regression" else "classification"
        rows = self.db.execute(
            "SELECT p.pipeline_id, p.spec_json, p.family, p.task_type,"
            " (SELECT origin_key FROM pipeline_origins o WHERE o.pipeline_id = p.pipeline_id"
            "  ORDER BY o.source = 'local', o.source LIMIT 1)"
            " FROM pipelines p WHERE p.runnable = 1"
        ).fetchall()
        result = {}
        for pipeline_id, spec_json, family, pipeline_task, origin_key in rows:
            kind = "regression" if pipeline_task == "regression" else "classification"
            if pipeline_task and kind != wanted:
                continue
            result[pipeline_id] = (spec_json, family or "unknown", origin_key or "")
        return result

    # -- local runs ----------------------------------------------------------------------
    def local_results(self, metrics: Sequence[str]) -> pd.DataFrame:
        """The user's local runs of ``metrics`` as evidence, one row per (dataset, pipeline,
        metric): dataset_id, pipeline_id, metric, value (mean over folds and repeated runs,
        at the largest training size), std, n, runtime_seconds. Empty in a ``local=False``
        view. Repeated evaluations of one pipeline on one dataset are one observation."""
        columns = ["dataset_id", "pipeline_id", "metric", "value", "std", "n", "runtime_seconds"]
        if LOCAL_SOURCE in self.hidden_sources or not metrics:
            return pd.DataFrame(columns=columns)
        frame = pd.read_sql_query(
            "SELECT dataset_id, pipeline_id, metric, value, runtime_seconds, train_size"
            f" FROM evaluations WHERE source = ? AND metric IN ({','.join('?' * len(metrics))})",
            self.db.conn,
            params=[LOCAL_SOURCE, *metrics],
        )
        frame = self._visible_rows(frame)
        if frame.empty:
            return pd.DataFrame(columns=columns)
        # a subsampled search run says less than a run on all the data: keep the largest
        sizes = frame["train_size"].fillna(2**62)
        largest = sizes.groupby([frame["dataset_id"], frame["pipeline_id"], frame["metric"]])
        frame = frame[sizes == largest.transform("max")]
        grouped = frame.groupby(["dataset_id", "pipeline_id", "metric"], as_index=False).agg(
            value=("value", "mean"),
            std=("value", "std"),
            n=("value", "size"),
            runtime_seconds=("runtime_seconds", "mean"),
        )
        return grouped[columns]

    def local_qualities(self, dataset_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """Meta-features recorded with the user's local datasets."""
        if not dataset_ids:
            return {}
        result: dict[str, dict[str, float]] = {}
        for dataset_id, name, value in self.db.execute(
            "SELECT dataset_id, name, value FROM qualities WHERE source = ?"
            f" AND dataset_id IN ({','.join('?' * len(dataset_ids))})",
            [LOCAL_SOURCE, *dataset_ids],
        ):
            if value is not None:
                result.setdefault(dataset_id, {})[name] = float(value)
        return result

    def local_runs(
        self, *, dataset: str | None = None, search: str | None = None
    ) -> list[LocalRun]:
        """The user's local runs, newest datasets last; filtered by dataset id/name or by
        search id when given."""
        where, params = self._local_filter(dataset, search)
        rows = self.db.execute(
            "SELECT e.dataset_id, coalesce(d.name, e.dataset_id), e.pipeline_id,"
            " coalesce(p.family, 'unknown'), e.metric, avg(e.value), count(*),"
            " coalesce(max(CASE WHEN e.run_key LIKE 'search:%' THEN e.run_key END), '')"
            " FROM evaluations e LEFT JOIN datasets d ON d.dataset_id = e.dataset_id"
            " LEFT JOIN pipelines p ON p.pipeline_id = e.pipeline_id"
            f" WHERE {where} GROUP BY e.dataset_id, e.pipeline_id, e.metric"
            " ORDER BY e.dataset_id, e.metric, avg(e.value) DESC",
            params,
        ).fetchall()
        return [
            LocalRun(
                dataset_id=row[0],
                dataset_name=row[1],
                pipeline_id=row[2],
                family=row[3],
                metric=row[4],
                value=float(row[5]),
                n_evaluations=int(row[6]),
                search=_search_id(row[7]),
            )
            for row in rows
        ]

    def forget_local_runs(self, *, dataset: str | None = None, search: str | None = None) -> int:
        """Delete local runs (all, or of one dataset, or of one search) in one transaction;
        returns the evaluations removed. Datasets and pipelines left without a local run
        lose their local records too."""
        where, params = self._local_filter(dataset, search)
        with self.db.atomic():
            removed = self.db.execute(
                f"DELETE FROM evaluations WHERE evaluation_id IN (SELECT e.evaluation_id FROM"
                f" evaluations e WHERE {where})",
                params,
            ).rowcount
            still = "SELECT DISTINCT dataset_id FROM evaluations WHERE source = ?"
            for table in ("qualities", "dataset_origins", "tasks"):
                self.db.execute(
                    f"DELETE FROM {table} WHERE source = ? AND dataset_id NOT IN ({still})",
                    [LOCAL_SOURCE, LOCAL_SOURCE],
                )
            self.db.execute(
                "DELETE FROM pipeline_origins WHERE source = ? AND pipeline_id NOT IN"
                " (SELECT DISTINCT pipeline_id FROM evaluations WHERE source = ?)",
                [LOCAL_SOURCE, LOCAL_SOURCE],
            )
            self.db.execute(
                "DELETE FROM datasets WHERE dataset_id NOT IN (SELECT dataset_id FROM dataset_origins)"
            )
            self.db.execute(
                "DELETE FROM pipelines WHERE pipeline_id NOT IN (SELECT pipeline_id FROM pipeline_origins)"
                " AND pipeline_id NOT IN (SELECT DISTINCT pipeline_id FROM evaluations)"
            )
            left = self.db.execute(
                "SELECT count(*) FROM evaluations WHERE source = ?", [LOCAL_SOURCE]
            ).fetchone()[0]
            if left:
                # the provenance row keeps its counts current (and the ingest stamp moves)
                import datetime as dt
                import json

                counts = self.db.execute(
                    "SELECT count(DISTINCT dataset_id), count(DISTINCT pipeline_id), count(*)"
                    " FROM evaluations WHERE source = ?",
                    [LOCAL_SOURCE],
                ).fetchone()
                self.db.execute(
                    "UPDATE sources SET record_counts = ?, ingested_at = ? WHERE name = ?",
                    [
                        json.dumps(
                            {
                                "datasets": counts[0],
                                "pipelines": counts[1],
                                "evaluations": counts[2],
                            },
                            sort_keys=True,
                        ),
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        LOCAL_SOURCE,
                    ],
                )
            else:
                self.db.execute("DELETE FROM sources WHERE name = ?", [LOCAL_SOURCE])
        return int(removed)

    def has_local_dataset(self, dataset_id: str) -> bool:
        """Whether the user's own runs already recorded ``dataset_id`` (and its qualities)."""
        return (
            self.db.execute(
                "SELECT 1 FROM dataset_origins WHERE dataset_id = ? AND source = ?",
                [dataset_id, LOCAL_SOURCE],
            ).fetchone()
            is not None
        )

    # -- pipelines, sources, metrics -----------------------------------------------------
    def pipeline_spec(self, reference: str) -> tuple[str, bool] | None:
        """(spec JSON, runnable) of a pipeline named by its id or by a source's own key for
        it (an OpenML flow, an Oboe column, ...); None when the knowledge base has neither."""
        row = self.db.execute(
            "SELECT spec_json, runnable FROM pipelines WHERE pipeline_id = ?", [reference]
        ).fetchone()
        if row is None:
            row = self.db.execute(
                "SELECT p.spec_json, p.runnable FROM pipeline_origins o JOIN pipelines p"
                " ON p.pipeline_id = o.pipeline_id WHERE o.origin_key = ? ORDER BY o.source LIMIT 1",
                [reference],
            ).fetchone()
        return None if row is None else (str(row[0]), bool(row[1]))

    def pipeline_families(self) -> pd.DataFrame:
        """Every pipeline's family and spec JSON, indexed by ``pipeline_id``."""
        return pd.read_sql_query(
            "SELECT pipeline_id, family, spec_json FROM pipelines", self.db.conn
        ).set_index("pipeline_id")

    def learning_curves(self, metric: str, source: str | None = None) -> pd.DataFrame:
        """Learning curves of ``metric`` (results with a training size) from ``source``, or
        from every corpus when None (never the user's runs): dataset_id, pipeline_id, family,
        train_size, value and runtime_seconds (repeats averaged), and the source's own name
        for the learner (its origin key), one row per training size."""
        where = "e.source = ?" if source is not None else "e.source != ?"
        frame = pd.read_sql_query(
            "SELECT e.dataset_id, e.pipeline_id, p.family, e.train_size,"
            " avg(e.value) AS value, avg(e.runtime_seconds) AS runtime_seconds,"
            " (SELECT min(o.origin_key) FROM pipeline_origins o"
            "  WHERE o.pipeline_id = e.pipeline_id AND o.source = e.source) AS learner"
            " FROM evaluations e JOIN pipelines p ON p.pipeline_id = e.pipeline_id"
            f" WHERE {where} AND e.metric = ? AND e.train_size IS NOT NULL"
            " GROUP BY e.dataset_id, e.pipeline_id, e.train_size",
            self.db.conn,
            params=[source if source is not None else LOCAL_SOURCE, metric],
        )
        return self._visible_rows(frame).reset_index(drop=True)

    def runnable_specs(self) -> dict[str, str]:
        """Every runnable pipeline's spec JSON, by pipeline id (any task)."""
        rows = self.db.execute("SELECT pipeline_id, spec_json FROM pipelines WHERE runnable = 1")
        return {str(pipeline_id): str(spec_json) for pipeline_id, spec_json in rows}

    def source_stamps(self) -> str:
        """Each source with when it was last ingested: changes whenever any source does."""
        row = self.db.execute(
            "SELECT group_concat(name || ':' || ingested_at) FROM sources"
        ).fetchone()
        return str(row[0] or "")

    def metrics_held(self) -> tuple[str, ...]:
        """The metrics the knowledge base has results for, sorted."""
        rows = self.db.execute("SELECT DISTINCT metric FROM evaluations ORDER BY metric")
        return tuple(str(row[0]) for row in rows)

    def dataset_shapes(
        self, dataset_ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]:
        """(features, classes) of each of ``dataset_ids`` the knowledge base records."""
        if not dataset_ids:
            return {}
        marks = ",".join("?" * len(dataset_ids))
        rows = self.db.execute(
            f"SELECT dataset_id, n_features, n_classes FROM datasets WHERE dataset_id IN ({marks})",
            list(dataset_ids),
        ).fetchall()
        return {
            key: (
                int(features) if features is not None else None,
                int(classes) if classes is not None else None,
            )
            for key, features, classes in rows
        }

    def sources_of_datasets(
        self, dataset_ids: Sequence[str], metric: str | None = None
    ) -> tuple[str, ...]:
        """The sources with results on ``dataset_ids`` (of ``metric`` only, when given)."""
        if not dataset_ids:
            return ()
        marks = ",".join("?" * len(dataset_ids))
        params: list[Any] = list(dataset_ids)
        metric_filter = ""
        if metric is not None:
            metric_filter = " AND metric = ?"
            params.append(metric)
        rows = self.db.execute(
            f"SELECT DISTINCT source FROM evaluations WHERE dataset_id IN ({marks}){metric_filter}"
            " ORDER BY source",
            params,
        ).fetchall()
        return tuple(str(row[0]) for row in rows)

    def _local_filter(self, dataset: str | None, search: str | None) -> tuple[str, list[Any]]:
        from mile_meta.errors import KnowledgeBaseError

        where = "e.source = ?"
        params: list[Any] = [LOCAL_SOURCE]
        if dataset is not None:
            text = str(dataset).strip()
            match = self.db.execute(
                "SELECT DISTINCT o.dataset_id FROM dataset_origins o"
                " LEFT JOIN datasets d ON d.dataset_id = o.dataset_id WHERE o.source = ?"
                " AND (o.dataset_id = ? OR o.dataset_id = 'local:' || ? OR lower(d.name) = lower(?)"
                " OR o.origin_key = ?)",
                [LOCAL_SOURCE, text, text, text, text],
            ).fetchall()
            if not match:
                raise KnowledgeBaseError(
                    f"no local runs on a dataset {text!r}; list them with `mile-meta kb runs`"
                )
            ids = [row[0] for row in match]
            where += f" AND e.dataset_id IN ({','.join('?' * len(ids))})"
            params.extend(ids)
        if search is not None:
            key = str(search).strip()
            key = key if key.startswith("search:") else f"search:{key}"
            where += " AND (e.run_key = ? OR e.run_key LIKE ?)"
            params.extend([key, f"{key}:%"])
        return where, params


def _search_id(run_key: str) -> str:
    """``search:<id>[:...]`` -> ``<id>``."""
    if not run_key.startswith("search:"):
        return ""
    return run_key.split(":", 2)[1]
