"""``mile-meta evaluate``: cross-validate the pipeline you name (user-driven mode)."""

from __future__ import annotations

from pathlib import Path

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
    help="Keep no preprocessed folds on disk (by default they are reused by the next "
    "evaluate, in the user cache folder, at most 1 GB).",
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
    from mile_meta.config import cache_dir
    from mile_meta.evaluate import FoldCache, evaluate_pipeline

    dataset = load_data(
        data, target, task_type=task_type, metric=metric, encoding=encoding, quiet=as_json
    )
    cache = FoldCache(None if no_cache else cache_dir() / "folds")
    doing = f"cross-validating {pipeline} on {dataset.name} ({cv} folds)"
    with open_knowledge_base(kb_path) as kb, busy(doing):
        record = recording_allowed(kb, not no_record)  # said before the work, not after
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
