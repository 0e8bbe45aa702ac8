"""The ``Source`` interface: a corpus that yields typed records with provenance."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from mile_meta.errors import CorpusError
from mile_meta.records import Record, SourceInfo

__all__ = ["Source", "read_snapshot_csv", "sha256_of", "snapshot_source_info"]


class Source(abc.ABC):
    """A corpus of meta-data, read into the knowledge base by :meth:`KnowledgeBase.ingest`.

    Contract (checked for every source by :func:`mile_meta.testing.check_source_contract`):

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


def read_snapshot_csv(path: Path, corpus: str, **read_csv: Any) -> Any:
    """A gzipped snapshot CSV as a DataFrame; a missing or corrupt file is a ``CorpusError``."""
    import gzip
    import io

    import pandas as pd

    fix = "rebuild the snapshot with `mile-meta corpora fetch`"
    try:
        with gzip.open(path, "rb") as handle:
            return pd.read_csv(io.BytesIO(handle.read()), **read_csv)
    except FileNotFoundError:
        raise CorpusError(f"{corpus} file {path} is missing; {fix}") from None
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as error:
        raise CorpusError(f"{corpus} file {path} is corrupt ({error}); {fix}") from error


def snapshot_source_info(
    name: str, folder: Path, files: tuple[str, ...], extra: tuple[tuple[str, str], ...] = ()
) -> SourceInfo:
    """Provenance of a corpus read from its snapshot folder: the snapshot files read, any
    ``extra`` (file, sha256) pairs, and the package archive they were derived from."""
    from mile_meta.corpora import CORPUS_PACKAGES, read_provenance

    provenance = read_provenance(folder)
    package = CORPUS_PACKAGES[name]
    digests = (*((file, sha256_of(folder / file)) for file in files), *extra)
    archive = provenance.get("archive", {})
    if isinstance(archive, dict) and archive.get("file"):
        digests = (*digests, (str(archive["file"]), str(archive["sha256"])))
    return SourceInfo(
        name, package.version, package.licence, package.url, digests, package.description
    )
