"""Budget accounting: the clock of one search and what it holds back for the final model.

The search's clock starts with the user's (see :mod:`mile_meta.search._clock`); what is left
is the budget minus the time elapsed minus the reserve for refitting the final model (one
pipeline, or the best few when an ensemble is likely), so the fitted model is ready in time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mile_meta.search._ensemble import PredictionStore
from mile_meta.search._records import EnsembleSummary, Evaluation

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.search._final import FinalModel

__all__ = ["FamilyShare", "SearchState", "refit_estimate", "reserve_seconds"]

# Below this many seconds left, starting another evaluation is pointless.
MIN_SLOT_SECONDS = 0.15
# Expected refit time = fit time per fold x rows ratio x this safety factor.
_REFIT_SAFETY = 1.75
# Most of the budget held back for the refit.
_RESERVE_CAP = 0.25
# Share of the budget the refit may run past the end, when it must (the budget holds within 5 %).
REFIT_GRACE = 0.03
# The ensemble's members are refitted too: the reserve covers this many of the best.
_ENSEMBLE_RESERVE_MEMBERS = 3


@dataclass
class SearchState:
    """What the loop has learned so far (mutable, private to one run)."""

    started: float
    budget: float
    evaluations: list[Evaluation]
    results: list[EvaluationResult]
    scores_by_stage: dict[int, list[float]]
    history: list[tuple[float, float, int]]
    notes: list[str]
    best: Evaluation | None = None
    failures: int = 0
    # seconds a task spends outside the fits (sending, scheduling, scoring): the refit pays it too
    overheads: list[float] = field(default_factory=list)
    max_evaluations: int | None = None
    # the first completed candidate, fitted at once: returned if the best cannot be refitted
    safety: FinalModel | None = None
    safety_tried: bool = False
    # out-of-fold predictions of the candidates evaluated on all rows (ensemble, decisions)
    store: PredictionStore | None = None
    failures_in_a_row: int = 0
    ensemble: EnsembleSummary | None = None

    def overhead(self) -> float:
        return max(self.overheads[-3:], default=0.2)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.budget - self.elapsed()


def refit_estimate(evaluation: Evaluation, rows: int, cv: int) -> float:
    """Seconds to fit ``evaluation``'s pipeline on ``rows`` rows, from its fold fits."""
    train_rows = max(1.0, evaluation.fidelity.rows * (cv - 1) / cv)
    per_fold = evaluation.fit_seconds or evaluation.seconds
    return per_fold * (rows / train_rows) * _REFIT_SAFETY + 0.3


def reserve_seconds(state: SearchState, cv: int, n_rows: int, ensemble: bool) -> float:
    """Seconds held back for the final refit: the best pipeline's (or, with ``ensemble``, the
    best few's) expected refit time, at most a quarter of the budget."""
    if state.best is None:
        return 0.02 * state.budget
    # a slow best must not stall the search: past the cap the refit uses fewer rows
    expected = refit_estimate(state.best, n_rows, cv) + state.overhead()
    if ensemble and state.store is not None and len(state.store) > 1:
        by_number = {e.number: e for e in state.evaluations}
        top = [
            by_number[s.number]
            for s in state.store.best(_ENSEMBLE_RESERVE_MEMBERS)
            if s.number in by_number
        ]
        expected = max(expected, sum(refit_estimate(e, n_rows, cv) + state.overhead() for e in top))
    return min(expected, _RESERVE_CAP * state.budget)


@dataclass
class FamilyShare:
    """Evaluations per family, and how many since the family last improved its best score at
    any stage: a family past ``max_share`` of the evaluations (and ``min_evaluations``) that
    has not improved in its last ``patience`` is capped — its further proposals are skipped,
    while other families remain (GaussianNB variants took 7 of the top 10 on credit-g)."""

    higher_is_better: bool
    max_share: float = 0.4
    min_evaluations: int = 6
    patience: int = 5
    counts: dict[str, int] = field(default_factory=dict)
    stale: dict[str, int] = field(default_factory=dict)
    best: dict[tuple[str, int], float] = field(default_factory=dict)

    def record(self, family: str, stages: Sequence[tuple[int, float]]) -> None:
        """One candidate of ``family`` ran; ``stages`` are its (stage, score) pairs."""
        self.counts[family] = self.counts.get(family, 0) + 1
        improved = False
        for rung, score in stages:
            best = self.best.get((family, rung))
            better = best is None or (score > best if self.higher_is_better else score < best)
            if better:
                self.best[(family, rung)] = score
                improved = True
        self.stale[family] = 0 if improved else self.stale.get(family, 0) + 1

    def capped(self, family: str, families: int) -> bool:
        """Whether ``family`` has had its share (``families``: how many the space holds)."""
        if families < 2:
            return False  # the only family left: nothing to give its share to
        total = sum(self.counts.values())
        count = self.counts.get(family, 0)
        return (
            count >= max(self.min_evaluations, self.max_share * total)
            and self.stale.get(family, 0) >= self.patience
        )
