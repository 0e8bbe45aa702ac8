"""``mile-meta crawl``: grow the knowledge base from OpenML, incrementally and resumably."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from mile_meta.cli._common import echo_json, json_option, kb_option, open_knowledge_base

__all__ = ["command"]


def _scope(suite: str | None, tasks: tuple[int, ...], tag: str | None, flow: int | None) -> Any:
    from mile_meta.errors import MileMetaError
    from mile_meta.sources.openml import CrawlScope

    given = [
        scope
        for scope in (
            CrawlScope.suite(suite) if suite else None,
            CrawlScope.tasks(tasks) if tasks else None,
            CrawlScope.tag(tag) if tag else None,
            CrawlScope.flow(flow) if flow is not None else None,
        )
        if scope is not None
    ]
    if len(given) > 1:
        raise MileMetaError(
            "pass one scope: --suite, --task (repeatable), --tag or --flow", usage=True
        )
    return given[0] if given else None


def _progress_printer(as_json: bool) -> tuple[Any, Any]:
    """A rich progress display on stderr and the crawl-event callback that drives it."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[cyan]{task.fields[evaluations]:,} evaluations[/] ({task.fields[rate]:,.0f}/s)"
        ),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=as_json,
    )
    tasks: dict[str, Any] = {}

    def on_event(event: Any) -> None:
        if event.kind in ("retry", "note"):
            prefix = "OpenML: " if event.kind == "retry" else ""
            progress.console.print(f"[yellow]{prefix}{event.message}[/]")
            return
        if event.message:
            progress.console.print(f"[yellow]{event.listing}: {event.message}[/]")
        if event.kind == "plan":
            tasks[event.scope] = progress.add_task(
                event.scope, total=event.listings_total, evaluations=0, rate=0.0
            )
            return
        task_id = tasks.get(event.scope)
        if task_id is None:
            return
        elapsed = progress.tasks[task_id].elapsed or 0.0
        progress.update(
            task_id,
            completed=event.listings_done,
            evaluations=event.evaluations_total,
            rate=event.evaluations_total / elapsed if elapsed > 0 else 0.0,
            description=f"{event.scope} {event.listing}".rstrip(),
        )

    return progress, on_event


def _print_plan(plan: Any) -> None:
    click.echo(
        f"Dry run: nothing is written. Knowledge base: {plan.kb_path}; OpenML: {plan.server}"
    )
    for scope in plan.scopes:
        budget = f", at most {scope.max_evaluations:,} evaluations" if scope.max_evaluations else ""
        click.echo(
            f"\n{scope.scope}: {len(scope.task_ids)} tasks, measures {', '.join(scope.measures)}{budget}"
        )
        if scope.tasks_to_fetch:
            shown = ", ".join(str(t) for t in scope.tasks_to_fetch[:20])
            more = (
                f" and {len(scope.tasks_to_fetch) - 20} more"
                if len(scope.tasks_to_fetch) > 20
                else ""
            )
            click.echo(
                f"  would fetch {len(scope.tasks_to_fetch)} tasks with their datasets and qualities: {shown}{more}"
            )
        for listing in scope.listings:
            click.echo(f"  {listing.listing:<14} {listing.measure:<24} {listing.action}")


def _print_report(report: Any) -> None:
    share = report.translated_share
    translated = f" ({share:.0%} translated into runnable pipelines)" if share is not None else ""
    click.echo(
        f"Crawled {', '.join(report.scopes)}: {report.evaluations_written:,} evaluations in "
        f"{report.pages:,} pages, {report.listings_finished}/{report.listings} listings finished, "
        f"{report.seconds:.1f} s"
    )
    click.echo(
        f"New: {report.tasks_fetched} tasks, {report.datasets_fetched} datasets "
        f"({report.datasets_without_qualities} without qualities), "
        f"{report.tasks_unavailable} tasks unavailable, {report.flows_fetched} flows, "
        f"{report.setups_fetched} setups{translated}"
    )
    click.echo(f"OpenML requests: {report.requests:,} ({report.retries} retried)")
    if report.budget_exhausted:
        click.echo("Stopped at --max-evaluations; `mile-meta crawl --resume` continues.")


