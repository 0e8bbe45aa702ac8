"""``mile-meta evaluate``: cross-validate the pipeline you name (user-driven mode)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from mile_meta.cli._common import (
    busy,
    data_argument,
    echo_json,
    encoding_option,
    json_option,
    kb_option,
    load_data,
    metric_option,
    open_knowledge_base,
    recording_allowed,
    target_option,
    task_option,
)


@click.command("evaluate")
@data_argument
@target_option
@click.option(
    "--pipeline",
    required=True,
    help="Pipeline id, corpus name (e.g. sklearn.ensemble.RandomForestClassifier), component or spec JSON.",
)
@metric_option
@task_option
@click.option(
    "--cv",
    default=5,
    show_default=True,
    type=click.IntRange(min=2),
    help="Number of cross-validation folds.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the folds and the estimator.")
@click.option("--no-record", is_flag=True, help="Do not record the run in the knowledge base.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Reuse and keep nothing (by default preprocessed folds, fitted models and "
    "predictions are kept in the user cache folder, at most 1 GB; see mile-meta cache).",
)
@encoding_option
@kb_option
@json_option
def command(
    data: Path,
    target: str,
    pipeline: str,
    metric: str | None,
    task_type: str | None,
    cv: int,
    seed: int,
    no_record: bool,
    no_cache: bool,
    encoding: str | None,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Cross-validate one pipeline on DATA and record the run as a local run.

    \b
    Example:
      mile-meta evaluate data.csv --target y --pipeline sklearn.ensemble.RandomForestClassifier
    """
    from mile_meta.evaluate import evaluate_pipeline
    from mile_meta.reuse import default_store

    dataset = load_data(
        data, target, task_type=task_type, metric=metric, encoding=encoding, quiet=as_json
    )
    cache = default_store(not no_cache)
    with open_knowledge_base(kb_path) as kb:
        record = recording_allowed(kb, not no_record)
        with busy(f"cross-validating {pipeline} on {dataset.name} ({cv} folds)"):
            result = evaluate_pipeline(
                pipeline,
                dataset,
                metric=metric,
                cv=cv,
                seed=seed,
                kb=kb,
                record=record,
                cache=cache,
            )
        comparison, why_not = _compare(result, dataset, kb)
    if as_json:
        echo_json(
            {
                "pipeline_id": result.pipeline_id,
                "spec": result.spec.to_dict(),
                "family": result.family,
                "metric": result.metric,
                "higher_is_better": result.higher_is_better,
                "mean": result.mean,
                "std": result.std,
                "fold_scores": list(result.fold_scores),
                "fit_seconds": result.fit_seconds,
                "total_seconds": result.total_seconds,
                "cached_folds": result.cached_folds,
                "dataset_id": result.dataset_id,
                "recorded": record,
                "comparison": None
                if comparison is None
                else {**dataclasses.asdict(comparison), "verdict": comparison.verdict},
            }
        )
        return
    click.echo(f"{result.spec.describe()}  [{result.pipeline_id}]")
    click.echo(
        f"{result.metric}: {result.mean:.4f} ± {result.std:.4f} over {result.n_folds} folds "
        f"(seed {result.seed}); fit {result.fit_seconds:.2f} s per fold"
        + (
            f"; {result.cached_folds} folds reused cached preprocessing"
            if result.cached_folds
            else ""
        )
    )
    if record:
        click.echo(f"recorded as a local run of {result.dataset_id}")
    if comparison is None:
        click.echo(f"no comparison with the knowledge base: {why_not}")
    else:
        _print_comparison(comparison)


def _compare(result: Any, dataset: Any, kb: Any) -> tuple[Any, str]:
    """The comparison with the recommendation, or None and why there is none."""
    from mile_meta.errors import MileMetaError
    from mile_meta.recommend import compare_evaluation

    try:
        return compare_evaluation(result, dataset, kb), ""
    except MileMetaError as error:
        return None, str(error).splitlines()[0]


def _print_comparison(comparison: Any) -> None:
    if comparison.predicted is None:
        click.echo(f"compared with the recommendation: {comparison.verdict}")
    else:
        click.echo(
            f"compared with the recommendation: predicted {comparison.predicted:.4g} "
            f"[{comparison.lower:.4g}, {comparison.upper:.4g}] (rank {comparison.rank} of "
            f"{comparison.n_ranked} for this data); measured {comparison.measured:.4g}: "
            f"{comparison.verdict}"
        )
    measured = comparison.measured_on_ranking_metric
    for near in comparison.nearest_best:
        versus = "" if measured is None else f" (yours: {measured:.4g})"
        click.echo(
            f"  best on {near.dataset_name} (distance {near.distance:.2f}): "
            f"{comparison.ranking_metric} {near.score:.4g}{versus} by {near.pipeline[:70]}"
        )
