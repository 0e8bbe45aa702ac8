"""auto-sklearn 0.15.0 meta-learning files (placeholder until the translator lands)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mile_meta.corpora import default_snapshot_dir
from mile_meta.errors import CorpusError
from mile_meta.records import Record, SourceInfo
from mile_meta.sources._base import Source

__all__ = ["AutoSklearnSource", "write_autosklearn_snapshot"]


def write_autosklearn_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    raise CorpusError("the auto-sklearn snapshot writer is not implemented yet")


class AutoSklearnSource(Source):
    name = "autosklearn"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / "autosklearn"

    def info(self) -> SourceInfo:
        raise CorpusError("the auto-sklearn source is not implemented yet")

    def records(self) -> Iterator[Record]:
        raise CorpusError("the auto-sklearn source is not implemented yet")
