"""Scores of out-of-fold predictions, and decisions tuned to the metric.

A classifier's ``predict`` takes the most probable class, which is what accuracy wants but not
what balanced accuracy or F1 want when classes are imbalanced. For those metrics the decision
is tuned on out-of-fold predictions (never on rows a model was fitted on): a threshold on the
positive class's probability (binary) or one weight per class multiplying the probabilities
before the arg-max (multiclass). The tuned decision is part of the fitted model, so
``predict`` optimises the metric the user asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TUNED_METRICS", "Decision", "oof_score", "tune_decision"]

# metrics whose value depends on the decision rule, and which the arg-max does not optimise
TUNED_METRICS = frozenset({"balanced_accuracy", "balanced_error_rate", "f_measure"})
# a tuned decision must beat the arg-max by this much (on out-of-fold rows) to replace it
_MIN_GAIN = 0.002
_THRESHOLDS = 99
_WEIGHT_STEPS = np.geomspace(0.25, 4.0, 13)


@dataclass(frozen=True)
class Decision:
    """How probabilities become a class: ``threshold`` on the positive (second) class's
    probability for binary tasks, or ``class_weights`` (one per class, sorted order) for
    multiclass; ``gain`` is the out-of-fold improvement over the arg-max."""

    threshold: float | None = None
    class_weights: tuple[float, ...] | None = None
    gain: float = 0.0

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """Column positions of the chosen classes."""
        if self.threshold is not None:
            return (probabilities[:, 1] >= self.threshold).astype(int)
        if self.class_weights is not None:
            return np.argmax(probabilities * np.asarray(self.class_weights), axis=1)
        return np.argmax(probabilities, axis=1)

    def describe(self) -> str:
        if self.threshold is not None:
            return f"a decision threshold of {self.threshold:.3f} on the positive class"
        if self.class_weights is not None:
            return "class weights (" + ", ".join(f"{w:.2g}" for w in self.class_weights) + ")"
        return "the most probable class"


def _label_score(metric: str, y: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """``metric`` of predicted class positions against true class positions."""
    if metric in ("balanced_accuracy", "balanced_error_rate"):
        recalls = [
            float(np.mean(predicted[y == c] == c)) for c in range(n_classes) if np.any(y == c)
        ]
        value = float(np.mean(recalls))
        return 1.0 - value if metric == "balanced_error_rate" else value
    if metric == "predictive_accuracy":
        return float(np.mean(predicted == y))
    if metric == "f_measure":
        positives = [1] if n_classes == 2 else range(n_classes)
        scores = []
        for c in positives:
            true_positive = float(np.sum((predicted == c) & (y == c)))
            denominator = float(np.sum(predicted == c) + np.sum(y == c))
            scores.append(2 * true_positive / denominator if denominator else 0.0)
        return float(np.mean(scores))
    raise ValueError(f"{metric} is not a label metric")


def oof_score(
    metric: str,
    y: np.ndarray,
    predictions: np.ndarray,
    decision: Decision | None = None,
) -> float:
    """``metric`` of out-of-fold ``predictions`` against ``y`` (class positions for
    classification, values for regression), with ``decision`` for label metrics."""
    if predictions.ndim == 1:
        error = predictions.astype(float) - y.astype(float)
        if metric == "root_mean_squared_error":
            return float(np.sqrt(np.mean(error**2)))
        if metric == "mean_absolute_error":
            return float(np.mean(np.abs(error)))
        if metric == "r2":
            total = float(np.sum((y - y.mean()) ** 2))
            return 1.0 - float(np.sum(error**2)) / total if total > 0 else 0.0
        raise ValueError(f"{metric} is not a regression metric")
    n_classes = predictions.shape[1]
    if metric == "log_loss":
        clipped = np.clip(predictions[np.arange(len(y)), y], 1e-15, 1.0)
        return float(-np.mean(np.log(clipped)))
    if metric == "area_under_roc_curve":
        from sklearn.metrics import roc_auc_score

        if n_classes == 2:
            return float(roc_auc_score(y, predictions[:, 1]))
        normalized = predictions / np.clip(predictions.sum(axis=1, keepdims=True), 1e-12, None)
        return float(roc_auc_score(y, normalized, multi_class="ovr", labels=list(range(n_classes))))
    predicted = (decision or Decision()).apply(predictions)
    return _label_score(metric, y, predicted, n_classes)


def _binary_threshold(metric: str, y: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """The threshold on ``positive`` maximising ``metric`` (balanced accuracy or F1), vectorised:
    each candidate threshold's confusion counts come from sorted cumulative sums."""
    candidates = np.unique(np.quantile(positive, np.linspace(0.01, 0.99, _THRESHOLDS)))
    is_positive = y == 1
    n_positive = max(int(is_positive.sum()), 1)
    n_negative = max(len(y) - int(is_positive.sum()), 1)
    order = np.sort(positive[is_positive])
    negatives = np.sort(positive[~is_positive])
    # rows at or above the threshold are predicted positive
    true_positive = n_positive - np.searchsorted(order, candidates, side="left")
    false_positive = n_negative - np.searchsorted(negatives, candidates, side="left")
    if metric == "f_measure":
        values = 2 * true_positive / np.maximum(true_positive + false_positive + n_positive, 1)
    else:
        values = 0.5 * (true_positive / n_positive + (n_negative - false_positive) / n_negative)
        if metric == "balanced_error_rate":
            values = 1.0 - values
    best = int(np.argmin(values) if metric == "balanced_error_rate" else np.argmax(values))
    return float(candidates[best]), float(values[best])


def tune_decision(metric: str, y: np.ndarray, probabilities: np.ndarray) -> Decision | None:
    """The decision that scores ``metric`` best on these out-of-fold probabilities, or None
    when the metric does not depend on it or the arg-max is as good (within ``_MIN_GAIN``)."""
    if metric not in TUNED_METRICS or probabilities.ndim != 2 or len(y) < 20:
        return None
    lower_is_better = metric == "balanced_error_rate"
    sign = -1.0 if lower_is_better else 1.0
    baseline = oof_score(metric, y, probabilities)
    n_classes = probabilities.shape[1]
    if n_classes == 2:
        threshold, value = _binary_threshold(metric, y, probabilities[:, 1])
        gain = sign * (value - baseline)
        return Decision(threshold=threshold, gain=gain) if gain > _MIN_GAIN else None
    weights = np.ones(n_classes)
    best = baseline
    for _ in range(2):  # coordinate ascent, two sweeps over the classes
        for c in range(n_classes):
            for step in _WEIGHT_STEPS:
                trial = weights.copy()
                trial[c] = step
                value = _label_score(metric, y, np.argmax(probabilities * trial, axis=1), n_classes)
                if sign * (value - best) > 1e-12:
                    best, weights = value, trial
    gain = sign * (best - baseline)
    if gain <= _MIN_GAIN:
        return None
    return Decision(class_weights=tuple(float(w) for w in weights / weights.max()), gain=gain)
