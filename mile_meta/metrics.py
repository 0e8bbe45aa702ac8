"""Metric names used across the knowledge base, with their direction and scikit-learn scorer.

Names follow OpenML's evaluation measures where one exists (``predictive_accuracy``,
``area_under_roc_curve``); Oboe's ``balanced_error_rate`` is kept as measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mile_meta.errors import MileMetaError

__all__ = ["METRICS", "Metric", "default_metric", "resolve_metric"]


@dataclass(frozen=True)
class Metric:
    """A performance measure: OpenML's name, its direction and the tasks it applies to."""

    name: str
    higher_is_better: bool
    task_types: tuple[str, ...]
    description: str
    aliases: tuple[str, ...] = ()
    # the values it can take: a prediction or an interval end outside them means nothing
    bounds: tuple[float, float] = (0.0, 1.0)


_CLASSIFICATION = ("binary", "multiclass")

METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric(
            "predictive_accuracy",
            True,
            _CLASSIFICATION,
            "fraction classified right",
            ("accuracy", "acc"),
        ),
        Metric("balanced_accuracy", True, _CLASSIFICATION, "mean recall over classes", ("bacc",)),
        Metric(
            "balanced_error_rate",
            False,
            _CLASSIFICATION,
            "1 - balanced accuracy (Oboe's measure)",
            ("ber",),
        ),
        Metric(
            "area_under_roc_curve",
            True,
            _CLASSIFICATION,
            "ROC AUC (one-vs-rest, macro, for multiclass)",
            ("roc_auc", "auc"),
        ),
        Metric("f_measure", True, _CLASSIFICATION, "F1 (macro for multiclass)", ("f1",)),
        Metric(
            "log_loss",
            False,
            _CLASSIFICATION,
            "cross-entropy of predicted probabilities",
            ("logloss",),
            (0.0, math.inf),
        ),
        Metric(
            "root_mean_squared_error",
            False,
            ("regression",),
            "RMSE in the target's unit",
            ("rmse",),
            (0.0, math.inf),
        ),
        Metric(
            "mean_absolute_error",
            False,
            ("regression",),
            "MAE in the target's unit",
            ("mae",),
            (0.0, math.inf),
        ),
        Metric(
            "r2",
            True,
            ("regression",),
            "coefficient of determination",
            ("r_squared",),
            (-math.inf, 1.0),
        ),
    ]
}

_ALIASES = {
    alias: metric.name for metric in METRICS.values() for alias in (metric.name, *metric.aliases)
}


def resolve_metric(name: str) -> Metric:
    """The metric called ``name`` or one of its aliases (``accuracy``, ``roc_auc``, ``rmse``)."""
    key = name.strip().lower()
    if key not in _ALIASES:
        raise MileMetaError(
            f"unknown metric {name!r}; use one of {', '.join(sorted(METRICS))}", usage=True
        )
    return METRICS[_ALIASES[key]]


def default_metric(task_type: str) -> Metric:
    """Balanced accuracy for classification (robust to a large majority class), RMSE otherwise."""
    return METRICS["root_mean_squared_error" if task_type == "regression" else "balanced_accuracy"]
