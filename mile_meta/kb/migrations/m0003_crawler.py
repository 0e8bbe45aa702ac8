"""The OpenML crawler's tables: crawl state and the raw flows, setups and runs it fetched.

``openml_crawl_state``
    One row per evaluation listing (``task/3`` or ``flow/8353``) and measure: the offset
    listed so far, pages done, the largest run id seen, whether the last page was short.
    The crawler writes a page's records and this row in one transaction, so the row always
    says exactly what the knowledge base holds.
``openml_crawls``
    One row per crawl scope (``suite:99``, ``tasks:3,31``, ``tag:x``, ``flow:8353``): the
    measures asked for, the resolved task ids, the evaluation budget, and whether it finished.
``openml_fetched``
    Tasks and datasets fetched, with a note (``no-qualities`` for OpenML code 362).
``openml_flows``, ``openml_flow_components``, ``openml_flow_parameters``
    Every flow as OpenML describes it, its component tree (parent → identifier → child),
    and its hyperparameters with their default values (JSON text for scikit-learn flows).
``openml_setups``, ``openml_setup_parameters``
    A setup is a flow with hyperparameter values; ``pipeline_id`` is the knowledge-base
    pipeline it was translated to (a runnable spec, or a ``runnable = 0`` description).
``openml_runs``
    One row per run: task, setup, flow and dataset, so run → setup → flow is a join.
"""

from __future__ import annotations

import sqlite_utils


def upgrade(db: sqlite_utils.Database) -> None:
    db.table("openml_crawl_state").create(
        {
            "listing": str,  # "task/3" or "flow/8353"
            "measure": str,  # OpenML evaluation measure, e.g. predictive_accuracy
            "listed": int,  # evaluations listed so far = offset of the next page
            "pages_done": int,
            "last_run_id": int,
            "evaluations": int,  # evaluations written (listed rows with a value)
            "finished": int,  # 1 when the last page came back short or empty
            "updated_at": str,  # ISO 8601, UTC
        },
        pk=("listing", "measure"),
        not_null={"listed", "pages_done", "evaluations", "finished"},
    )
    db.table("openml_crawls").create(
        {
            "scope": str,  # "suite:99", "tasks:3,31", "tag:study_14", "flow:8353"
            "measures": str,  # JSON list
            "task_ids": str,  # JSON list, resolved from the scope (empty for a flow)
            "max_evaluations": int,  # None: no budget
            "evaluations": int,  # evaluations written by this scope's crawls so far
            "finished": int,
            "started_at": str,
            "updated_at": str,
        },
        pk="scope",
    )
    db.table("openml_fetched").create(
        {"kind": str, "openml_id": int, "note": str, "fetched_at": str},
        pk=("kind", "openml_id"),
    )
    db.table("openml_flows").create(
        {
            "flow_id": int,
            "name": str,
            "class_name": str,
            "external_version": str,
            "version": str,
            "uploader": str,
            "upload_date": str,
            "language": str,
            "dependencies": str,
            "description": str,
        },
        pk="flow_id",
    )
    db.table("openml_flow_components").create(
        {"parent_flow_id": int, "identifier": str, "child_flow_id": int, "position": int},
        pk=("parent_flow_id", "identifier"),
    )
    db.table("openml_flow_parameters").create(
        {
            "flow_id": int,
            "name": str,
            "data_type": str,
            "default_value": str,
            "description": str,
        },
        pk=("flow_id", "name"),
    )
    db.table("openml_setups").create(
        {
            "setup_id": int,
            "flow_id": int,
            "pipeline_id": str,
            "translated": int,  # 1: a runnable PipelineSpec
            "exact": int,  # 1: the spec reproduces the flow exactly
            "reasons": str,  # JSON list: why not translated / not exact
        },
        pk="setup_id",
    )
    db.table("openml_setup_parameters").create(
        {
            "setup_id": int,
            "input_id": int,
            "flow_id": int,
            "parameter_name": str,
            "full_name": str,
            "data_type": str,
            "default_value": str,
            "value": str,
        },
        pk=("setup_id", "input_id"),
    )
    db.table("openml_runs").create(
        {
            "run_id": int,
            "task_id": int,
            "setup_id": int,
            "flow_id": int,
            "data_id": int,
            "uploader": int,
            "upload_time": str,
        },
        pk="run_id",
    )
    db.table("openml_flow_components").create_index(["child_flow_id"])
    db.table("openml_setups").create_index(["flow_id"])
    db.table("openml_setups").create_index(["pipeline_id"])
    db.table("openml_runs").create_index(["setup_id"])
    db.table("openml_runs").create_index(["task_id"])
