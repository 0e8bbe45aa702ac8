"""The ``mile-meta`` command line: a thin layer over the Python API.

Each command group lives in its own module (``mile_meta/cli/<name>.py``) exposing a click
command called ``command``; modules are imported only when their command runs, so
``mile-meta --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any

import click

from mile_meta import __version__
from mile_meta.errors import MileMetaError

__all__ = ["main"]

# command name -> (module, one-line help shown in `mile-meta --help`)
_COMMANDS: dict[str, tuple[str, str]] = {
    "kb": ("mile_meta.cli.kb", "Build, inspect and query the knowledge base."),
    "corpora": ("mile_meta.cli.corpora", "Fetch the offline corpora and rebuild the snapshot."),
    "recommend": ("mile_meta.cli.recommend", "Rank the pipelines to try first on a dataset."),
    "evaluate": ("mile_meta.cli.evaluate", "Cross-validate one pipeline on your data."),
    "search": ("mile_meta.cli.search", "Autopilot / cruise-control search for a fitted model."),
    "priors": ("mile_meta.cli.priors", "Export the prior for Optuna, SMAC, FLAML, hyperopt, Ray."),
    "crawl": ("mile_meta.cli.crawl", "Grow the knowledge base from OpenML."),
    "patterns": ("mile_meta.cli.patterns", "Write, search and answer practitioner patterns."),
    "models": ("mile_meta.cli.models", "Train and inspect the default meta-learner."),
    "serve": ("mile_meta.cli.serve", "Serve recommendations and priors over HTTP on loopback."),
    "examples": ("mile_meta.cli.examples", "List the bundled example datasets and their paths."),
    "ui": ("mile_meta.cli.ui", "Open the workbench web page (recommend, edit, compare, search)."),
    "cache": ("mile_meta.cli.cache", "Show or free what evaluations keep for reuse."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module = importlib.import_module(_COMMANDS[cmd_name][0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MileMetaError as error:
            # 2 for usage errors (as click), 1 for runtime errors: see mile_meta.errors
            click.echo(f"Error: {_one_line(error)}", err=True)
            sys.exit(error.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except OSError as error:
            # a full disk, a permission or a vanished file: the system's words are the message
            if os.environ.get(_DEBUG_ENV_VAR):
                raise
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            click.echo(f"Error: {error.strerror or error}{where}", err=True)
            sys.exit(1)
        except Exception as error:
            # never a traceback for the user; one line and how to get the details
            if os.environ.get(_DEBUG_ENV_VAR):
                raise
            extra = _missing_extra(error) if isinstance(error, ImportError) else None
            if extra is not None:
                click.echo(f"Error: {extra}", err=True)
                sys.exit(1)
            click.echo(
                f"Error: unexpected {type(error).__name__}: {_one_line(error)} "
                f"(a bug in mile-meta; rerun with {_DEBUG_ENV_VAR}=1 for the traceback and report it)",
                err=True,
            )
            sys.exit(1)


_DEBUG_ENV_VAR = "MILE_META_DEBUG"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mile-meta")
def main() -> None:
    """mile-meta: what to try first on your dataset, and why.

    \b
    Example:
      mile-meta recommend data.csv --target y
    """
    # a warning for the user (e.g. rows left out) reads as one line, not a source listing
    warnings.formatwarning = _one_line_warning


# optional libraries -> the extra that installs them (the base install leaves them out)
_EXTRAS = {"openml": "crawl", "pyarrow": "parquet", "fastparquet": "parquet"}


def _missing_extra(error: ImportError) -> str | None:
    """The one-line advice for an optional library that is not installed, or None."""
    missing = (error.name or "").split(".")[0]
    if missing not in _EXTRAS:  # pandas names no module when no Parquet engine is installed
        missing = next((name for name in _EXTRAS if name in str(error)), "")
    if not missing:
        return None
    extra = _EXTRAS[missing]
    return (
        f"this needs {missing}, which is not installed: pip install 'mile-meta[{extra}]'"
        f" (in a checkout: pip install -e '.[{extra}]')"
    )


def _one_line_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> str:
    return f"warning: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    main()