@click.group("crawl", invoke_without_command=True)
@click.option("--suite", help="Benchmark suite id or alias, e.g. 99 or OpenML-CC18.")
@click.option("--task", "tasks", type=int, multiple=True, help="OpenML task id (repeatable).")
@click.option("--tag", help="Crawl every task carrying this OpenML tag.")
@click.option("--flow", type=int, help="Crawl one flow's evaluations on every task.")
@click.option(
    "--measure",
    "measures",
    multiple=True,
    help="OpenML evaluation measure (repeatable; default predictive_accuracy, or the measures "
    "of the crawl being resumed).",
)
@kb_option
@click.option("--resume", is_flag=True, help="Continue unfinished crawls; skip finished listings.")
@click.option(
    "--server",
    default=None,
    help="OpenML REST API root (default https://www.openml.org/api/v1/xml).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="openml's download cache (default: the mile-meta cache folder /openml).",
)
@click.option(
    "--max-evaluations", type=int, default=None, help="Stop after listing this many evaluations."
)
@click.option("--dry-run", is_flag=True, help="Print what would be fetched; write nothing.")
@click.option(
    "--concurrency", type=int, default=1, show_default=True, help="Requests in flight at once."
)
@click.option(
    "--download-data", is_flag=True, help="Also download the datasets' data files into the cache."
)
@click.option(
    "--retries",
    type=int,
    default=6,
    show_default=True,
    help="Attempts per request before giving up.",
)
@click.option(
    "--retry-wait",
    type=float,
    default=2.0,
    show_default=True,
    help="Seconds before the first retry; doubles each time (Retry-After wins).",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 10_000),
    default=10_000,
    show_default=True,
    help="Evaluations per listing request (OpenML allows at most 10000).",
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    suite: str | None,
    tasks: tuple[int, ...],
    tag: str | None,
    flow: int | None,
    measures: tuple[str, ...],
    kb_path: Path | None,
    resume: bool,
    server: str | None,
    cache_dir: Path | None,
    max_evaluations: int | None,
    dry_run: bool,
    concurrency: int,
    download_data: bool,
    retries: int,
    retry_wait: float,
    page_size: int,
    as_json: bool,
) -> None:
    """Crawl OpenML tasks, datasets, flows, setups and evaluations into the knowledge base.

    Each page of evaluations is written with the crawl state in one transaction, so an
    interrupted crawl continues with --resume, and a later crawl fetches only what is new.

    \b
    Examples:
      mile-meta crawl --suite 99 --measure predictive_accuracy --measure area_under_roc_curve
      mile-meta crawl --task 3 --task 31 --dry-run
      mile-meta crawl --resume
      mile-meta crawl status
    """
    if ctx.invoked_subcommand is not None:
        return
    from mile_meta.config import default_kb_path
    from mile_meta.errors import MileMetaError
    from mile_meta.sources.openml import OpenMLCrawler, RetryPolicy

    scope = _scope(suite, tasks, tag, flow)
    if scope is None and not resume:
        raise MileMetaError(
            "nothing to crawl: pass --suite, --task, --tag or --flow, or --resume "
            "(see `mile-meta crawl --help`)",
            usage=True,
        )
    if retries < 1:
        raise MileMetaError("--retries must be at least 1", usage=True)
    crawler = OpenMLCrawler(
        server=server,
        cache_dir=cache_dir,
        concurrency=concurrency,
        retry=RetryPolicy(attempts=retries, first_wait_seconds=retry_wait),
        page_size=page_size,
        download_data=download_data,
    )
    if dry_run:
        plan = crawler.plan(
            kb_path or default_kb_path(),
            scope,
            measures,
            resume=resume,
            max_evaluations=max_evaluations,
        )
        if as_json:
            echo_json(dataclasses.asdict(plan))
        else:
            _print_plan(plan)
        return
    progress, on_event = _progress_printer(as_json)
    with open_knowledge_base(kb_path, must_exist=False) as kb:
        try:
            with progress:
                report = crawler.crawl(
                    kb,
                    scope,
                    measures,
                    resume=resume,
                    max_evaluations=max_evaluations,
                    on_event=on_event,
                )
        except KeyboardInterrupt:
            click.echo(
                "Interrupted; every page written so far is kept. `mile-meta crawl --resume` continues.",
                err=True,
            )
            sys.exit(130)
    if as_json:
        echo_json({**dataclasses.asdict(report), "translated_share": report.translated_share})
    else:
        _print_report(report)


@command.command("status")
@kb_option
@json_option
def status(kb_path: Path | None, as_json: bool) -> None:
    """Show what the crawler has fetched: scopes, listings, and the share of flows translated.

    \b
    Example:
      mile-meta crawl status --json
    """
    from mile_meta.config import default_kb_path
    from mile_meta.sources.openml import crawl_status

    result = crawl_status(kb_path or default_kb_path())
    if as_json:
        echo_json({**dataclasses.asdict(result), "translated_share": result.translated_share})
        return
    if not result.scopes:
        click.echo(
            f"No OpenML crawl in {result.path} yet; start one with `mile-meta crawl --suite 99`."
        )
        return
    for scope in result.scopes:
        state = (
            "finished" if scope.finished else "unfinished (resume with `mile-meta crawl --resume`)"
        )
        click.echo(
            f"{scope.scope}: {scope.listings_finished}/{len(scope.listings)} listings done, "
            f"{scope.evaluations:,} evaluations, measures {', '.join(scope.measures)}; {state}"
        )
        for listing in scope.listings:
            if not listing.finished:
                click.echo(
                    f"  {listing.listing:<14} {listing.measure:<24} {listing.listed:,} listed,"
                    f" {listing.pages_done} pages"
                )
    share = result.translated_share
    translated = f", {share:.0%} translated" if share is not None else ""
    click.echo(
        f"Total: {result.evaluations:,} evaluations, {result.runs:,} runs, {result.tasks} tasks, "
        f"{result.datasets} datasets ({result.datasets_without_qualities} without qualities), "
        f"{result.tasks_unavailable} tasks unavailable, "
        f"{result.flows} flows, {result.setups:,} setups{translated}"
    )
