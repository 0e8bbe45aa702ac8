"""``mile-meta cache``: show and free what evaluations keep for reuse."""

from __future__ import annotations

from pathlib import Path

import click

from mile_meta.cli._common import echo_json, json_option

_FOLDER_HELP = "Store folder (default: the reuse folder in $MILE_META_CACHE or the user cache)."


def _folder_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--folder",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=_FOLDER_HELP,
    )(function)


@click.group("cache")
def command() -> None:
    """Show or free the reuse store (preprocessed folds, fitted models, predictions).

    \b
    Example:
      mile-meta cache info && mile-meta cache clear
    """


@command.command("info")
@_folder_option
@json_option
def info(folder: Path | None, as_json: bool) -> None:
    """Where the store is, how many results it holds and how much disk they take.

    \b
    Example:
      mile-meta cache info --json
    """
    from mile_meta.reuse import default_store_folder, inspect_store

    shown = inspect_store(folder or default_store_folder())
    if as_json:
        echo_json(
            {
                "folder": str(shown.folder),
                "entries": shown.disk_entries,
                "bytes": shown.disk_bytes,
                "max_bytes": shown.max_disk_bytes,
            }
        )
        return
    click.echo(
        f"{shown.folder}: {shown.disk_entries} results, {shown.disk_bytes / 1e6:.1f} MB "
        f"of at most {shown.max_disk_bytes / 1e6:.0f} MB"
    )


@command.command("clear")
@_folder_option
@json_option
def clear(folder: Path | None, as_json: bool) -> None:
    """Delete everything the store keeps (later evaluations compute it again).

    \b
    Example:
      mile-meta cache clear
    """
    from mile_meta.reuse import default_store_folder, remove_store

    target = folder or default_store_folder()
    freed = remove_store(target)
    if folder is None:  # the former fold cache's folder, from earlier versions
        freed += remove_store(target.parent / "folds")
    if as_json:
        echo_json({"folder": str(target), "freed_bytes": freed})
        return
    click.echo(f"cleared {target}: {freed / 1e6:.1f} MB freed")
