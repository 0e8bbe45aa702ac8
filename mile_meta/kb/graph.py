"""The knowledge base as a typed graph, for questions about relations.

Nodes carry ``kind`` in {dataset, pipeline, component, quality, source} and are named
``<kind>:<id>``. Edges carry ``kind``:

- ``evaluated-on``   pipeline → dataset, one per (pipeline, dataset, metric), with the mean
  ``value``, ``metric`` and ``rank`` (1 = best on that dataset under that metric);
- ``has-component``  pipeline → component (each step of its spec, with its ``position``);
- ``derived-from``   dataset/pipeline → source that contributed it;
- ``has-quality``    dataset → quality, with the ``value`` (only when asked: it is large).

The SQLite store stays the source of truth; the graph is rebuilt from it on demand.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

import networkx as nx

from mile_meta.kb._store import FULL_DATA

if TYPE_CHECKING:
    from mile_meta.kb._store import KnowledgeBase

__all__ = ["build_graph", "component_wins"]


def build_graph(
    kb: KnowledgeBase,
    *,
    metrics: list[str] | None = None,
    include_qualities: bool = False,
) -> nx.MultiDiGraph:
    """Project the knowledge base into a typed ``networkx.MultiDiGraph``."""
    graph = nx.MultiDiGraph()
    for name, version in kb.db.execute("SELECT name, version FROM sources"):
        graph.add_node(f"source:{name}", kind="source", version=version)
    for dataset_id, name in kb.db.execute("SELECT dataset_id, name FROM datasets"):
        graph.add_node(f"dataset:{dataset_id}", kind="dataset", name=name)
    for dataset_id, source in kb.db.execute(
        "SELECT DISTINCT dataset_id, source FROM dataset_origins"
    ):
        graph.add_edge(f"dataset:{dataset_id}", f"source:{source}", kind="derived-from")
    for pipeline_id, spec_json, family in kb.db.execute(
        "SELECT pipeline_id, spec_json, family FROM pipelines"
    ):
        node = f"pipeline:{pipeline_id}"
        graph.add_node(node, kind="pipeline", family=family)
        try:
            steps = json.loads(spec_json).get("steps", [])
        except (ValueError, AttributeError):
            steps = []
        for position, step in enumerate(steps):
            component = f"component:{step.get('component')}"
            graph.add_node(component, kind="component")
            graph.add_edge(node, component, kind="has-component", position=position)
    for pipeline_id, source in kb.db.execute(
        "SELECT DISTINCT pipeline_id, source FROM pipeline_origins"
    ):
        graph.add_edge(f"pipeline:{pipeline_id}", f"source:{source}", kind="derived-from")

    metric_filter = ""
    params: list[str] = []
    if metrics:
        metric_filter = f" WHERE metric IN ({','.join('?' * len(metrics))})"
        params = list(metrics)
    sized_filter = f"{metric_filter} AND" if metric_filter else " WHERE"
    has_sizes = kb.db.execute(
        f"SELECT 1 FROM evaluations{sized_filter} train_size IS NOT NULL LIMIT 1", params
    ).fetchone()
    if has_sizes:
        # Like best_pipelines: a pipeline is judged at the largest training size it was run
        # on (NULL: all the data), not on the average of its learning curve.
        evaluations = (
            "SELECT * FROM (SELECT pipeline_id, dataset_id, metric, value, higher_is_better,"
            f" coalesce(train_size, {FULL_DATA}) AS size, max(coalesce(train_size, {FULL_DATA}))"
            " OVER (PARTITION BY pipeline_id, dataset_id, metric) AS largest"
            f" FROM evaluations{metric_filter}) WHERE size = largest"
        )
    else:
        evaluations = f"SELECT * FROM evaluations{metric_filter}"
    rows = kb.db.execute(
        "SELECT pipeline_id, dataset_id, metric, avg(value), max(higher_is_better)"
        f" FROM ({evaluations}) GROUP BY pipeline_id, dataset_id, metric",
        params,
    ).fetchall()
    by_dataset_metric: dict[tuple[str, str], list[tuple[float, str, bool]]] = {}
    for pipeline_id, dataset_id, metric, value, higher in rows:
        by_dataset_metric.setdefault((dataset_id, metric), []).append(
            (value, pipeline_id, bool(higher))
        )
    for (dataset_id, metric), results in by_dataset_metric.items():
        higher = results[0][2]
        results.sort(key=lambda item: -item[0] if higher else item[0])
        for rank, (value, pipeline_id, _) in enumerate(results, start=1):
            graph.add_edge(
                f"pipeline:{pipeline_id}",
                f"dataset:{dataset_id}",
                kind="evaluated-on",
                metric=metric,
                value=value,
                rank=rank,
            )
    if include_qualities:
        for dataset_id, name, value in kb.db.execute(
            "SELECT dataset_id, name, value FROM qualities"
        ):
            graph.add_node(f"quality:{name}", kind="quality")
            graph.add_edge(
                f"dataset:{dataset_id}", f"quality:{name}", kind="has-quality", value=value
            )
    return graph


def component_wins(graph: nx.MultiDiGraph, metric: str, *, top: int = 1) -> Counter[str]:
    """How many datasets have a pipeline holding each component among their ``top`` best.

    A graph walk: dataset ← evaluated-on (rank ≤ top) ← pipeline → has-component → component.
    """
    wins: Counter[str] = Counter()
    for node, data in graph.nodes(data=True):
        if data.get("kind") != "dataset":
            continue
        components: set[str] = set()
        for pipeline, _, edge in graph.in_edges(node, data=True):
            if edge.get("kind") != "evaluated-on" or edge.get("metric") != metric:
                continue
            if edge["rank"] > top:
                continue
            for _, component, step in graph.out_edges(pipeline, data=True):
                if step.get("kind") == "has-component":
                    components.add(component.removeprefix("component:"))
        wins.update(components)
    return wins
