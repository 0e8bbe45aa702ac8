"""The record :func:`compute_metafeatures` returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import pandas as pd

from mile_meta.records import QualityRecord, TaskType

__all__ = ["MetaFeatures"]


@dataclass(frozen=True)
class MetaFeatures:
    """OpenML qualities of one dataset, by OpenML's quality names.

    ``items`` holds ``(name, value)`` pairs sorted by name; every value is a finite float. A
    quality that could not be computed (no numeric attribute, regression target for a class
    quality, landmarker over the time budget) is absent rather than NaN. ``skipped_landmarkers``
    names the landmarkers left out because of the time budget, so a caller can tell "not
    computed" from "not applicable".
    """

    task_type: TaskType
    items: tuple[tuple[str, float], ...]
    skipped_landmarkers: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [name for name, _ in self.items]
        if names != sorted(set(names)):
            raise ValueError("MetaFeatures.items must be sorted by name without duplicates")
        for name, value in self.items:
            if not math.isfinite(value):
                raise ValueError(f"quality {name} is not finite: {value!r}")

    @classmethod
    def from_mapping(
        cls,
        task_type: TaskType,
        values: Mapping[str, float | None],
        skipped_landmarkers: tuple[str, ...] = (),
    ) -> MetaFeatures:
        """Build from a name -> value mapping, dropping entries that are None or not finite."""
        kept = tuple(
            sorted(
                (name, float(value))
                for name, value in values.items()
                if value is not None and math.isfinite(value)
            )
        )
        return cls(task_type=task_type, items=kept, skipped_landmarkers=skipped_landmarkers)

    @cached_property
    def values(self) -> Mapping[str, float]:
        """Read-only ``{quality name: value}``."""
        return MappingProxyType(dict(self.items))

    def as_series(self) -> pd.Series:
        """The qualities as a float Series indexed by quality name."""
        return pd.Series(dict(self.items), dtype="float64", name="value").rename_axis("quality")

    def as_records(self, dataset_id: str) -> tuple[QualityRecord, ...]:
        """One :class:`~mile_meta.records.QualityRecord` per quality, for the knowledge base."""
        return tuple(QualityRecord(dataset_id, name, value) for name, value in self.items)
