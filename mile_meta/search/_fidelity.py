"""Fidelity schedules: all data for every candidate, or successive halving on subsamples.

How small a subsample may be is read from the knowledge base's learning curves (LCDB): for
each dataset and training size, the Spearman correlation between the learners' ranking there
and on the dataset's largest size. On the LCDB corpus learners ranked on 1/4 of the data agree
with the full data at about 0.86, on 1/16 at about 0.73, and the agreement grows with the
number of rows, so the schedule uses the smallest subsample whose expected agreement stays
above a threshold.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mile_meta.search._base import FidelitySchedule, SearchContext
from mile_meta.search._records import Fidelity

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = ["FullFidelity", "RankAgreement", "SuccessiveHalving"]

# Mean Spearman agreement by log2(fraction of the largest size), measured on LCDB 0.1.0
# (predictive accuracy, 20 learners, ~500 datasets); used when the knowledge base has no curves.
_LCDB_AGREEMENT_BY_FRACTION = {0: 1.0, -1: 0.93, -2: 0.86, -3: 0.80, -4: 0.73, -5: 0.67, -6: 0.60}


@dataclass(frozen=True)
class RankAgreement:
    """Expected rank agreement with the full data, by fraction and size of a subsample.

    ``cells`` maps (round(log2 fraction), round(log2 training rows)) to (mean, count).
    """

    cells: Mapping[tuple[int, int], tuple[float, int]]
    by_fraction: Mapping[int, float]
    source: str

    def expected(self, fraction: float, train_rows: int) -> float:
        """Expected Spearman agreement of rankings on ``train_rows`` rows (a ``fraction`` of
        the data) with the rankings on all of it."""
        if fraction >= 1:
            return 1.0
        fraction_bin = round(math.log2(fraction))
        size_bin = round(math.log2(max(train_rows, 2)))
        total, count = 0.0, 0
        for size in (size_bin - 1, size_bin, size_bin + 1):  # neighbouring sizes smooth it
            mean, n = self.cells.get((fraction_bin, size), (0.0, 0))
            total += mean * n
            count += n
        if count >= 10:
            return total / count
        if fraction_bin in self.by_fraction:
            return float(self.by_fraction[fraction_bin])
        return float(min(self.by_fraction.values(), default=0.5))

    @classmethod
    def lcdb_defaults(cls) -> RankAgreement:
        return cls({}, dict(_LCDB_AGREEMENT_BY_FRACTION), "LCDB 0.1.0 averages")

    @classmethod
    def from_knowledge_base(cls, kb: KnowledgeBase, *, measure: bool = True) -> RankAgreement:
        """Measured on the knowledge base's learning curves (cached per knowledge-base content).

        With ``measure=False`` an uncached knowledge base gives the LCDB averages at once.
        """
        stamp = kb.source_stamps()
        key = hashlib.sha256(f"{kb.path}|{stamp}".encode()).hexdigest()[:16]
        with _LOCK:
            if key in _MEMORY:
                return _MEMORY[key]
        cached = _read_cache(key)
        if cached is None:
            if not measure:
                return cls.lcdb_defaults()
            cached = _measure(kb)
            _write_cache(key, cached)
        with _LOCK:
            _MEMORY[key] = cached
        return cached


_MEMORY: dict[str, RankAgreement] = {}
_LOCK = threading.Lock()


def _cache_path(key: str) -> Path:
    from mile_meta.config import cache_dir

    return cache_dir() / "search" / f"rank-agreement-{key}.json"


def _read_cache(key: str) -> RankAgreement | None:
    path = _cache_path(key)
    try:
        payload = json.loads(path.read_text())
        cells = {(int(f), int(s)): (float(m), int(n)) for f, s, m, n in payload["cells"]}
        by_fraction = {int(k): float(v) for k, v in payload["by_fraction"].items()}
        return RankAgreement(cells, by_fraction, payload["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(key: str, agreement: RankAgreement) -> None:
    path = _cache_path(key)
    payload = {
        "cells": [[f, s, m, n] for (f, s), (m, n) in agreement.cells.items()],
        "by_fraction": {str(k): v for k, v in agreement.by_fraction.items()},
        "source": agreement.source,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(payload))
        partial.replace(path)
    except OSError:  # a read-only cache folder only costs the next search the measurement
        pass


def _measure(kb: KnowledgeBase) -> RankAgreement:
    curves = kb.learning_curves("predictive_accuracy")[
        ["dataset_id", "pipeline_id", "train_size", "value"]
    ]
    if curves.empty:
        return RankAgreement.lcdb_defaults()
    largest = curves.groupby("dataset_id")["train_size"].max()
    at_largest = curves[curves["train_size"] == curves["dataset_id"].map(largest)]
    full = at_largest[["dataset_id", "pipeline_id", "value"]].rename(columns={"value": "full"})
    pairs = curves[curves["train_size"] < curves["dataset_id"].map(largest)].merge(
        full, on=["dataset_id", "pipeline_id"]
    )
    keys = ["dataset_id", "train_size"]
    pairs = pairs[pairs.groupby(keys)["value"].transform("size") >= 5]
    if pairs.empty:
        return RankAgreement.lcdb_defaults()
    grouped = pairs.groupby(keys)
    # Spearman = Pearson correlation of the ranks, computed for every group at once
    a = grouped["value"].rank().to_numpy()
    b = grouped["full"].rank().to_numpy()
    sums = (
        pd.DataFrame(
            {"a": a, "b": b, "ab": a * b, "aa": a * a, "bb": b * b, "n": 1.0},
            index=pd.MultiIndex.from_frame(pairs[keys]),
        )
        .groupby(level=[0, 1])
        .sum()
    )
    n = sums["n"]
    covariance = sums["ab"] / n - (sums["a"] / n) * (sums["b"] / n)
    variance = (sums["aa"] / n - (sums["a"] / n) ** 2) * (sums["bb"] / n - (sums["b"] / n) ** 2)
    rho = (covariance / np.sqrt(variance.where(variance > 0))).dropna()
    table = rho.rename("rho").reset_index()
    fraction = table["train_size"] / table["dataset_id"].map(largest)
    table["fraction_bin"] = np.round(np.log2(fraction)).astype(int)
    table["size_bin"] = np.round(np.log2(table["train_size"])).astype(int)
    cells = table.groupby(["fraction_bin", "size_bin"])["rho"].agg(["mean", "size"])
    by_fraction = table.groupby("fraction_bin")["rho"].mean()
    return RankAgreement(
        {
            (int(f), int(s)): (float(row["mean"]), int(row["size"]))
            for (f, s), row in cells.iterrows()
        },
        {int(k): float(v) for k, v in by_fraction.items() if k <= 0},
        f"learning curves of {table['dataset_id'].nunique()} knowledge-base datasets",
    )


class FullFidelity(FidelitySchedule):
    """Every candidate is cross-validated on all rows."""

    def _rungs(self, n_rows: int, context: SearchContext) -> Sequence[Fidelity]:
        return (Fidelity(0, n_rows, 1.0, 1.0),)


class SuccessiveHalving(FidelitySchedule):
    """Candidates start on a subsample; the best 1/``reduction_factor`` at a stage go on.

    Stages are ``n_rows / reduction_factor**k`` rows; the smallest is the smallest with at
    least ``min_rows`` rows whose expected rank agreement with all rows (from the knowledge
    base's learning curves) is at least ``min_rank_agreement``.
    """

    def __init__(
        self,
        reduction_factor: int = 4,
        min_rows: int = 500,
        min_rank_agreement: float = 0.75,
        max_stages: int = 4,
    ) -> None:
        self.reduction_factor = reduction_factor
        self.min_rows = min_rows
        self.min_rank_agreement = min_rank_agreement
        self.max_stages = max_stages

    def prepare(self, kb: KnowledgeBase | None) -> None:
        if kb is not None:
            RankAgreement.from_knowledge_base(kb)  # measured once per knowledge base, cached

    def agreement(self, context: SearchContext) -> RankAgreement:
        if context.kb is not None:
            # measured (and cached) by prepare(), before the budget's clock started
            return RankAgreement.from_knowledge_base(context.kb, measure=False)
        return RankAgreement.lcdb_defaults()

    def _rungs(self, n_rows: int, context: SearchContext) -> Sequence[Fidelity]:
        agreement = self.agreement(context)
        train_share = (context.cv - 1) / context.cv
        sizes = []
        for k in range(self.max_stages - 1, 0, -1):
            fraction = self.reduction_factor ** (-k)
            rows = int(n_rows * fraction)
            if rows < self.min_rows:
                continue
            expected = agreement.expected(fraction, int(rows * train_share))
            if expected >= self.min_rank_agreement:
                sizes.append((rows, fraction, expected))
        stages = [
            Fidelity(index, rows, fraction, round(expected, 3))
            for index, (rows, fraction, expected) in enumerate(sizes)
        ]
        stages.append(Fidelity(len(stages), n_rows, 1.0, 1.0))
        return stages

    def promote(self, score: float, earlier: Sequence[float], higher_is_better: bool) -> bool:
        # The asynchronous successive-halving rule: go on when in the best 1/reduction_factor
        # of all candidates seen at this stage; while fewer than reduction_factor have been
        # seen, only a new best goes on.
        competing = sorted([*earlier, score], reverse=higher_is_better)
        index = max(len(competing) // self.reduction_factor - 1, 0)
        bar = competing[index]
        return score >= bar if higher_is_better else score <= bar
