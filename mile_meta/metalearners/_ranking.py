"""What a meta-learner answers: a ranking of pipelines with scores, intervals and evidence."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Evidence", "RankedPipeline", "Ranking"]


@dataclass(frozen=True)
class Evidence:
    """A knowledge-base dataset behind a recommendation, and how the pipeline did there.

    ``distance`` is the meta-feature distance to the new dataset (mean absolute difference of
    standardized, log-scaled qualities; 0 = identical, None when the two share no quality).
    ``observed_score`` is in the metric's own unit; ``rank_on_dataset`` is 1 for the best
    pipeline on that dataset.
    """

    dataset_id: str
    dataset_name: str
    distance: float | None
    observed_score: float
    rank_on_dataset: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "dataset_name": self.dataset_name,
            "distance": self.distance,
            "observed_score": self.observed_score,
            "rank_on_dataset": self.rank_on_dataset,
        }


@dataclass(frozen=True)
class RankedPipeline:
    """One pipeline of a ranking; every score is in the metric's own unit.

    ``lower``/``upper`` bound the 10–90 % interval of the score expected on the new dataset
    (``lower <= predicted_score <= upper`` numerically, whatever the metric's direction).
    ``observed_score`` is set when the pipeline was evaluated on the new dataset (a probe);
    its predicted score and interval are then that observation.
    """

    pipeline_id: str
    family: str
    predicted_score: float
    lower: float
    upper: float
    expected_runtime_seconds: float | None
    evidence: tuple[Evidence, ...]
    observed_score: float | None = None

    @property
    def observed(self) -> bool:
        return self.observed_score is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline_id": self.pipeline_id,
            "family": self.family,
            "predicted_score": self.predicted_score,
            "lower": self.lower,
            "upper": self.upper,
            "expected_runtime_seconds": self.expected_runtime_seconds,
            "observed_score": self.observed_score,
            "evidence": [item.to_dict() for item in self.evidence],
        }


@dataclass(frozen=True)
class Ranking:
    """Every pipeline the meta-learner knows, once each, in the order to try them.

    Learners whose ``orders_by_predicted_score`` is True sort by predicted score (best
    first, observed pipelines by their observation); portfolio-style learners order the
    pipelines so the best of the first k is as good as possible, so a later pipeline may
    carry a better predicted score than an earlier one.
    """

    metric: str
    higher_is_better: bool
    learner: str
    pipelines: tuple[RankedPipeline, ...]

    def __iter__(self) -> Iterator[RankedPipeline]:
        return iter(self.pipelines)

    def __len__(self) -> int:
        return len(self.pipelines)

    def __getitem__(self, position: int) -> RankedPipeline:
        return self.pipelines[position]

    @property
    def pipeline_ids(self) -> tuple[str, ...]:
        return tuple(item.pipeline_id for item in self.pipelines)

    def top(self, k: int) -> tuple[RankedPipeline, ...]:
        """The first ``k`` pipelines (observed ones included)."""
        return self.pipelines[: max(k, 0)]

    def next_to_try(self, k: int = 1) -> tuple[RankedPipeline, ...]:
        """The first ``k`` pipelines not yet evaluated on the new dataset."""
        return tuple(item for item in self.pipelines if not item.observed)[: max(k, 0)]

    def best_observed(self) -> RankedPipeline | None:
        """The best pipeline among those evaluated on the new dataset, if any."""
        observed = [item for item in self.pipelines if item.observed_score is not None]
        if not observed:
            return None
        sign = 1.0 if self.higher_is_better else -1.0
        return max(observed, key=lambda item: sign * (item.observed_score or 0.0))

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        chosen = self.pipelines if top is None else self.top(top)
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "learner": self.learner,
            "pipelines": [_finite(item.to_dict()) for item in chosen],
        }


def _finite(payload: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: unknown numbers become None."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in payload.items()
    }
