"""Build the knowledge base from the offline corpus snapshot."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mile_meta.errors import KnowledgeBaseError
from mile_meta.kb._store import IngestReport, KnowledgeBase

if TYPE_CHECKING:
    from mile_meta.sources import Source

__all__ = ["build_knowledge_base", "ensure_default_knowledge_base"]

logger = logging.getLogger(__name__)

# How long a process waits for another one building the same knowledge base (a full build
# takes about half a minute; a loaded machine or a slow disk, several).
_BUILD_WAIT_SECONDS = 30 * 60

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
    if path is None:
        resolved.parent.mkdir(parents=True, exist_ok=True)
    elif not resolved.parent.is_dir():
        # checked here because the build lock would create the folder: a typo in --kb
        # must not grow a new folder with a 100 MB knowledge base in it
        raise KnowledgeBaseError(
            f"folder {resolved.parent} does not exist; create it or pass another --kb path",
            usage=True,
        )
    if resolved.exists():
        return _update(resolved, made, on_source)
    with build_lock(resolved):
        if resolved.exists():
            # another process built it while we waited: what it ingested from the same
            # corpus files is not ingested again (N builds at once make one build)
            return _update(resolved, made, on_source, skip_unchanged=True)
        return _build_new(resolved, made, on_source)


def _update(
    path: Path,
    made: list[Source],
    on_source: SourceCallback | None,
    *,
    skip_unchanged: bool = False,
) -> list[IngestReport]:
    with KnowledgeBase.open(path) as kb:
        kb.require_writable("ingest the corpora")
        reports = []
        for source in made:
            info = source.info()
            held = kb.source_provenance(info.name) if skip_unchanged else None
            if held is not None and held == (info.version, [list(f) for f in info.files]):
                reports.append(IngestReport(info.name, kb.source_counts(info.name), 0.0))
                continue
            reports.append(_ingest(kb, source, on_source))
        return reports


def _build_new(
    resolved: Path, made: list[Source], on_source: SourceCallback | None
) -> list[IngestReport]:
    # Called with the build lock held: nobody else is writing the .partial file, so what is
    # there was left by an interrupted build and goes.
    partial = resolved.with_name(resolved.name + ".partial")
    _remove_database_files(partial)
    try:
        with KnowledgeBase.open(partial) as kb:
            reports = [_ingest(kb, source, on_source) for source in made]
            # fold the write-ahead log into the file, so the rename moves one complete file
            kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        _remove_database_files(partial)
        raise
    _remove_database_files(partial, keep_database=True)
    partial.replace(resolved)
    return reports


@contextlib.contextmanager
def build_lock(path: Path, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock that lets one process at a time create the knowledge base at ``path``.

    The lock is an OS file lock on ``<path>.lock`` (released by the kernel when a process
    dies, so a killed build never blocks the next one). Others wait; ``notify`` hears once
    that they do.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(path.with_name(path.name + ".lock")))
    try:
        try:
            lock.acquire(timeout=0.1)
        except Timeout:
            message = f"waiting for another mile-meta process to finish building {path}"
            logger.info(message)
            if notify is not None:
                notify(message)
            lock.acquire(timeout=_BUILD_WAIT_SECONDS)
    except Timeout as error:
        raise KnowledgeBaseError(
            f"another process has been building {path} for over {_BUILD_WAIT_SECONDS // 60} "
            "minutes; wait for it or pass another --kb path"
        ) from error
    except OSError as error:
        raise KnowledgeBaseError(
            f"cannot lock {path} for building ({error.strerror or error}); "
            "check that its folder is writable or pass another --kb path"
        ) from error
    try:
        yield
    finally:
        lock.release()


def ensure_default_knowledge_base(
    notify: Callable[[str], None] | None = None, on_source: SourceCallback | None = None
) -> Path:
    """Return the default knowledge base's path, building it from the bundled snapshot first
    if it is not there yet (about half a minute, once per machine).

    Several processes starting at once build it once: the first builds under a file lock,
    the others wait for it and then use it. ``notify`` receives a one-line message before a
    build starts (the CLI prints it); ``on_source`` is passed to :func:`build_knowledge_base`
    for a progress display.
    """
    from mile_meta.config import default_kb_path

    path = default_kb_path()
    if path.exists():  # the build renames a complete file into place: existing means complete
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(path, notify):
        if not path.exists():
            message = f"building the default knowledge base at {path} (first run, about 30 s)"
            logger.info(message)
            if notify is not None:
                notify(message)
            from mile_meta.sources import DEFAULT_SOURCES, make_source

            made = [make_source(name, None) for name in DEFAULT_SOURCES]
            _build_new(path, made, on_source)
    return path


def _ingest(kb: KnowledgeBase, source: Source, on_source: SourceCallback | None) -> IngestReport:
    source.info()  # fail on missing files before opening a transaction
    progress = on_source(source.name, source.estimated_records()) if on_source else None
    return kb.ingest(source, progress=progress)


def _remove_database_files(path: Path, *, keep_database: bool = False) -> None:
    for suffix in ("-wal", "-shm") if keep_database else ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
