"""Build the default knowledge base from the offline corpus snapshot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mile_meta.kb._store import IngestReport, KnowledgeBase

__all__ = ["build_knowledge_base"]


def build_knowledge_base(
    path: str | Path | None = None,
    sources: Sequence[str] | None = None,
    *,
    snapshot_dir: Path | None = None,
    on_source: Callable[[str, int | None], Callable[[int], None] | None] | None = None,
) -> list[IngestReport]:
    """Ingest each named source (default: every offline corpus) into the knowledge base.

    Each source is one transaction: a failure leaves the sources ingested before it and the
    previous state of the failing one. ``on_source(name, estimated_records)`` may return a
    progress callback receiving the number of records written so far.
    """
    from mile_meta.sources import DEFAULT_SOURCES, make_source

    chosen = list(sources) if sources else list(DEFAULT_SOURCES)
    # Make every source first, so a typo in the last name fails before any work.
    made = [make_source(name, snapshot_dir) for name in chosen]
    reports = []
    with KnowledgeBase.open(path) as kb:
        for source in made:
            source.info()  # fail on missing files before opening a transaction
            progress = on_source(source.name, source.estimated_records()) if on_source else None
            reports.append(kb.ingest(source, progress=progress))
    return reports
