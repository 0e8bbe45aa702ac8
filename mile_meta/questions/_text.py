"""Numbers in plain sentences: the few formats the answers' summaries share."""

from __future__ import annotations

import math
from collections.abc import Iterable

from mile_meta.questions._base import EvidenceDataset

__all__ = ["dataset_label", "family_label", "listing", "number", "percent", "seconds"]


def number(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def percent(fraction: float | None, digits: int = 0) -> str:
    if fraction is None or not math.isfinite(fraction):
        return "n/a"
    return f"{100 * fraction:.{digits}f} %"


def seconds(value: float | None) -> str:
    """``0.42 s``, ``12 s``, ``3.5 min``, ``2.1 h``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value < 10:
        return f"{value:.2g} s" if value < 1 else f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def family_label(family: str) -> str:
    return family.replace("_", " ")


def dataset_label(dataset: EvidenceDataset) -> str:
    return f"{dataset.name} ({dataset.dataset_id})" if dataset.name else dataset.dataset_id


def listing(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
