"""The ``mile-meta`` command line: a thin layer over the Python API.

Each command group lives in its own module (``mile_meta/cli/<name>.py``) exposing a click
command called ``command``; modules are imported only when their command runs, so
``mile-meta --help`` stays fast.
"""

from __future__ import annotations

import importlib
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
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)


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


def _one_line_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> str:
    return f"warning: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    main()
