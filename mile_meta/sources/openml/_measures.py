"""Which way is good for an OpenML evaluation measure."""

from __future__ import annotations

from mile_meta.metrics import METRICS

__all__ = ["higher_is_better"]

# OpenML measures that are not in mile_meta.metrics, by direction. Measured errors, losses
# and times are better low; agreement and area measures are better high.
_LOWER_IS_BETTER = {
    "mean_absolute_error",
    "root_mean_squared_error",
    "mean_prior_absolute_error",
    "root_mean_prior_squared_error",
    "relative_absolute_error",
    "root_relative_squared_error",
    "mean_squared_error",
    "prior_entropy",
    "usercpu_time_millis",
    "usercpu_time_millis_training",
    "usercpu_time_millis_testing",
    "wall_clock_time_millis",
    "wall_clock_time_millis_training",
    "wall_clock_time_millis_testing",
    "run_cpu_time",
    "ram_hours",
    "average_cost",
}
_HIGHER_IS_BETTER = {
    "predictive_accuracy",
    "area_under_roc_curve",
    "f_measure",
    "precision",
    "recall",
    "kappa",
    "kb_relative_information_score",
    "weighted_recall",
    "matthews_correlation_coefficient",
}


def higher_is_better(measure: str) -> bool:
    """True for accuracy-like measures, False for errors, losses and times.

    Unknown measures are judged by their name: ``*error*``, ``*loss*``, ``*time*`` and
    ``*cost*`` are taken as lower-is-better.
    """
    if measure in METRICS:
        return METRICS[measure].higher_is_better
    if measure in _LOWER_IS_BETTER:
        return False
    if measure in _HIGHER_IS_BETTER:
        return True
    lowered = measure.lower()
    return not any(word in lowered for word in ("error", "loss", "time", "cost", "millis"))
