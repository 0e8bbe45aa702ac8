"""Cross-validation that keeps each candidate's out-of-fold predictions.

The scores are those of :func:`mile_meta.evaluate.evaluate_pipeline` (same folds, same fold
cache keys, same scorer); what is added is the prediction of every row by the model that did
not see it, which the ensemble and the decision tuning are built from. Probabilities are
stored as float32 with one column per class of the whole data (in sorted order), so
predictions of different pipelines line up.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from mile_meta.data import Dataset
from mile_meta.errors import MileMetaError
from mile_meta.evaluate import (
    EvaluationResult,
    FoldCache,
    evaluate_pipeline,
    score_predictions,
)
from mile_meta.metrics import Metric, resolve_metric
from mile_meta.pipelines import PipelineSpec, build_pipeline, family_of
from mile_meta.reuse._keys import chain_key

__all__ = ["CrossValidation", "cross_validate", "predict_scores"]


@dataclass(frozen=True)
class CrossValidation:
    """A cross-validation's result and (when asked for) its out-of-fold predictions:
    ``(rows, classes)`` probabilities for classification, ``(rows,)`` values for regression."""

    result: EvaluationResult
    predictions: np.ndarray | None = None


def predict_scores(estimator: Any, X: Any, classes: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted classifier, one column per entry of ``classes``.

    Estimators without ``predict_proba`` give their decision function through a logistic
    (binary) or softmax (multiclass) squashing: a ranking, not calibrated probabilities.
    """
    own = np.asarray(estimator.classes_)
    scores: np.ndarray | None = None
    if hasattr(estimator, "predict_proba"):
        try:
            scores = np.asarray(estimator.predict_proba(X), dtype=float)
        except (AttributeError, NotImplementedError):
            scores = None
    if scores is None:
        decision = np.asarray(estimator.decision_function(X), dtype=float)
        if decision.ndim == 1:
            positive = 1.0 / (1.0 + np.exp(-np.clip(decision, -50, 50)))
            scores = np.column_stack([1.0 - positive, positive])
        else:
            shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
            scores = shifted / shifted.sum(axis=1, keepdims=True)
    aligned = np.zeros((len(scores), len(classes)), dtype=np.float32)
    positions = np.searchsorted(classes, own)
    aligned[:, positions] = scores
    return aligned


def _splits(working: Dataset, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    y = working.target
    if working.task_type == "regression":
        return list(KFold(n_splits=cv, shuffle=True, random_state=seed).split(working.frame))
    smallest = int(y.value_counts().min())
    splitter = StratifiedKFold(n_splits=min(cv, smallest), shuffle=True, random_state=seed)
    return list(splitter.split(working.frame, y))


def cross_validate(
    spec: PipelineSpec,
    dataset: Dataset,
    *,
    metric: str,
    cv: int,
    seed: int,
    cache: FoldCache | None,
    rows: np.ndarray | None,
    keep_predictions: bool,
) -> CrossValidation:
    """Cross-validate ``spec`` on ``rows`` of ``dataset``; with ``keep_predictions`` also
    return its out-of-fold predictions (else this is :func:`evaluate_pipeline` itself)."""
    if not keep_predictions:
        result = evaluate_pipeline(
            spec, dataset, metric=metric, cv=cv, seed=seed, kb=None, record=False,
            cache=cache, rows=rows,
        )  # fmt: skip
        return CrossValidation(result)
    started = time.perf_counter()
    chosen: Metric = resolve_metric(metric)
    working = dataset
    if rows is not None:
        working = Dataset(
            name=dataset.name,
            frame=dataset.frame.iloc[rows].reset_index(drop=True),
            target=dataset.target.iloc[rows].reset_index(drop=True),
            task_type=dataset.task_type,
            path=dataset.path,
        )
    X, y = working.frame, working.target
    regression = working.task_type == "regression"
    classes = None if regression else np.unique(np.asarray(y))
    predictions = (
        np.zeros(len(y), dtype=np.float32)
        if classes is None
        else np.zeros((len(y), len(classes)), dtype=np.float32)
    )
    folds = _splits(working, cv, seed)
    try:
        template = build_pipeline(spec, random_state=seed)
    except (ValueError, TypeError) as error:
        raise MileMetaError(
            f"pipeline {spec.estimator.component} cannot be built ({error})"
        ) from error
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    scores: list[float] = []
    fit_times: list[float] = []
    cached = 0
    for index, (train, test) in enumerate(folds):
        # the same key as evaluate_pipeline's, so the two share cached folds
        key = chain_key(
            "search-fold",
            working.fingerprint,
            f"{cv}:{seed}:{index}:{len(y)}",
            [step.to_dict() for step in spec.preprocessing],
        )
        entry = cache.get(key) if cache is not None else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if entry is not None:
                    X_train, X_test, preprocessing_seconds = entry
                    cached += 1
                else:
                    begun = time.perf_counter()
                    preprocessor = Pipeline(
                        [(name, clone(step)) for name, step in template.steps[:-1]]
                    )
                    X_train = preprocessor.fit_transform(X.iloc[train], y.iloc[train])
                    X_test = preprocessor.transform(X.iloc[test])
                    preprocessing_seconds = time.perf_counter() - begun
                    if cache is not None:
                        cache.put(
                            key,
                            (X_train, X_test, preprocessing_seconds),
                            cost_seconds=preprocessing_seconds,
                        )
                begun = time.perf_counter()
                estimator = clone(template.steps[-1][1]).fit(X_train, y.iloc[train])
                fit_times.append(time.perf_counter() - begun + preprocessing_seconds)
                scores.append(score_predictions(chosen, estimator, X_test, y.iloc[test]))
                if classes is None:
                    predictions[test] = np.asarray(estimator.predict(X_test), dtype=np.float32)
                else:
                    predictions[test] = predict_scores(estimator, X_test, classes)
        except (MemoryError, MileMetaError):
            raise
        except Exception as error:  # the estimator's own words, on one line
            text = str(error).strip().splitlines()
            raise MileMetaError(
                f"{spec.estimator.component} failed on fold {index + 1} of {len(folds)} "
                f"({text[0] if text else type(error).__name__}); try another pipeline or "
                "check the data"
            ) from error
    result = EvaluationResult(
        pipeline_id=spec.pipeline_id,
        spec=spec,
        family=family_of(spec),
        metric=chosen.name,
        higher_is_better=chosen.higher_is_better,
        mean=float(np.mean(scores)),
        std=float(np.std(scores)),
        fold_scores=tuple(scores),
        fit_seconds=float(np.mean(fit_times)),
        total_seconds=time.perf_counter() - started,
        seed=seed,
        n_folds=len(folds),
        dataset_id=dataset.dataset_id,
        dataset_name=dataset.name,
        cached_folds=cached,
        train_size=None if rows is None else len(rows),
    )
    return CrossValidation(result, predictions)
