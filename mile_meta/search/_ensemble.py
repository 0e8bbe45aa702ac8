"""Post-hoc ensembles: greedy selection with replacement over out-of-fold predictions.

Caruana et al. (2004), "Ensemble selection from libraries of models", as auto-sklearn and
AutoGluon use it: start from the best candidate, then repeatedly add (with replacement) the
candidate whose addition scores best on the out-of-fold predictions; the weights are how often
each was added. Only candidates evaluated on all rows with the same folds take part, so their
predictions line up row by row.

:class:`PredictionStore` keeps those predictions, bounded in count and bytes (in memory only;
nothing is written to disk), and notices candidates whose predictions are identical to an
earlier one's (a parameter that changes nothing), so they count as repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mile_meta.search._crossval import predict_scores
from mile_meta.search._decisions import (
    TUNED_METRICS,
    Decision,
    _binary_threshold,
    oof_score,
    tune_decision,
)

__all__ = [
    "EnsembleMember",
    "EnsembleModel",
    "EnsemblePlan",
    "PredictionStore",
    "greedy_selection",
    "plan_ensemble",
]

# rounds of greedy selection (each adds one member, with replacement)
_ROUNDS = 25
# the library the selection draws from: the best this many candidates
_LIBRARY = 20
# the ensemble must beat the best single candidate by this much (out of fold) to be used
_MIN_GAIN = 1e-4


@dataclass(frozen=True)
class _Stored:
    number: int
    score: float
    predictions: np.ndarray


class PredictionStore:
    """Out-of-fold predictions of the best ``max_members`` candidates, at most ``max_bytes``.

    When full, the worst-scoring predictions are dropped: they would not enter an ensemble.
    """

    def __init__(
        self, higher_is_better: bool, *, max_members: int = 60, max_bytes: int = 256 << 20
    ) -> None:
        self.higher_is_better = higher_is_better
        self.max_members = max_members
        self.max_bytes = max_bytes
        self._stored: dict[int, _Stored] = {}
        self._fingerprints: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._stored)

    @property
    def nbytes(self) -> int:
        return sum(s.predictions.nbytes for s in self._stored.values())

    @staticmethod
    def fingerprint(predictions: np.ndarray) -> str:
        """Equal for predictions equal to 4 decimals (float32 noise aside)."""
        rounded = np.round(predictions.astype(np.float64), 4) + 0.0  # -0.0 == 0.0
        return hashlib.sha256(rounded.tobytes()).hexdigest()[:20]

    def duplicate_of(self, predictions: np.ndarray) -> int | None:
        """The number of a stored evaluation with the same predictions, if any."""
        number = self._fingerprints.get(self.fingerprint(predictions))
        return number if number in self._stored else None

    def add(self, number: int, score: float, predictions: np.ndarray) -> None:
        self._stored[number] = _Stored(number, score, predictions)
        self._fingerprints.setdefault(self.fingerprint(predictions), number)
        while len(self._stored) > self.max_members or (
            self.nbytes > self.max_bytes and len(self._stored) > 1
        ):
            worst = min(
                self._stored.values(),
                key=lambda s: s.score if self.higher_is_better else -s.score,
            )
            del self._stored[worst.number]

    def best(self, count: int) -> list[_Stored]:
        ordered = sorted(
            self._stored.values(),
            key=lambda s: (-s.score if self.higher_is_better else s.score, s.number),
        )
        return ordered[:count]


def greedy_selection(
    library: Sequence[np.ndarray],
    score: Callable[[np.ndarray], float],
    higher_is_better: bool,
    rounds: int = _ROUNDS,
) -> tuple[list[int], float]:
    """How often each of ``library`` is picked, and the selected ensemble's score.

    ``score`` scores averaged predictions. The rounds run to the end (a member that does not
    help now may later), and the best prefix of picks is returned.
    """
    sign = 1.0 if higher_is_better else -1.0
    total = np.zeros_like(library[0], dtype=np.float64)
    picks: list[int] = []
    best_picks: list[int] = []
    best_value = -np.inf
    for step in range(1, rounds + 1):
        values = [sign * score((total + member) / step) for member in library]
        chosen = int(np.argmax(values))
        total += library[chosen]
        picks.append(chosen)
        if values[chosen] > best_value + 1e-12:
            best_value, best_picks = values[chosen], list(picks)
    counts = [best_picks.count(i) for i in range(len(library))]
    return counts, sign * best_value


@dataclass(frozen=True)
class EnsembleMember:
    """One pipeline of the ensemble: its evaluation number and weight (a fraction)."""

    number: int
    weight: float
    score: float


@dataclass(frozen=True)
class EnsemblePlan:
    """What the final model should be, decided on out-of-fold predictions.

    ``members`` (one for a single pipeline), their out-of-fold ``score`` with ``decision``
    applied, and the best single candidate's (``single_score``, its own decision tuned).
    """

    members: tuple[EnsembleMember, ...]
    score: float
    single_score: float
    decision: Decision | None

    @property
    def is_ensemble(self) -> bool:
        return len(self.members) > 1


def _selection_scorer(metric: str, y: np.ndarray) -> Callable[[np.ndarray], float]:
    """The score the selection maximises: the metric itself, with the decision threshold tuned
    for binary label metrics (cheap, and what the final model will do)."""

    def score(predictions: np.ndarray) -> float:
        if metric in TUNED_METRICS and predictions.ndim == 2 and predictions.shape[1] == 2:
            _, value = _binary_threshold(metric, y, predictions[:, 1])
            return max(value, oof_score(metric, y, predictions))
        return oof_score(metric, y, predictions)

    return score


def plan_ensemble(
    store: PredictionStore,
    y: np.ndarray,
    metric: str,
    higher_is_better: bool,
    *,
    ensemble: bool,
    tune: bool,
    allowed: Callable[[int], bool] = lambda number: True,
) -> EnsemblePlan | None:
    """The final model's members, weights and decision, from the stored predictions.

    ``y`` holds class positions (classification) or values; ``allowed`` filters candidates
    (e.g. those over a size limit). With ``ensemble`` False, only the best single candidate
    is planned (with its decision tuned when ``tune``).
    """
    library = [s for s in store.best(_LIBRARY * 3) if allowed(s.number)][:_LIBRARY]
    if not library:
        return None
    sign = 1.0 if higher_is_better else -1.0
    best_single = library[0]
    single_decision = tune_decision(metric, y, best_single.predictions) if tune else None
    single_score = oof_score(metric, y, best_single.predictions, single_decision)
    single = EnsemblePlan(
        (EnsembleMember(best_single.number, 1.0, best_single.score),),
        single_score,
        single_score,
        single_decision,
    )
    if not ensemble or len(library) < 2:
        return single
    counts, _ = greedy_selection(
        [s.predictions.astype(np.float64) for s in library],
        _selection_scorer(metric, y) if tune else (lambda p: oof_score(metric, y, p)),
        higher_is_better,
    )
    picked = sum(counts)
    members = tuple(
        EnsembleMember(stored.number, count / picked, stored.score)
        for stored, count in sorted(zip(library, counts, strict=True), key=lambda sc: -sc[1])
        if count
    )
    if len(members) < 2:
        return single
    averaged = sum(
        m.weight * next(s.predictions for s in library if s.number == m.number).astype(np.float64)
        for m in members
    )
    assert isinstance(averaged, np.ndarray)
    decision = tune_decision(metric, y, averaged) if tune else None
    score = oof_score(metric, y, averaged, decision)
    if sign * (score - single_score) <= _MIN_GAIN:
        return single  # an ensemble that is no better is only slower
    return EnsemblePlan(members, score, single_score, decision)


class EnsembleModel:
    """Fitted pipelines averaged with weights, and the decision tuned to the metric.

    Behaves as a fitted scikit-learn estimator: ``predict`` (and ``predict_proba`` for
    classifiers, ``classes_``). With one member it is that pipeline plus a tuned decision.
    """

    def __init__(
        self,
        members: Sequence[Any],
        weights: Sequence[float],
        task_type: str,
        classes: np.ndarray | None = None,
        decision: Decision | None = None,
    ) -> None:
        self.members = list(members)
        self.weights = [float(w) for w in weights]
        self.task_type = task_type
        self.decision = decision
        if classes is not None:
            self.classes_ = np.asarray(classes)

    def __repr__(self) -> str:
        parts = [
            f"{w:.2f} x {type(m).__name__}" for m, w in zip(self.members, self.weights, strict=True)
        ]
        extra = f", {self.decision.describe()}" if self.decision is not None else ""
        return f"EnsembleModel({' + '.join(parts)}{extra})"

    def _check_classifier(self) -> None:
        if self.task_type == "regression":
            raise AttributeError("a regression ensemble has no predict_proba")

    def predict_proba(self, X: Any) -> np.ndarray:
        self._check_classifier()
        total = np.zeros((len(X), len(self.classes_)), dtype=np.float64)
        for member, weight in zip(self.members, self.weights, strict=True):
            total += weight * predict_scores(member, X, self.classes_)
        return total / max(sum(self.weights), 1e-12)

    def predict(self, X: Any) -> np.ndarray:
        if self.task_type == "regression":
            total = np.zeros(len(X), dtype=np.float64)
            for member, weight in zip(self.members, self.weights, strict=True):
                total += weight * np.asarray(member.predict(X), dtype=np.float64)
            return total / max(sum(self.weights), 1e-12)
        positions = (self.decision or Decision()).apply(self.predict_proba(X))
        return self.classes_[positions]
