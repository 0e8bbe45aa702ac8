"""Successive-halving stages: the rows each fidelity evaluates on.

A fidelity stage evaluates on a subsample; for classification the subsample keeps enough rows
of every class for each fold to score the rare ones fairly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mile_meta.data import Dataset
from mile_meta.search._records import Fidelity

__all__ = ["StagePlan", "subsample_rows"]

# The smallest subsample a search falls back to when even its first stage takes too long.
_EMERGENCY_ROWS = 100
# Rows of the smallest class a subsample keeps per fold, so a rare class is still scored fairly.
_MIN_CLASS_ROWS_PER_FOLD = 10


def subsample_rows(target: Any, rows: int, seed: int, min_per_class: int = 0) -> np.ndarray:
    """Sorted positions of a random subsample of ``rows`` rows (stratified for classes), with
    at least ``min_per_class`` rows of every class (so cross-validation can split it)."""
    generator = np.random.default_rng(seed)
    n = len(target)
    if rows >= n:
        return np.arange(n)
    if min_per_class <= 0:
        return np.sort(generator.choice(n, size=rows, replace=False))
    labels = np.asarray(target)
    chosen: list[np.ndarray] = []
    classes, counts = np.unique(labels, return_counts=True)
    for label, count in zip(classes, counts, strict=True):
        members = np.flatnonzero(labels == label)
        share = max(min(min_per_class, count), round(rows * count / n))
        chosen.append(generator.choice(members, size=min(share, count), replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class StagePlan:
    """The fidelity stages of one run and the rows each uses (None = all rows).

    When nothing has completed and an evaluation on the smallest stage runs out of time, a
    stage a quarter that size is put in front (down to ``_EMERGENCY_ROWS`` rows), so a slow
    machine or an expensive dataset still yields a model.
    """

    stages: tuple[Fidelity, ...]
    rows: dict[int, np.ndarray | None]
    dataset: Dataset
    seed: int
    cv: int

    @classmethod
    def build(cls, stages: tuple[Fidelity, ...], dataset: Dataset, seed: int, cv: int) -> StagePlan:
        plan = cls(stages, {}, dataset, seed, cv)
        plan.rows = {stage.rung: plan._rows_for(stage.rows) for stage in stages}
        return plan

    def _rows_for(self, rows: int) -> np.ndarray | None:
        if rows >= len(self.dataset.frame):
            return None
        # a fold of a subsample must hold enough rows of a rare class for a fair score (trees
        # scored on 31 positives of 616 rows were dropped at a balanced accuracy of 0.5)
        classes = (
            0 if self.dataset.task_type == "regression" else self.cv * _MIN_CLASS_ROWS_PER_FOLD
        )
        return subsample_rows(self.dataset.target, rows, self.seed, min_per_class=classes)

    @property
    def n_rows(self) -> int:
        return self.stages[-1].rows

    def shrink(self) -> Fidelity | None:
        """Put a smaller first stage in front; None when the first is small enough already."""
        rows = self.stages[0].rows // 4
        if rows < _EMERGENCY_ROWS:
            return None
        first = Fidelity(0, rows, rows / self.n_rows, None)
        shifted = tuple(replace(stage, rung=stage.rung + 1) for stage in self.stages)
        self.rows = {
            0: self._rows_for(rows),
            **{s.rung + 1: self.rows[s.rung] for s in self.stages},
        }
        self.stages = (first, *shifted)
        return first
