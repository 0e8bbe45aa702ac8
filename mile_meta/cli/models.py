"""``mile-meta models``: train and inspect the default meta-learner."""

from __future__ import annotations

from pathlib import Path

import click

from mile_meta.cli._common import echo_json, json_option, kb_option, open_knowledge_base


@click.group("models")
def command() -> None:
    """Train and inspect the default meta-learner (models/default-model.joblib).

    \b
    Example:
      mile-meta models train && mile-meta models info
    """


@command.command("train")
@click.option(
    "--metric", "metrics", multiple=True, help="Metric to train for (repeatable; default all)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the model (default: the checkout's models/).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Corpora to learn from (repeatable; default: every corpus the knowledge base holds, "
    "each metric using those its learner was chosen for).",
)
@kb_option
@json_option
def train(
    metrics: tuple[str, ...],
    out: Path | None,
    sources: tuple[str, ...],
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Fit the default learner per metric on the knowledge base's corpora and save it.

    \b
    Example:
      mile-meta models train --kb kb.sqlite
    """
    from rich.progress import Progress

    from mile_meta.metalearners import train_default_model

    with open_knowledge_base(kb_path) as kb, Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("training", total=None)
        model = train_default_model(
            kb,
            out,
            metrics=list(metrics) or None,
            sources=sources or None,
            progress=lambda metric: progress.update(task, description=f"training {metric}"),
        )
    if as_json:
        echo_json(model.metadata)
        return
    click.echo(
        f"saved {model.path} for {', '.join(model.metrics)} (knowledge base {model.metadata.kb_checksum})"
    )


@command.command("info")
@kb_option
@json_option
def info(kb_path: Path | None, as_json: bool) -> None:
    """What the default model was trained on, and whether it matches the knowledge base.

    \b
    Example:
      mile-meta models info --json
    """
    from mile_meta.metalearners import load_default_model

    with open_knowledge_base(kb_path) as kb:
        model = load_default_model(kb)
    if as_json:
        echo_json(model.metadata)
        return
    metadata = model.metadata
    click.echo(f"{model.path}: trained {metadata.trained_at} on {', '.join(metadata.sources)}")
    click.echo(f"knowledge base checksum {metadata.kb_checksum} (matches)")
    for metric in model.metrics:
        click.echo(f"  {metric}: {type(model.learner(metric)).__name__}")
