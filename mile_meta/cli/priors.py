"""``mile-meta priors``: the prior for a dataset, exported for another AutoML tool."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mile_meta.cli._common import (
    data_argument,
    echo_json,
    exclude_dataset_option,
    json_option,
    kb_option,
    metric_option,
    open_knowledge_base,
    target_option,
    task_option,
    top_option,
)
from mile_meta.errors import MileMetaError

if TYPE_CHECKING:
    from mile_meta.priors import ExportedPrior

_FORMATS = ("optuna", "configspace", "flaml", "hyperopt", "raytune", "json")


@click.command("priors")
@data_argument
@target_option
@click.option(
    "--format",
    "format_name",
    type=click.Choice(_FORMATS),
    default="json",
    show_default=True,
    help="Tool to export for.",
)
@top_option(10, "How many starting configurations.")
@metric_option
@task_option
@exclude_dataset_option()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@json_option
@kb_option
def command(
    data: Path,
    target: str,
    format_name: str,
    top: int,
    metric: str | None,
    task_type: str | None,
    exclude: tuple[str, ...],
    output: Path | None,
    as_json: bool,
    kb_path: Path | None,
) -> None:
    """Export the prior for DATA: starting configurations, family weights, distributions.

    \b
    What is written:
      json         the prior itself (schema: docs/prior-schema.json); load it with
                   mile_meta.priors.Prior.read(FILE)
      configspace  ConfigSpace's own JSON (ConfigurationSpace.from_json reads it) with
                   the priors as normal/beta/weighted hyperparameters, plus the keys
                   starting_configurations and mile_meta (for SMAC)
      optuna, flaml, hyperopt, raytune
                   a Python module that needs only the tool (and scikit-learn), not
                   mile-meta: EXPORTED, STARTING_POINTS, REPORT and per tool
                   DISTRIBUTIONS + DIRECTION (optuna), TASK + FIT_KWARGS (flaml),
                   SPACE + POINTS_TO_EVALUATE (hyperopt), PARAM_SPACE +
                   POINTS_TO_EVALUATE (raytune; EXPORTED.search_algorithm() for
                   OptunaSearch). Its docstring shows the usage and lists what the tool
                   cannot express.
    A summary (and what could not be expressed) goes to standard error; with --json a
    machine-readable summary goes to standard output instead (with the exported text
    under "content" when there is no -o).

    \b
    Example:
      mile-meta priors data.csv --target y --format optuna -o prior_optuna.py
      mile-meta priors data.csv --target y --format configspace -o prior.json --json
    """
    from mile_meta.priors import build_prior, exporter

    chosen = exporter(format_name)
    if output is not None and not output.expanduser().parent.is_dir():
        raise MileMetaError(
            f"folder {output.expanduser().parent} does not exist; create it or pass another -o path",
            usage=True,
        )
    with open_knowledge_base(kb_path) as kb:
        prior = build_prior(
            data,
            target,
            kb=kb,
            metric=metric,
            top=top,
            task_type=task_type,
            exclude_datasets=exclude,
        )
    exported = chosen.export(prior)
    text = chosen.module_source(exported)
    if output is None:
        if not as_json:
            click.echo(text, nl=False)
    else:
        output = output.expanduser()
        partial = output.with_name(output.name + ".partial")
        try:
            partial.write_text(text)
            partial.replace(output)  # never a half-written file
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise MileMetaError(
                f"cannot write {output} ({error.strerror or error}); pass another -o path"
            ) from None
    if as_json:
        echo_json(summary(exported, format_name, output, None if output else text))
        return
    direction = "higher" if prior.higher_is_better else "lower"
    click.echo(
        f"{prior.dataset_name}: {prior.task_type}, {prior.metric} ({direction} is better); "
        f"{len(prior.starting_configurations)} starting configurations, "
        f"{len(prior.distributions)} fitted distributions, "
        f"{len(exported.report)} notes on what {format_name} cannot express"
        + (f"; wrote {output}" if output else ""),
        err=True,
    )
    for note in exported.report:
        click.echo(f"  - {note}", err=True)


def summary(
    exported: ExportedPrior, format_name: str, output: Path | None, content: str | None
) -> dict[str, Any]:
    """The ``--json`` summary of one export (see docs/priors.md)."""
    prior = exported.prior
    return {
        "dataset": prior.dataset_name,
        "task_type": prior.task_type,
        "metric": prior.metric,
        "higher_is_better": prior.higher_is_better,
        "format": format_name,
        "output": str(output) if output else None,
        "starting_configurations": [
            {
                "rank": s.rank,
                "estimator": s.estimator,
                "params": dict(s.params),
                "predicted_score": s.predicted_score,
                "lower": s.lower,
                "upper": s.upper,
                "expected_fit_seconds": s.expected_fit_seconds,
                "exact": s.exact,
            }
            for s in prior.starting_configurations
        ],
        "family_weights": {f.family: f.weight for f in prior.family_weights},
        "distributions": [
            {
                "estimator": d.estimator,
                "name": d.name,
                "distribution": d.distribution,
                "support": d.support,
            }
            for d in prior.distributions
        ],
        "report": [str(note) for note in exported.report],
        "provenance": prior.to_dict()["provenance"],
        "content": content,
    }
