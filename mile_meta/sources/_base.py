"""The ``Source`` interface: a corpus that yields typed records with provenance."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from mile_meta.errors import CorpusError
from mile_meta.records import Record, SourceInfo

__all__ = ["Source", "sha256_of"]


class Source(abc.ABC):
    """A corpus of meta-data, read into the knowledge base by :meth:`KnowledgeBase.ingest`.

    Contract (checked for every source by ``tests/sources/test_source_contract.py``):

    - :meth:`info` names the source, its version, licence and the sha256 of every file read;
    - :meth:`records` yields only :mod:`mile_meta.records` types; every evaluation refers to
      a dataset and a pipeline yielded before it; the same files give the same records;
    - a missing or corrupt file raises :class:`~mile_meta.errors.CorpusError` naming the file
      and the fix, before anything is yielded.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def info(self) -> SourceInfo:
        """Provenance of what :meth:`records` reads."""

    @abc.abstractmethod
    def records(self) -> Iterator[Record]:
        """Datasets, qualities, tasks and pipelines first, then evaluations."""

    def estimated_records(self) -> int | None:
        """A guess of how many records :meth:`records` yields (for progress bars)."""
        return None


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, with a clear error if it is missing."""
    if not path.is_file():
        raise CorpusError(
            f"corpus file {path} is missing; rebuild the snapshot with `mile-meta corpora fetch`"
        )
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
