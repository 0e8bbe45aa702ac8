"""Build the knowledge base from the offline corpus snapshot."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mile_meta.kb._store import IngestReport, KnowledgeBase

if TYPE_CHECKING:
    from mile_meta.sources import Source

__all__ = ["build_knowledge_base", "ensure_default_knowledge_base"]

logger = logging.getLogger(__name__)

SourceCallback = Callable[[str, int | None], Callable[[int], None] | None]


def build_knowledge_base(
    path: str | Path | None = None,
    sources: Sequence[str] | None = None,
    *,
    snapshot_dir: Path | None = None,
    on_source: SourceCallback | None = None,
) -> list[IngestReport]:
    """Ingest each named source (default: every offline corpus) into the knowledge base.

    ``path`` defaults to ``$MILE_META_KB`` or the per-user data folder. A file that does not
    exist yet is built beside it (``<name>.partial``) and moved into place only when every
    source is in, so a failed or interrupted build leaves no knowledge base rather than one
    that later commands would take for complete. An existing file is updated one
    transaction per source: a failure keeps the sources ingested before it and the previous
    state of the failing one. ``on_source(name, estimated_records)`` may return a progress
    callback receiving the number of records written so far.
    """
    from mile_meta.config import default_kb_path
    from mile_meta.sources import DEFAULT_SOURCES, make_source

    resolved = Path(path).expanduser() if path is not None else default_kb_path()
    chosen = list(sources) if sources else list(DEFAULT_SOURCES)
    # Make every source first, so a typo in the last name fails before any work.
    made = [make_source(name, snapshot_dir) for name in chosen]
    if resolved.exists():
        with KnowledgeBase.open(resolved) as kb:
            return [_ingest(kb, source, on_source) for source in made]
    if path is None:
        resolved.parent.mkdir(parents=True, exist_ok=True)
    partial = resolved.with_name(resolved.name + ".partial")
    _remove_database_files(partial)
    try:
        with KnowledgeBase.open(partial) as kb:
            reports = [_ingest(kb, source, on_source) for source in made]
    except BaseException:
        _remove_database_files(partial)
        raise
    partial.replace(resolved)
    return reports


def ensure_default_knowledge_base(notify: Callable[[str], None] | None = None) -> Path:
    """Return the default knowledge base's path, building it from the bundled snapshot first
    if it is not there yet (about half a minute, once per machine).

    ``notify`` receives a one-line message before a build starts (the CLI prints it).
    """
    from mile_meta.config import default_kb_path

    path = default_kb_path()
    if not path.exists():
        message = f"building the default knowledge base at {path} (first run, about 30 s)"
        logger.info(message)
        if notify is not None:
            notify(message)
        path.parent.mkdir(parents=True, exist_ok=True)
        build_knowledge_base(path)
    return path


def _ingest(kb: KnowledgeBase, source: Source, on_source: SourceCallback | None) -> IngestReport:
    source.info()  # fail on missing files before opening a transaction
    progress = on_source(source.name, source.estimated_records()) if on_source else None
    return kb.ingest(source, progress=progress)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
