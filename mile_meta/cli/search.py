"""``mile-meta search``: autopilot and cruise-control search for a fitted model."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from mile_meta.cli._common import (
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
    stdout_console,
    target_option,
    task_option,
)


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--include a,b --include c`` as ("a", "b", "c")."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


class _Folds(click.ParamType):
    """``--cv``: ``auto`` or a whole number of folds, at least 2."""

    name = "auto|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and int(text) >= 2:
            return int(text)
        self.fail(f"{value!r} is neither auto nor a number of folds of 2 or more", param, ctx)


_FOLDS = _Folds()


def _terminate_as_interrupt() -> None:
    """SIGTERM (``kill``, a job scheduler) behaves as Ctrl-C from the command's start: during
    the search the best so far is kept; before it, the command stops cleanly."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _check_writable(folder: Path) -> None:
    from mile_meta.errors import MileMetaError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".mile-meta-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise MileMetaError(
            f"cannot write to --out {folder} ({error.strerror or error}); pass a writable folder",
            usage=True,
        ) from None


class _LiveProgress:
    """A rich progress bar over the budget, with the evaluation count and the best so far."""

    def __init__(self, budget_seconds: float, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None
        self.budget = budget_seconds

    def __enter__(self) -> _LiveProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("[bold]{task.fields[phase]:<10}"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[evaluations]} evaluated"),
                TextColumn("best {task.fields[best]}"),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(
                "search", total=self.budget, phase="starting", evaluations=0, best="-"
            )
        return self

    def __call__(self, update: Any) -> None:
        if self.progress is None:
            return
        best = "-"
        if update.best_score is not None:
            best = (
                f"{update.best_score:.4f} {update.metric} · {(update.best_description or '')[:48]}"
            )
        self.progress.update(
            self.task,
            completed=min(update.elapsed_seconds, self.budget),
            phase=update.phase,
            evaluations=update.evaluations,
            best=best,
        )

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


@click.command("search")
@data_argument
@target_option
@click.option(
    "--budget", default="60s", show_default=True, help="Wall-clock budget: 60s, 5m, 1h or seconds."
)
@metric_option
@click.option(
    "--include",
    multiple=True,
    help="Only these families or estimators (comma-separated or repeated).",
)
@click.option("--exclude", multiple=True, help="Leave out these families or estimators.")
@click.option(
    "--pin",
    "pins",
    multiple=True,
    help="Fix a hyperparameter: Component.parameter=value (repeatable).",
)
@click.option(
    "--max-fit-time", default=None, help="Stop any model whose fit takes longer (e.g. 10s)."
)
@click.option("--max-model-size", default=None, help="Largest final model, pickled (e.g. 50MB).")
@click.option(
    "--max-memory", default=None, help="Memory limit of the process that fits models (e.g. 4GB)."
)
@click.option(
    "--interpretable",
    is_flag=True,
    help="Only models a person can read (linear, tree, naive Bayes).",
)
@task_option
@click.option(
    "--cv",
    default="auto",
    show_default=True,
    type=_FOLDS,
    help="Cross-validation folds (2 or more), or auto (5 up to 1000 rows, else 3).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for model.joblib, spec.json, leaderboard.csv and report.html.",
)
@click.option(
    "--seed", default=0, show_default=True, help="Seed: the same seed proposes the same candidates."
)
@click.option(
    "--no-ensemble",
    is_flag=True,
    help="Keep one pipeline as the final model (no ensemble; implied by --interpretable).",
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=int,
    help="Candidates evaluated at once, each in its own process (-1: every core).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Evaluate the candidates on this Dask cluster (the knowledge base stays here).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the search kept in --out (after Ctrl-C or a kill); nothing is evaluated twice.",
)
@click.option("--no-prior", is_flag=True, help="Search without the knowledge base's prior.")
@click.option("--no-record", is_flag=True, help="Do not record the runs in the knowledge base.")
@click.option(
    "--no-local",
    is_flag=True,
    help="Read the prior from the corpora alone, ignoring the runs recorded on your own data.",
)
@click.option(
    "--portfolio",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Add the first N configurations of the portfolios AutoGluon, FLAML and auto-sklearn 2.0 "
    "ship to the warm start.",
)
@encoding_option
@exclude_dataset_option("exclude_datasets")
@kb_option
@json_option
def command(
    data: Path,
    target: str,
    budget: str,
    metric: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    pins: tuple[str, ...],
    max_fit_time: str | None,
    max_model_size: str | None,
    max_memory: str | None,
    interpretable: bool,
    task_type: str | None,
    cv: int | str,
    out: Path | None,
    seed: int,
    no_ensemble: bool,
    jobs: int,
    scheduler: str | None,
    resume: bool,
    no_prior: bool,
    no_record: bool,
    no_local: bool,
    portfolio: int,
    encoding: str | None,
    exclude_datasets: tuple[str, ...],
    kb_path: Path | None,
    as_json: bool,
) -> None:
    """Search for the best pipeline on DATA within a time budget, refit it and save it.

    Without constraints this is the autopilot: the knowledge base picks the first candidates
    (its top recommendations), leaves out what never wins on similar data, and judges
    candidates on subsamples first; Optuna's TPE takes over after the warm start. Any of
    --include/--exclude/--pin/--max-fit-time/--max-model-size/--interpretable makes it
    cruise-control. Every evaluation is recorded in the knowledge base as a local run.

    The final model is an ensemble of the best pipelines when that scores better out of fold
    (--no-ensemble keeps one), and for balanced accuracy or F1 its decision threshold (or class
    weights) is tuned to the metric. The budget is wall-clock time from the command's start:
    start-up, reading the data, the search, the refit and the files written all fit in it.
    If no candidate completes, the most common error is shown and the exit code is 1.

    \b
    Example:
      mile-meta search corpora/examples/credit-g.csv --target class --budget 60s --out search-out
      mile-meta search data.csv --target y --budget 5m --interpretable --max-fit-time 10s
      mile-meta search data.csv --target y --budget 5m --jobs -1
      mile-meta search data.csv --target y --budget 5m --out run1 --resume
      mile-meta search data.csv --target y --budget 5m --scheduler tcp://10.0.0.5:8786
    """
    from mile_meta.search._clock import command_clock_start, is_command_process

    if resume and out is None:
        raise click.UsageError("--resume continues the search kept in a folder: pass its --out")
    if jobs == 0 or jobs < -1:
        raise click.UsageError(
            f"--jobs {jobs}: pass 1, 2… candidates at once, or -1 for every core"
        )

    clock_start = command_clock_start()  # the user's clock: from the command's start
    if is_command_process():  # not in a host process (a test runner, a notebook)
        _terminate_as_interrupt()
    from mile_meta.search import SearchSettings, cruise_control, parse_duration, parse_pins

    seconds = parse_duration(budget)
    # what comes after the model (recording the runs, the files, the printout) is in the
    # budget too: held back from the search
    tail = min(0.25 * seconds, 0.3 + (0.2 if not no_record else 0.0) + (1.2 if out else 0.0))
    pinned = dict(parse_pins(pins))
    dataset = load_data(
        data, target, task_type=task_type, metric=metric, encoding=encoding, quiet=as_json
    )
    if out is not None:
        _check_writable(out)  # before the budget is spent, not after
    record = not no_record
    if not no_prior or record:
        from mile_meta.config import default_kb_path

        first_use = kb_path is None and not default_kb_path().exists()
        with open_knowledge_base(kb_path) as kb:
            record = recording_allowed(kb, record)  # said before the budget is spent
        if first_use:
            # building the default knowledge base is one-time set-up, not the search's time
            clock_start = time.perf_counter()
    settings = SearchSettings.create(
        budget=max(1.0, seconds - tail),
        include=_names(include),
        exclude=_names(exclude),
        pinned=pinned,
        max_fit_seconds=max_fit_time,
        interpretable=interpretable,
        max_model_bytes=max_model_size,
        max_memory_bytes=max_memory,
        exclude_datasets=exclude_datasets,
        ensemble=not no_ensemble,
        metric=metric,
        seed=seed,
        cv=cv,
        use_prior=not no_prior,
        record=record,
        use_local=not no_local,
        portfolio=portfolio,
        clock_start=clock_start,
        jobs=jobs,
        scheduler=scheduler,
        # with --out the search keeps its study and evaluations there, so it can be resumed;
        # not for budgets under 30 s, where the study's SQLite set-up (1-2 s on a busy machine)
        # would take a large share of the time
        resume_folder=str(out) if out is not None and (resume or seconds >= 30) else None,
        resume=resume,
    )
    with _LiveProgress(seconds, enabled=not as_json) as progress:
        result = cruise_control(dataset, settings=settings, kb=kb_path, progress=progress)
    written = result.save(out) if out is not None else {}
    if as_json:
        payload = result.summary()
        payload["files"] = {name: str(path) for name, path in written.items()}
        echo_json(payload)
    else:
        _print_result(result, written, recorded=record and bool(result.evaluation_results))
    if result.estimator is None:
        reason = result.most_common_error or "no candidate completed in time"
        click.echo(f"Error: no model: {reason}", err=True)
        sys.exit(1)


def _print_result(result: Any, written: dict[str, Path], recorded: bool) -> None:
    from rich import box
    from rich.table import Table

    console = stdout_console()
    best = result.best
    console.print(
        f"[bold]{result.preset}[/] on {result.dataset_name}: {len(result.evaluations)} evaluations "
        f"in {result.elapsed_seconds:.1f} s of {result.budget_seconds:.0f} s ({result.stopped_because})"
    )
    for note in result.notes:
        console.print(f"  · {note}")
    if best is None:
        console.print("[red]No candidate completed; see the leaderboard for the errors.[/]")
    elif result.ensemble is not None and result.ensemble.is_ensemble:
        console.print(
            f"final model: an ensemble, out-of-fold {result.metric} "
            f"{result.ensemble.score:.4f} (best single pipeline {result.ensemble.single_score:.4f})"
        )
        for member, description, weight in result.ensemble.members:
            console.print(f"  {weight:5.2f} x #{member} {description}")
    elif best.score is None:
        console.print(f"model: [bold]{best.candidate.spec.describe()}[/] (not scored in time)")
    else:
        console.print(
            f"best: [bold]{best.candidate.spec.describe()}[/]  {result.metric} "
            f"{best.score:.4f} ± {best.std:.4f} ({best.fidelity.label})\n  why: {best.candidate.reason}"
        )
    board = result.leaderboard.head(10)
    table = Table(box=box.SIMPLE)
    for name, width in [
        ("#", 2),
        ("pipeline", 36),
        ("score ± std", 16),
        ("fit s", 6),
        ("fidelity", 9),
        ("status", 8),
        ("why tried", 28),
    ]:
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=width)

    def number(value: Any, digits: int) -> str:
        return "" if value is None or value != value else f"{value:.{digits}f}"

    for row in board.itertuples():
        score = number(row.score, 4)
        table.add_row(
            str(row.rank),
            str(row.description),
            f"{score} ± {number(row.std, 3)}" if score else "",
            number(row.fit_seconds, 2),
            str(row.fidelity),
            str(row.status),
            str(row.reason),
        )
    console.print(table)
    pruned = [c for c in result.cuts if c.source == "prior"]
    if pruned:
        console.print(f"pruned by the prior: {len(pruned)} cuts (see the report)")
    for name, path in written.items():
        console.print(f"{name}: {path}")
    if recorded:
        console.print(
            f"recorded as search {result.search_id} "
            f"(undo: mile-meta kb forget-runs --search {result.search_id})"
        )
