"""What the portfolio sources share: a ranked configuration list as knowledge-base records.

AutoML tools ship *portfolios*: configurations in the order the tool tries them, learned
offline so that the first few cover most datasets. A portfolio has no scores to give, only
positions, and the knowledge base records a position as an evaluation in the metric
``portfolio_rank`` (1 = tried first; lower is better) on a *portfolio dataset* that stands
for the collection the tool learned it on (``autogluon_portfolio:zeroshot_2023/binary``).
Where a tool keys its portfolio by dataset (FLAML orders it per training dataset, described
by four meta-features), each such dataset is a portfolio dataset with those qualities.
This needs no new table and keeps portfolios out of every learner that reads a real metric;
:func:`mile_meta.kb.portfolio_positions` reads them back.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from mile_meta.kb._portfolios import PORTFOLIO_METRIC
from mile_meta.pipelines.components import family_of
from mile_meta.pipelines.translate import Translation
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    TaskRecord,
    dataset_key,
)
from mile_meta.sources._base import Source

__all__ = [
    "PORTFOLIO_METRIC",
    "PortfolioSlot",
    "PortfolioSource",
    "portfolio_records",
    "read_gzip_json",
]


@dataclass(frozen=True)
class PortfolioSlot:
    """One position of one portfolio, as a source reads it from the tool's file.

    ``portfolio`` names the ranked list (one per task type, and per training dataset where
    the tool keeps one per dataset); ``rank`` is 1-based; ``raw`` is the configuration as the
    tool wrote it (canonical JSON), stored in place of a spec when it cannot be translated.
    """

    portfolio: str
    task_type: str
    rank: int
    origin_key: str
    translation: Translation
    raw: str
    family_hint: str = ""  # family of an untranslatable configuration (the tool's model name)


def read_gzip_json(path: object, corpus: str) -> object:
    """A gzipped JSON snapshot file; a missing or corrupt file is a ``CorpusError``."""
    import gzip
    from pathlib import Path

    from mile_meta.errors import CorpusError

    fix = "rebuild the snapshot with `mile-meta corpora fetch`"
    file = Path(str(path))
    try:
        with gzip.open(file, "rb") as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        raise CorpusError(f"{corpus} file {file} is missing; {fix}") from None
    except (OSError, EOFError, ValueError) as error:
        raise CorpusError(f"{corpus} file {file} is corrupt ({error}); {fix}") from error


def _pipeline(slot: PortfolioSlot) -> PipelineRecord:
    spec = slot.translation.spec
    task_type = "regression" if slot.task_type == "regression" else "classification"
    if spec is not None:
        return PipelineRecord(
            spec.pipeline_id, spec.to_json(), family_of(spec), slot.origin_key, True, task_type
        )
    pipeline_id = hashlib.sha256(slot.raw.encode()).hexdigest()[:16]
    return PipelineRecord(
        pipeline_id, slot.raw, slot.family_hint or "unknown", slot.origin_key, False, task_type
    )


def portfolio_records(
    source: str,
    slots: Iterable[PortfolioSlot],
    *,
    procedure: str,
    qualities: Mapping[str, Mapping[str, float]] | None = None,
) -> Iterator[Record]:
    """Pipelines, portfolio datasets (with ``qualities`` per portfolio), tasks, then ranks."""
    slots = list(slots)
    pipeline_of: dict[tuple[str, str], str] = {}
    seen_origins: set[str] = set()
    for slot in slots:
        record = _pipeline(slot)
        pipeline_of[(slot.portfolio, slot.origin_key)] = record.pipeline_id
        if slot.origin_key not in seen_origins:
            seen_origins.add(slot.origin_key)
            yield record
    portfolios = dict.fromkeys((slot.portfolio, slot.task_type) for slot in slots)
    for portfolio, task_type in portfolios:
        dataset_id = dataset_key(source=source, name=portfolio)
        described = (qualities or {}).get(portfolio, {})
        n_rows = described.get("NumberOfInstances")
        n_features = described.get("NumberOfFeatures")
        yield DatasetRecord(
            dataset_id,
            f"{source} {portfolio}",
            n_rows=None if n_rows is None else round(n_rows),
            n_features=None if n_features is None else round(n_features),
            origin_key=portfolio,
        )
        for name, value in sorted(described.items()):
            yield QualityRecord(dataset_id, name, float(value))
        yield TaskRecord(
            f"{source}:{portfolio}",
            dataset_id,
            task_type,
            estimation_procedure=procedure,
            metric=PORTFOLIO_METRIC,
        )
    for slot in slots:
        yield EvaluationRecord(
            dataset_id=dataset_key(source=source, name=slot.portfolio),
            pipeline_id=pipeline_of[(slot.portfolio, slot.origin_key)],
            metric=PORTFOLIO_METRIC,
            value=float(slot.rank),
            higher_is_better=False,
            task_id=f"{source}:{slot.portfolio}",
            run_key=slot.origin_key,
        )


class PortfolioSource(Source):
    """A source whose records are ranked portfolios: subclasses say how to read the slots."""

    procedure: ClassVar[str]  # how the tool ordered its lists (stored as each task's procedure)

    @abc.abstractmethod
    def slots(self) -> list[PortfolioSlot]:
        """Every position of every portfolio, with its translation."""

    def qualities(self) -> dict[str, dict[str, float]]:
        """Meta-features (OpenML names and units) of the portfolio datasets that have them."""
        return {}

    def records(self) -> Iterator[Record]:
        yield from portfolio_records(
            self.name, self.slots(), procedure=self.procedure, qualities=self.qualities()
        )
