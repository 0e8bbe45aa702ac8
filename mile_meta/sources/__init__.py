"""Corpus sources: each a plug-in yielding typed records with provenance.

``available_sources()`` lists the offline corpora the default knowledge base is built from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mile_meta.sources._base import Source, sha256_of

__all__ = [
    "DEFAULT_SOURCES",
    "Source",
    "available_sources",
    "make_source",
    "sha256_of",
    "snapshot_writers",
]

DEFAULT_SOURCES = (
    "oboe",
    "lcdb",
    "autosklearn",
    "defaults",
)


def available_sources() -> dict[str, type[Source]]:
    """Offline corpus sources by name (imported lazily: each pulls in its translator)."""
    from mile_meta.sources.autosklearn import AutoSklearnSource
    from mile_meta.sources.defaults import DefaultsSource
    from mile_meta.sources.lcdb import LcdbSource
    from mile_meta.sources.oboe import OboeSource

    return {
        "oboe": OboeSource,
        "lcdb": LcdbSource,
        "autosklearn": AutoSklearnSource,
        "defaults": DefaultsSource,
    }


def make_source(name: str, snapshot_dir: Path | None = None) -> Source:
    """The offline source called ``name`` reading ``snapshot_dir`` (default: the bundled snapshot)."""
    from mile_meta.errors import MileMetaError

    sources = available_sources()
    if name not in sources:
        raise MileMetaError(f"unknown source {name!r}; use one of {', '.join(sorted(sources))}")
    folder = snapshot_dir / name if snapshot_dir is not None else None
    return sources[name](folder)  # type: ignore[call-arg]


def snapshot_writers() -> dict[str, Callable[[Path, Path], dict[str, str]]]:
    """Per corpus, the function that writes its compact snapshot from the unpacked package."""
    from mile_meta.sources.autosklearn import write_autosklearn_snapshot
    from mile_meta.sources.lcdb import write_lcdb_snapshot
    from mile_meta.sources.oboe import write_oboe_snapshot

    return {
        "oboe": write_oboe_snapshot,
        "lcdb": write_lcdb_snapshot,
        "autosklearn": write_autosklearn_snapshot,
    }
