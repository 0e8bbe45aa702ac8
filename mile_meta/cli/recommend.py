"""``mile-meta recommend``: what to try first on a dataset, and why."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mile_meta.cli._common import (
    busy,
    data_argument,
    echo_json,
    encoding_option,
    exclude_dataset_option,
    json_option,
    kb_option,
    load_data,
    metric_option,
    open_knowledge_base,
    recording_allowed,
    target_option,
    task_option,
    top_option,
)

if TYPE_CHECKING:
    from mile_meta.recommend import RecommendationReport


@click.command("recommend")
@data_argument
@target_option
@top_option(10, "How many pipelines to list.")
@metric_option
@task_option
@click.option(
    "--probe",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Cross-validate the N best on your data and re-rank with what they scored (adaptive).",
)
@exclude_dataset_option()
@click.option("--seed", default=0, show_default=True, help="Seed of the probes' folds.")
@click.option(
    "--no-record",
    is_flag=True,
    help="Keep the probes out of the knowledge base (they are recorded as local runs by default).",
)
@encoding_option
@click.option(
    "--no-cache", is_flag=True, help="Probes reuse and keep nothing (see mile-meta cache)."
)
@click.option(
    "--no-local",
    is_flag=True,
    help="Rank from the corpora alone, ignoring the runs recorded on your own data.",
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=int,
    help="Probes run at once, each in its own process (-1: every core).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run the probes on this Dask cluster (the knowledge base stays here).",
)
@kb_option
@json_option
def command(
    data: Path,
    target: str,
    top: int,
    metric: str | None,
    task_type: str | None,
    probe: int,
    exclude: tuple[str, ...],
    seed: int,
    no_record: bool,
    encoding: str | None,
    no_cache: bool,
    no_local: bool,
    jobs: int,
    scheduler: str | None,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Rank the pipelines to try first on DATA, with predicted scores and evidence.

    \b
    Example:
      mile-meta recommend data.csv --target y --top 5 --probe 3
      mile-meta recommend data.csv --target y --probe 8 --scheduler tcp://10.0.0.5:8786
    """
    from mile_meta.recommend import recommend

    if jobs == 0 or jobs < -1:
        raise click.UsageError(f"--jobs {jobs}: pass 1, 2… probes at once, or -1 for every core")
    if (jobs != 1 or scheduler) and not probe:
        raise click.UsageError("--jobs and --scheduler say where the probes run; add --probe N")

    dataset = load_data(
        data, target, task_type=task_type, metric=metric, encoding=encoding, quiet=as_json
    )
    with open_knowledge_base(kb_path) as kb:
        record = recording_allowed(kb, not no_record) if probe else not no_record
        doing = f"ranking, then probing the {probe} best on {dataset.name}" if probe else "ranking"
        with busy(doing):
            report = recommend(
                dataset,
                target,
                kb=kb,
                metric=metric,
                task_type=task_type,
                top=top,
                probe=probe,
                exclude_datasets=exclude,
                seed=seed,
                record_probes=record,
                reuse=not no_cache,
                use_local=not no_local,
                jobs=jobs,
                scheduler=scheduler,
            )
    if as_json:
        echo_json(report.to_dict())
        return
    _print_report(report)


def _print_report(report: RecommendationReport) -> None:
    direction = "higher" if report.higher_is_better else "lower"
    click.echo(
        f"{report.dataset_name}: {report.task_type}, {report.metric} ({direction} is better); "
        f"ranked by {report.meta_learner} in {report.seconds:.2f} s"
    )
    if report.excluded_datasets:
        click.echo(f"excluded from the knowledge base: {', '.join(report.excluded_datasets)}")
    if not report.used_local_runs:
        click.echo("your recorded runs are ignored (--no-local)")
    if report.evidence_note:
        click.echo(f"evidence: {report.evidence_note}")
    for pipeline_id, error in report.failed_probes:
        click.echo(f"probe of {pipeline_id} failed: {error}")
    if report.order_note:
        click.echo(f"order: {report.order_note}")
    click.echo(
        f"{'#':>3}  {'best of 1..#':>12}  {'predicted [10-90 %]':<26} {'fit s':>6}  "
        f"{'family':<22} pipeline"
    )
    evidence_metric = (
        report.ranking_metric
        if report.ranking_metric and report.ranking_metric != report.metric
        else ""
    )
    for r in report.recommendations:
        if r.observed_score is not None:
            predicted = f"{r.observed_score:.4g} (measured here)"
        else:
            predicted = f"{r.predicted_score:.4g} [{r.lower:.4g}, {r.upper:.4g}]"
        fit = "" if r.expected_fit_seconds is None else f"{r.expected_fit_seconds:.2g}"
        so_far = "" if r.expected_best_so_far is None else f"{r.expected_best_so_far:.4g}"
        click.echo(
            f"{r.rank:>3}  {so_far:>12}  {predicted:<26} {fit:>6}  {r.family:<22} "
            f"{r.spec.describe()}  [{r.pipeline_id}]"
        )
        why = "; ".join(
            f"{e.dataset_name or e.dataset_id}"
            + ("" if e.distance is None else f" (distance {e.distance:.2f})")
            + f": {evidence_metric + ' ' if evidence_metric else ''}{e.observed_score:.3f}, "
            f"#{e.rank_on_dataset} there"
            for e in r.evidence[:3]
        )
        if why:
            click.echo(f"{'':>19}why: {why}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
