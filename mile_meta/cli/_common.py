"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "busy",
    "data_argument",
    "echo_json",
    "encoding_option",
    "ensure_default_knowledge_base",
    "exclude_dataset_option",
    "json_option",
    "kb_option",
    "load_data",
    "metric_option",
    "open_knowledge_base",
    "recording_allowed",
    "stdout_console",
    "target_option",
    "task_option",
    "top_option",
]


def kb_option(function: F) -> F:
    """``--kb PATH``: the knowledge base file (default: ``$MILE_META_KB`` or the user data folder)."""
    return click.option(
        "--kb",
        "kb_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Knowledge base file (default: $MILE_META_KB or the per-user data folder).",
    )(function)


def data_argument(function: F) -> F:
    """``DATA``: the user's dataset, a CSV or Parquet file."""
    return click.argument("data", type=click.Path(path_type=Path))(function)


def encoding_option(function: F) -> F:
    """``--encoding``: the CSV's text encoding when detection guesses wrong."""
    return click.option(
        "--encoding",
        default=None,
        help="Text encoding of a CSV (default: UTF-8, else detected and named in a warning), "
        "e.g. latin-1.",
    )(function)


def target_option(function: F) -> F:
    """``--target``: the column to predict."""
    return click.option("--target", required=True, help="Name of the target column.")(function)


def metric_option(function: F) -> F:
    """``--metric``: the score to optimise or report."""
    return click.option(
        "--metric",
        default=None,
        help="Metric (default: balanced_accuracy / root_mean_squared_error).",
    )(function)


def task_option(function: F) -> F:
    """``--task``: override the task type inferred from the target."""
    return click.option(
        "--task",
        "task_type",
        type=click.Choice(["binary", "multiclass", "regression"]),
        default=None,
        help="Override the inferred task type.",
    )(function)


def exclude_dataset_option(dest: str = "exclude") -> Callable[[F], F]:
    """``--exclude-dataset ID`` (repeatable): knowledge-base datasets the answer must not use,
    e.g. the user's own data when the knowledge base already holds it."""
    return click.option(
        "--exclude-dataset",
        dest,
        multiple=True,
        help="Knowledge-base dataset to ignore: an OpenML id (31), a dataset id (openml:31) or "
        "a name (credit-g); repeatable. E.g. your own data when the knowledge base already "
        "holds it, or for leakage-free tests.",
    )


def top_option(default: int, help: str) -> Callable[[F], F]:
    """``--top N``: how many to show, at least one (0 would print an empty answer)."""
    return click.option(
        "--top", default=default, show_default=True, type=click.IntRange(min=1), help=help
    )


def json_option(function: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(
        function
    )


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(payload: Any) -> None:
    """Print ``payload`` as strict JSON (numpy values converted, NaN refused)."""
    click.echo(json.dumps(payload, indent=2, default=_default, allow_nan=False))


def open_knowledge_base(kb_path: Path | None, *, must_exist: bool = True) -> Any:
    """Open the knowledge base named by ``--kb`` (or the default).

    A named file must exist unless ``must_exist`` is false (commands that fill a new file).
    The default one is built from the bundled corpus snapshot on first use, whatever the
    command, so a fresh install answers its first ``recommend`` without a separate step and
    no other command can leave an empty default behind.
    """
    from mile_meta.kb import KnowledgeBase

    ensure_default_knowledge_base(kb_path)
    return KnowledgeBase.open(kb_path, must_exist=must_exist)


def ensure_default_knowledge_base(kb_path: Path | None) -> None:
    """Build the default knowledge base if ``kb_path`` is None and it is not there yet,
    with a progress bar per corpus on a terminal (a line per corpus otherwise)."""
    from mile_meta.kb import ensure_default_knowledge_base as ensure

    if kb_path is not None:
        return
    with _build_progress() as on_source:
        ensure(notify=lambda message: click.echo(message, err=True), on_source=on_source)


@contextlib.contextmanager
def _build_progress() -> Iterator[Callable[[str, int | None], Callable[[int], None] | None]]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:

        def announce(name: str, estimate: int | None) -> None:
            click.echo(f"ingesting {name}...", err=True)

        yield announce
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:

        def on_source(name: str, estimate: int | None) -> Callable[[int], None]:
            task = progress.add_task(f"ingesting {name}", total=estimate)
            return lambda done: progress.update(task, completed=done)

        yield on_source


@contextlib.contextmanager
def busy(message: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr while a long call runs (terminals only: piped
    output and logs stay clean)."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


def stdout_console() -> Any:
    """A rich console for stdout that never cuts a table to 80 columns when piped."""
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        return console
    # Not a terminal (a pipe, a file): there is no width to fit, so print the whole table
    # rather than rich's 80-column default with "…" in every cell.
    return Console(width=100_000, no_color=True)


def load_data(
    data: Path,
    target: str,
    *,
    task_type: str | None,
    metric: str | None = None,
    encoding: str | None = None,
    quiet: bool = False,
) -> Any:
    """Read the user's dataset and say on stderr which task was inferred and why (unless
    ``quiet``: with ``--json`` the payload says it)."""
    from mile_meta.data import load_dataset

    dataset = load_dataset(data, target, task_type=task_type, metric=metric, encoding=encoding)
    if task_type is None and not quiet:
        click.echo(
            f"task: {dataset.task_type}, {dataset.task_reason} (pass --task to override)",
            err=True,
        )
    return dataset


def recording_allowed(kb: Any, record: bool) -> bool:
    """Whether a run can be recorded; a read-only knowledge base is said *before* the work,
    and the work goes ahead unrecorded rather than failing when it is done."""
    if record and not kb.writable:
        click.echo(
            f"warning: {kb.path} is read-only; this run will not be recorded (pass --no-record "
            "to say so, or make the file writable)",
            err=True,
        )
        return False
    return record
