"""``mile-meta patterns``: list, show, search, validate and add practitioner patterns."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mile_meta.cli._common import (
    echo_json,
    encoding_option,
    exclude_dataset_option,
    json_option,
    kb_option,
    load_data,
    open_knowledge_base,
    target_option,
    task_option,
)
from mile_meta.errors import PatternError
from mile_meta.patterns import AUTONOMY_LEVELS, STAGES, TASKS, Pattern

__all__ = ["command"]

_STAGE_HELP = (
    "Only patterns for this pipeline stage (a prefix is enough, e.g. 'hyperparameter'; "
    f"stages: {', '.join(STAGES)})."
)
_LEVEL_HELP = (
    f"Only patterns for this autonomy level ({', '.join(AUTONOMY_LEVELS)}; a prefix is enough)."
)
_TASK_HELP = (
    f"Only patterns that apply to this task ({', '.join(TASKS)}); "
    "'binary' also finds 'classification' and 'any' patterns."
)


def _filter_options(function: Any) -> Any:
    function = click.option("--task", default=None, metavar="TASK", help=_TASK_HELP)(function)
    function = click.option("--level", default=None, metavar="LEVEL", help=_LEVEL_HELP)(function)
    return click.option("--stage", default=None, metavar="STAGE", help=_STAGE_HELP)(function)


def _open_with_corpus(kb_path: Path | None, *, create: bool = False) -> Any:
    """The knowledge base holding the bundled corpus (ingested on first use).

    A named file must exist, so a mistyped ``--kb`` is an error rather than a new empty
    store; only ``add`` may start a new file.
    """
    from mile_meta.patterns import ensure_corpus

    kb = open_knowledge_base(kb_path, must_exist=not create)
    ensure_corpus(kb)
    return kb


@click.group("patterns")
def command() -> None:
    """Practitioner patterns: what to find out at each pipeline stage, and how.

    The bundled corpus (corpora/patterns) is stored in the knowledge base on first use.

    \b
    Example:
      mile-meta patterns search "which hyperparameters to tune in 30 minutes"
    """


@command.command("list")
@_filter_options
@kb_option
@json_option
def list_command(
    stage: str | None, level: str | None, task: str | None, kb_path: Path | None, as_json: bool
) -> None:
    """List the stored patterns, in pipeline-stage order.

    \b
    Example:
      mile-meta patterns list --stage ensembling --level autopilot
    """
    from mile_meta.patterns import list_patterns

    with _open_with_corpus(kb_path) as kb:
        patterns = list_patterns(kb, stage=stage, level=level, task=task)
    if as_json:
        echo_json([_summary(pattern) for pattern in patterns])
        return
    for pattern in patterns:
        click.echo(f"{pattern.name} — {pattern.title}")
        click.echo(f"    {_facets(pattern.stages, pattern.autonomy, pattern.task)}")
    click.echo(f"{len(patterns)} pattern{'s' if len(patterns) != 1 else ''}", err=True)


@command.command("show")
@click.argument("name")
@kb_option
@json_option
def show_command(name: str, kb_path: Path | None, as_json: bool) -> None:
    """Print one pattern as markdown (or all its fields with --json).

    \b
    Example:
      mile-meta patterns show stratified-cv-for-rare-positives
    """
    from mile_meta.patterns import get_pattern, write_pattern

    with _open_with_corpus(kb_path) as kb:
        pattern = get_pattern(kb, name)
    if as_json:
        echo_json(_full(pattern))
        return
    click.echo(write_pattern(pattern), nl=False)


@command.command("search")
@click.argument("text")
@_filter_options
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Most hits shown."
)
@kb_option
@json_option
def search_command(
    text: str,
    stage: str | None,
    level: str | None,
    task: str | None,
    limit: int,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Full-text search of the patterns, best match first (bm25 ranking).

    TEXT is plain language; its words are matched with stemming ("tuning" finds "tune").

    \b
    Example:
      mile-meta patterns search "rare positives cross-validation" --level cruise-control
    """
    from mile_meta.patterns import search_patterns

    with _open_with_corpus(kb_path) as kb:
        hits = search_patterns(kb, text, stage=stage, level=level, task=task, limit=limit)
    if as_json:
        echo_json(hits)
        return
    if not hits:
        click.echo("no pattern matches; try fewer filters or other words", err=True)
    for hit in hits:
        click.echo(f"{hit.score:6.2f}  {hit.name} — {hit.title}")
        click.echo(f"        {_facets(hit.stages, hit.autonomy, hit.task)}")
        click.echo(f"        {hit.snippet}")


