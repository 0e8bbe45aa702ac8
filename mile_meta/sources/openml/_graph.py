"""The crawled OpenML entities as a typed graph (composes with :func:`mile_meta.kb.build_graph`).

Nodes carry ``kind`` and are named ``<kind>:<id>`` (datasets and pipelines as in
``build_graph``, so ``networkx.compose`` joins the two graphs). Edges carry ``kind``:

- ``has-component``      flow → subflow (``identifier``, ``position``);
- ``has-hyperparameter`` flow → hyperparameter (``default``);
- ``instance-of``        setup → flow;  ``sets``  setup → hyperparameter (``value``);
- ``translated-to``      setup → pipeline (``runnable``, ``exact``);
- ``uses-setup``         run → setup;  ``run-on``  run → task;
- ``of-dataset``         task → dataset;
- ``of-run``             evaluation → run;  ``on-task``  evaluation → task (``metric``, ``value``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = ["openml_graph"]


def _hyperparameter(flow_id: int, name: str) -> str:
    return f"hyperparameter:{flow_id}:{name}"


def openml_graph(
    kb: KnowledgeBase,
    *,
    include_hyperparameters: bool = True,
    include_evaluations: bool = True,
) -> nx.MultiDiGraph:
    """Flows, setups, runs, tasks and evaluations the crawler stored, with their links."""
    graph = nx.MultiDiGraph()
    db = kb.db
    if not db["openml_flows"].exists():
        return graph
    for flow_id, name, class_name in db.execute(
        "SELECT flow_id, name, class_name FROM openml_flows"
    ):
        graph.add_node(f"flow:{flow_id}", kind="flow", name=name, class_name=class_name)
    for parent, identifier, child, position in db.execute(
        "SELECT parent_flow_id, identifier, child_flow_id, position FROM openml_flow_components"
    ):
        graph.add_edge(
            f"flow:{parent}",
            f"flow:{child}",
            kind="has-component",
            identifier=identifier,
            position=position,
        )
    if include_hyperparameters:
        for flow_id, name, default in db.execute(
            "SELECT flow_id, name, default_value FROM openml_flow_parameters"
        ):
            node = _hyperparameter(flow_id, name)
            graph.add_node(node, kind="hyperparameter", name=name)
            graph.add_edge(f"flow:{flow_id}", node, kind="has-hyperparameter", default=default)
    for setup_id, flow_id, pipeline_id, translated, exact in db.execute(
        "SELECT setup_id, flow_id, pipeline_id, translated, exact FROM openml_setups"
    ):
        node = f"setup:{setup_id}"
        graph.add_node(node, kind="setup")
        graph.add_edge(node, f"flow:{flow_id}", kind="instance-of")
        pipeline = f"pipeline:{pipeline_id}"
        if pipeline not in graph:
            graph.add_node(pipeline, kind="pipeline")
        graph.add_edge(
            node, pipeline, kind="translated-to", runnable=bool(translated), exact=bool(exact)
        )
    if include_hyperparameters:
        for setup_id, flow_id, name, value in db.execute(
            "SELECT setup_id, flow_id, parameter_name, value FROM openml_setup_parameters"
        ):
            node = _hyperparameter(flow_id, name)
            if node not in graph:
                graph.add_node(node, kind="hyperparameter", name=name)
            graph.add_edge(f"setup:{setup_id}", node, kind="sets", value=value)
    for task_id, dataset_id in db.execute(
        "SELECT task_id, dataset_id FROM tasks WHERE source = 'openml'"
    ):
        graph.add_node(f"task:{task_id}", kind="task")
        graph.add_node(f"dataset:{dataset_id}", kind="dataset")
        graph.add_edge(f"task:{task_id}", f"dataset:{dataset_id}", kind="of-dataset")
    for run_id, task_id, setup_id, uploader, upload_time in db.execute(
        "SELECT run_id, task_id, setup_id, uploader, upload_time FROM openml_runs"
    ):
        node = f"run:{run_id}"
        graph.add_node(node, kind="run", uploader=uploader, upload_time=upload_time)
        graph.add_edge(node, f"setup:{setup_id}", kind="uses-setup")
        graph.add_edge(node, f"task:openml-task:{task_id}", kind="run-on")
    if include_evaluations:
        for evaluation_id, run_key, task_id, metric, value in db.execute(
            "SELECT evaluation_id, run_key, task_id, metric, value FROM evaluations"
            " WHERE source = 'openml'"
        ):
            node = f"evaluation:{evaluation_id}"
            graph.add_node(node, kind="evaluation", metric=metric, value=value)
            graph.add_edge(node, f"run:{run_key}", kind="of-run")
            graph.add_edge(node, f"task:{task_id}", kind="on-task", metric=metric, value=value)
    return graph
