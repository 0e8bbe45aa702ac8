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
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Rank the pipelines to try first on DATA, with predicted scores and evidence.

    \b
    Example:
      mile-meta recommend data.csv --target y --top 5 --probe 3
    """
    from mile_meta.recommend import recommend

    dataset = load_data(
        data, target, task_type=task_type, metric=metric, encoding=encoding, quiet=as_json
    )
    doing = f"ranking, then probing the {probe} best on {dataset.name}" if probe else "ranking"
    with open_knowledge_base(kb_path) as kb, busy(doing):
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
            record_probes=recording_allowed(kb, not no_record) if probe else not no_record,
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
    for pipeline_id, error in report.failed_probes:
        click.echo(f"probe of {pipeline_id} failed: {error}")
    click.echo(f"{'#':>3}  {'predicted [10-90 %]':<24} {'fit s':>6}  {'family':<22} pipeline")
    for r in report.recommendations:
        if r.observed_score is not None:
            predicted = f"{r.observed_score:.3f} (observed)"
        else:
            predicted = f"{r.predicted_score:.3f} [{r.lower:.3f}, {r.upper:.3f}]"
        fit = "" if r.expected_fit_seconds is None else f"{r.expected_fit_seconds:.2g}"
        click.echo(
            f"{r.rank:>3}  {predicted:<24} {fit:>6}  {r.family:<22} {r.spec.describe()}  [{r.pipeline_id}]"
        )
        why = "; ".join(
            f"{e.dataset_name or e.dataset_id}"
            + ("" if e.distance is None else f" (distance {e.distance:.2f})")
            + f": {e.observed_score:.3f}, #{e.rank_on_dataset} there"
            for e in r.evidence[:3]
        )
        if why:
            click.echo(f"{'':>5}why: {why}")