@command.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def validate_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Check pattern files against the template; exit status 1 if any file is invalid.

    Every problem is printed on one line as FILE:LINE: MESSAGE. Related-pattern links
    must name a file beside the pattern, a file given in the same call, or a bundled one.

    \b
    Example:
      mile-meta patterns validate corpora/patterns/*.md
    """
    from mile_meta.patterns import validate_pattern_file
    from mile_meta.patterns._corpus import _NOT_PATTERNS

    # The documented glob (corpora/patterns/*.md) also matches the folder's README.md,
    # which is not a pattern: skip it, as loading the corpus does.
    skipped = [path for path in files if path.name in _NOT_PATTERNS]
    files = tuple(path for path in files if path.name not in _NOT_PATTERNS)
    for path in skipped:
        click.echo(f"skipped {path} (not a pattern)", err=True)
    if not files:
        raise PatternError(
            "no pattern files given (only README files); pass *.md patterns", usage=True
        )
    given = {path.stem for path in files}
    results = [(path, validate_pattern_file(path, known_names=given)) for path in files]
    invalid = sum(1 for _, issues in results if issues)
    if as_json:
        echo_json(
            {
                "valid": invalid == 0,
                "files": [
                    {
                        "path": str(path),
                        "valid": not issues,
                        "issues": [{"line": i.line, "message": i.message} for i in issues],
                    }
                    for path, issues in results
                ],
            }
        )
    else:
        for _, issues in results:
            for issue in issues:
                click.echo(str(issue))
        valid = len(files) - invalid
        click.echo(f"{valid} of {len(files)} file{'s' if len(files) != 1 else ''} valid", err=True)
    if invalid:
        sys.exit(1)


@command.command("add")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--author", default=None, help="Author for files whose front matter names none.")
@click.option("--source", default=None, help="Source for files whose front matter names none.")
@kb_option
@json_option
def add_command(
    files: tuple[Path, ...],
    author: str | None,
    source: str | None,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Add or update patterns in the knowledge base (all files or none).

    Adding the same files again changes nothing.

    \b
    Example:
      mile-meta patterns add my-patterns/*.md --author "Ada Lovelace" --source "team wiki"
    """
    from mile_meta.patterns import add_patterns

    with _open_with_corpus(kb_path, create=True) as kb:
        written = add_patterns(kb, files, author=author, source=source)
        path = kb.path
    if as_json:
        echo_json({"files": len(files), "new_or_changed": written, "kb": str(path)})
        return
    click.echo(f"{written} of {len(files)} pattern(s) new or changed in {path}")


@command.command("answer")
@click.argument("name")
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your dataset: a CSV or Parquet file.",
)
@target_option
@task_option
@exclude_dataset_option()
@encoding_option
@kb_option
@json_option
def answer_command(
    name: str,
    data_path: Path,
    target: str,
    task_type: str | None,
    exclude: tuple[str, ...],
    encoding: str | None,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Answer a pattern's knowledge-base questions for your dataset, with their evidence.

    Runs the questions the pattern NAME lists (what to try first, which hyperparameters
    matter, how much more data helps, expected fit time, ...) in order. A question that
    cannot be answered for this data says why; the others still run.

    \b
    Example:
      mile-meta patterns answer will-more-data-help --data data.csv --target y
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from mile_meta.patterns import ensure_corpus, get_pattern
    from mile_meta.questions import answer_pattern

    with open_knowledge_base(kb_path) as kb:
        ensure_corpus(kb)
        pattern = get_pattern(kb, name)  # an unknown name fails before the data is read
        dataset = load_data(
            data_path, target, task_type=task_type, encoding=encoding, quiet=as_json
        )
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("answering", total=None)
            answers = answer_pattern(
                name,
                dataset,
                kb,
                exclude_datasets=exclude,
                on_question=lambda question: progress.update(
                    task, description=f"answering {question}"
                ),
            )
    if as_json:
        echo_json(
            {
                "pattern": pattern.name,
                "title": pattern.title,
                "dataset": {
                    "name": dataset.name,
                    "rows": len(dataset.frame),
                    "features": dataset.frame.shape[1],
                    "task_type": dataset.task_type,
                },
                "answers": [answer.to_dict() for answer in answers],
            }
        )
        return
    click.echo(f"{pattern.name} — {pattern.title}")
    click.echo(
        f"for {dataset.name} ({len(dataset.frame):,} rows, {dataset.frame.shape[1]:,} features, "
        f"{dataset.task_type}); {len(answers)} question{'s' if len(answers) != 1 else ''}"
    )
    for answer in answers:
        click.echo("")
        click.echo(_answer_text(answer))


def _answer_text(answer: Any) -> str:
    """One answer as text: heading, summary, table, evidence."""
    import textwrap

    import pandas as pd

    lines = [f"== {answer.question}: {answer.title}", textwrap.fill(answer.summary, width=100)]
    if answer.table:
        frame = answer.frame()
        for column in frame.columns:
            if frame[column].map(lambda value: isinstance(value, tuple | list)).any():
                frame[column] = frame[column].map(lambda value: ", ".join(map(str, value)))
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = frame[column].map(
                    lambda value: value if len(str(value)) <= 48 else str(value)[:47] + "…"
                )
        lines.append(frame.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    evidence = answer.evidence
    if answer.answered:
        nearest = ", ".join(
            f"{dataset.name or dataset.dataset_id}"
            + (f" (d={dataset.distance:.2f})" if dataset.distance is not None else "")
            for dataset in evidence.datasets[:5]
        )
        more = len(evidence.datasets) - 5
        parts = [
            f"sources: {', '.join(evidence.sources) or 'none'}",
            f"metric: {evidence.metric or 'runtime (seconds)'}",
            f"{len(evidence.datasets)} datasets ({nearest}{f', +{more} more' if more > 0 else ''})",
            f"{len(evidence.pipelines)} pipelines",
            f"{len(evidence.points)} points (--json)",
        ]
        lines.append("evidence: " + "; ".join(parts))
        lines.append(textwrap.fill(f"method: {answer.method}", width=100))
    return "\n".join(lines)


def _facets(stages: tuple[str, ...], autonomy: tuple[str, ...], task: str) -> str:
    return f"{', '.join(stages)} · {', '.join(autonomy)} · {task}"


def _summary(pattern: Pattern) -> dict[str, Any]:
    return {
        "name": pattern.name,
        "title": pattern.title,
        "stages": list(pattern.stages),
        "autonomy": list(pattern.autonomy),
        "task": pattern.task,
        "data_type": pattern.data_type,
        "data_size": pattern.data_size,
        "tags": list(pattern.tags),
        "questions": list(pattern.questions),
        "related": list(pattern.related),
    }


def _full(pattern: Pattern) -> dict[str, Any]:
    from mile_meta.patterns import SECTIONS

    sections = {heading: pattern.section_text(heading) for heading in SECTIONS}
    return {
        **_summary(pattern),
        "author": pattern.author,
        "source": pattern.source,
        "path": str(pattern.path) if pattern.path else None,
        "sections": sections,
    }
