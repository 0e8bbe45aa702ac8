"""Cross-validation that keeps each candidate's out-of-fold predictions.

The scores are those of :func:`mile_meta.evaluate.evaluate_pipeline` (same folds, same reuse
keys, same scorer); what is added is the prediction of every row by the model that did not
see it, which the ensemble and the decision tuning are built from. Probabilities are stored as
float32 with one column per class of the evaluated rows (in sorted order), so predictions of
different pipelines line up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mile_meta.data import Dataset
from mile_meta.evaluate import EvaluationResult, evaluate_pipeline, predict_scores
from mile_meta.pipelines import PipelineSpec
from mile_meta.reuse import ReuseStore

__all__ = ["CrossValidation", "cross_validate", "predict_scores"]


@dataclass(frozen=True)
class CrossValidation:
    """A cross-validation's result and (when asked for) its out-of-fold predictions:
    ``(rows, classes)`` probabilities for classification, ``(rows,)`` values for regression."""

    result: EvaluationResult
    predictions: np.ndarray | None = None


def cross_validate(
    spec: PipelineSpec,
    dataset: Dataset,
    *,
    metric: str,
    cv: int,
    seed: int,
    cache: ReuseStore | None,
    rows: np.ndarray | None,
    keep_predictions: bool,
) -> CrossValidation:
    """Cross-validate ``spec`` on ``rows`` of ``dataset``; with ``keep_predictions`` also
    return its out-of-fold predictions. Both come from :func:`evaluate_pipeline` (same folds,
    same scorer, same reuse store), so a candidate re-evaluated later reuses its fold models."""
    result = evaluate_pipeline(
        spec, dataset, metric=metric, cv=cv, seed=seed, kb=None, record=False,
        cache=cache, rows=rows, keep_predictions=keep_predictions,
    )  # fmt: skip
    return CrossValidation(replace(result, predictions=None), result.predictions)
