"""Frozen records the search components exchange (units in the names: seconds, rows, bytes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mile_meta.pipelines import PipelineSpec, family_of
from mile_meta.pipelines.spec import ParamValue

__all__ = [
    "Candidate",
    "Cut",
    "EnsembleSummary",
    "Evaluation",
    "EvaluationStatus",
    "Fidelity",
    "SearchProgress",
]

EvaluationStatus = Literal["ok", "failed", "memory", "timeout", "crashed", "too_slow", "stopped"]
CandidateOrigin = Literal["warm_start", "default", "optimizer", "pinned"]


@dataclass(frozen=True)
class Candidate:
    """A pipeline to evaluate and why it is tried.

    ``params`` is the configuration in the optimizer's space (``None`` when the pipeline does
    not fit that space, e.g. a knowledge-base pipeline with a step the space does not tune).
    """

    spec: PipelineSpec
    reason: str
    origin: CandidateOrigin
    params: Mapping[str, ParamValue] | None = None

    @property
    def pipeline_id(self) -> str:
        return self.spec.pipeline_id

    @property
    def estimator(self) -> str:
        return self.spec.estimator.component

    @property
    def family(self) -> str:
        return family_of(self.spec)


@dataclass(frozen=True)
class Fidelity:
    """How much data one evaluation uses: ``rows`` of the search data, cross-validated.

    ``rank_agreement`` is the expected Spearman correlation between pipeline rankings at this
    fraction of the data and on all of it (from the knowledge base's learning curves).
    """

    rung: int
    rows: int
    fraction: float
    rank_agreement: float | None = None

    @property
    def label(self) -> str:
        return (
            "all rows" if self.fraction >= 1 else f"{self.rows} rows (1/{round(1 / self.fraction)})"
        )


@dataclass(frozen=True)
class Cut:
    """One narrowing of the space: a family or estimator dropped, a range or choice narrowed.

    ``source`` says who asked: ``"prior"`` (the knowledge base) or ``"constraint"`` (the user).
    """

    kind: Literal["family", "estimator", "range", "choices", "candidate"]
    target: str  # "knn", "SVC", "SVC.C"
    reason: str
    source: Literal["prior", "constraint"]
    before: str | None = None
    after: str | None = None
    kept_share: float | None = None  # share of the range / choices / estimators left, 0..1


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a candidate at one fidelity (``score`` in the metric's unit).

    ``started_seconds`` / ``finished_seconds`` count from the start of the search;
    ``fit_seconds`` is the mean time to fit one fold (preprocessing included).
    """

    number: int
    candidate: Candidate
    fidelity: Fidelity
    status: EvaluationStatus
    score: float | None
    std: float | None
    fold_scores: tuple[float, ...]
    fit_seconds: float | None
    started_seconds: float
    finished_seconds: float
    cached_folds: int = 0
    error: str | None = None
    promoted: bool = False  # went on to the next fidelity
    duplicate_of: int | None = None  # an earlier evaluation with the same predictions

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def seconds(self) -> float:
        return self.finished_seconds - self.started_seconds


@dataclass(frozen=True)
class EnsembleSummary:
    """The final model as decided on out-of-fold predictions.

    ``members`` are ``(evaluation number, description, weight)``, weights summing to 1 (one
    member: a single pipeline); ``score`` is the out-of-fold score of the final model (its
    decision applied), ``single_score`` the best single pipeline's, both in the metric's unit;
    ``decision`` says how probabilities become classes when tuned to the metric.
    """

    members: tuple[tuple[int, str, float], ...]
    score: float
    single_score: float
    decision: str | None = None

    @property
    def is_ensemble(self) -> bool:
        return len(self.members) > 1


@dataclass(frozen=True)
class SearchProgress:
    """What a progress display shows: sent after every evaluation and at each phase."""

    phase: str  # "prior", "warm start", "optimizer", "refit", "done"
    elapsed_seconds: float
    budget_seconds: float
    evaluations: int
    failures: int
    best_score: float | None
    best_description: str | None
    metric: str
    last: Evaluation | None = None
    notes: tuple[str, ...] = field(default=())
