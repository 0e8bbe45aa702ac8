"""``mile-meta kb``: build, inspect and query the knowledge base."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import click

from mile_meta.cli._common import (
    echo_json,
    json_option,
    kb_option,
    open_knowledge_base,
    stdout_console,
    top_option,
)
from mile_meta.kb._store import QUERY_TIMEOUT_SECONDS


@click.group("kb")
def command() -> None:
    """Build, inspect and query the knowledge base.

    \b
    Example:
      mile-meta kb build && mile-meta kb stats
    """


@command.command("build")
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Corpus to ingest (repeatable; default: oboe, lcdb, autosklearn, defaults).",
)
@click.option(
    "--corpora",
    "snapshot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Snapshot folder (default: the checkout's corpora/ or $MILE_META_CORPORA).",
)
@kb_option
@json_option
def build(
    sources: tuple[str, ...], snapshot_dir: Path | None, kb_path: Path | None, as_json: bool
) -> None:
    """Ingest the offline corpora into the knowledge base (idempotent).

    A new file appears only once every source is in; an existing one is updated one
    transaction per source.

    \b
    Example:
      mile-meta kb build --source oboe --source lcdb --kb kb.sqlite
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mile_meta.kb import build_knowledge_base

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        transient=True,
        disable=as_json,
    ) as progress:

        def on_source(name: str, estimate: int | None) -> Callable[[int], None]:
            task = progress.add_task(f"ingesting {name}", total=estimate)
            return lambda done: progress.update(task, completed=done)

        reports = build_knowledge_base(
            kb_path, sources or None, snapshot_dir=snapshot_dir, on_source=on_source
        )
    if as_json:
        echo_json([dataclasses.asdict(report) for report in reports])
        return
    for report in reports:
        counts = ", ".join(f"{value:,} {key}" for key, value in report.counts.items())
        click.echo(f"{report.source}: {counts} ({report.seconds:.1f} s)")


@command.command("stats")
@kb_option
@json_option
def stats(kb_path: Path | None, as_json: bool) -> None:
    """Counts per entity and per source.

    \b
    Example:
      mile-meta kb stats --json
    """
    with open_knowledge_base(kb_path) as kb:
        result = kb.stats()
    if as_json:
        echo_json(result)
        return
    from rich.table import Table

    # the path on its own line: as a table title rich would wrap it to the table's width
    click.echo(f"{result.path} (schema v{result.schema_version}, {result.size_bytes / 1e6:.1f} MB)")
    table = Table()
    entities = list(result.totals)
    table.add_column("source")
    for entity in entities:
        table.add_column(entity, justify="right")
    for name, counts in result.per_source.items():
        table.add_row(name, *(f"{counts.get(entity, 0):,}" for entity in entities))
    table.add_row("[bold]total[/bold]", *(f"{result.totals[entity]:,}" for entity in entities))
    stdout_console().print(table)
    click.echo(
        f"runnable pipelines: {result.runnable_pipelines:,} of {result.totals['pipelines']:,}"
    )


@command.group("show")
def show() -> None:
    """Show one entity of the knowledge base.

    \b
    Example:
      mile-meta kb show dataset credit-g
    """


@show.command("dataset")
@click.argument("key")
@top_option(5, "Best pipelines per metric.")
@kb_option
@json_option
def show_dataset(key: str, top: int, kb_path: Path | None, as_json: bool) -> None:
    """A dataset's qualities and its best pipelines per metric (KEY: OpenML id, id or name).

    \b
    Example:
      mile-meta kb show dataset 31
    """
    with open_knowledge_base(kb_path) as kb:
        summary = kb.dataset_summary(key, top=top)
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"{summary.dataset_id}  {summary.name or '(unnamed)'}  rows={summary.n_rows} "
        f"features={summary.n_features} classes={summary.n_classes}"
    )
    click.echo("sources: " + ", ".join(summary.origins))
    for source, qualities in summary.qualities.items():
        click.echo(f"\nqualities ({source}, {len(qualities)}):")
        for name, value in qualities.items():
            click.echo(f"  {name:<42} {'' if value is None else f'{value:.6g}'}")
    for metric, best in summary.best_pipelines.items():
        click.echo(f"\nbest pipelines by {metric}:")
        for rank, pipeline in enumerate(best, start=1):
            click.echo(
                f"  {rank}. {pipeline.value:.4f}  {pipeline.family:<22} {pipeline.pipeline_id}  "
                f"[{pipeline.source}] {pipeline.origin_key[:70]}"
            )


@command.command("query")
@click.argument("sql")
@click.option(
    "--timeout",
    default=QUERY_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Stop the query after this many seconds (0: no limit); Ctrl-C stops it too.",
)
@click.option(
    "--limit",
    default=1000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Show at most this many rows (0: all); says so when more were left out.",
)
@kb_option
@json_option
def query(sql: str, timeout: float, limit: int, kb_path: Path | None, as_json: bool) -> None:
    """Run read-only SQL against the knowledge base (writes and ATTACH are refused).

    \b
    Example:
      mile-meta kb query "SELECT family, count(*) FROM pipelines GROUP BY family"
    """
    with open_knowledge_base(kb_path) as kb:
        columns, rows = kb.query(
            sql, timeout=timeout or None, max_rows=limit + 1 if limit else None
        )
    left_out = bool(limit) and len(rows) > limit
    rows = rows[:limit] if limit else rows
    if as_json:
        echo_json([dict(zip(columns, row, strict=True)) for row in rows])
    else:
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join("" if value is None else str(value) for value in row))
    if left_out:
        click.echo(f"(first {limit:,} rows shown; pass --limit 0 for all)", err=True)


@command.command("components")
@click.option(
    "--metric", default="balanced_error_rate", show_default=True, help="Metric to rank by."
)
@top_option(1, "Count a win when in the top N of a dataset.")
@kb_option
@json_option
def components(metric: str, top: int, kb_path: Path | None, as_json: bool) -> None:
    """Which components sit in the best pipelines, across datasets (a graph query).

    \b
    Example:
      mile-meta kb components --metric predictive_accuracy --top 3
    """
    from mile_meta.errors import KnowledgeBaseError
    from mile_meta.kb import build_graph, component_wins
    from mile_meta.metrics import resolve_metric

    metric = resolve_metric(metric).name
    with open_knowledge_base(kb_path) as kb:
        held = kb.metrics_held()
        if metric not in held:
            raise KnowledgeBaseError(
                f"{kb.path} holds no {metric} results; use one of {', '.join(held)}",
                usage=True,
            )
        graph = build_graph(kb, metrics=[metric])
    wins = component_wins(graph, metric, top=top)
    if as_json:
        echo_json(dict(wins.most_common()))
        return
    for component, count in wins.most_common():
        click.echo(f"{count:>6}  {component}")


@command.command("runs")
@click.option("--dataset", default=None, help="Only runs on this dataset (id, name or file).")
@click.option("--search", "search_id", default=None, help="Only runs recorded by this search.")
@kb_option
@json_option
def runs(dataset: str | None, search_id: str | None, kb_path: Path | None, as_json: bool) -> None:
    """List the local runs: what evaluate, search and recommend --probe recorded on your data.

    They enter recommendations as evidence (weighted by how similar the data is, shrunk
    toward the corpora); `recommend --no-local` ignores them, `kb forget-runs` removes them.

    \b
    Example:
      mile-meta kb runs --dataset credit-g
    """
    with open_knowledge_base(kb_path) as kb:
        listed = kb.local_runs(dataset=dataset, search=search_id)
    if as_json:
        echo_json([dataclasses.asdict(run) for run in listed])
        return
    if not listed:
        click.echo("no local runs")
        return
    current = None
    for run in listed:
        if run.dataset_id != current:
            current = run.dataset_id
            click.echo(f"{run.dataset_name} [{run.dataset_id}]")
        search = f"  search {run.search}" if run.search else ""
        click.echo(
            f"  {run.metric} {run.value:.4f} over {run.n_evaluations} folds  {run.family:<22} "
            f"{run.pipeline_id}{search}"
        )


@command.command("forget-runs")
@click.option("--dataset", default=None, help="Remove the runs on this dataset (id, name or file).")
@click.option("--search", "search_id", default=None, help="Remove the runs of this search.")
@click.option("--all", "everything", is_flag=True, help="Remove every local run.")
@kb_option
@json_option
def forget_runs(
    dataset: str | None,
    search_id: str | None,
    everything: bool,
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Remove local runs from the knowledge base (by dataset, by search, or --all).

    \b
    Example:
      mile-meta kb forget-runs --dataset credit-g
    """
    if not (dataset or search_id or everything):
        raise click.UsageError("say what to forget: --dataset, --search or --all")
    if everything and (dataset or search_id):
        raise click.UsageError("--all removes every local run; drop --dataset/--search")
    with open_knowledge_base(kb_path) as kb:
        removed = kb.forget_local_runs(dataset=dataset, search=search_id)
    if as_json:
        echo_json({"removed_evaluations": removed})
        return
    click.echo(f"removed {removed} local evaluations")
