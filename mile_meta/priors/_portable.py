"""The prior as plain data a tool can read without mile-meta: the portable prior.

:func:`portable_prior` states one :class:`Prior` together with the part of mile-meta's search
space it lives in — per estimator the scikit-learn/LightGBM class to build, its fixed
parameters, its standard preprocessing and each hyperparameter with bounds, choices, default
and fitted prior — as a JSON-ready dictionary. The standalone runtimes
(:mod:`mile_meta.priors._standalone`) turn that dictionary into each tool's objects, both
inside mile-meta and in the modules ``mile-meta priors -o`` writes, which embed it.
"""

from __future__ import annotations

import math
from typing import Any

from mile_meta.pipelines.components import component_info, standard_preprocessing
from mile_meta.pipelines.space import Hyperparameter
from mile_meta.priors._base import ESTIMATOR_KEY, ExportNote, flat_name
from mile_meta.priors._prior import HyperparameterPrior, Prior

__all__ = ["PORTABLE_VERSION", "portable_prior"]

PORTABLE_VERSION = 1

# metric -> (scikit-learn scoring for binary, for multiclass/regression, sign, offset):
# the metric's value is offset + sign * scorer's value
_SCORING: dict[str, tuple[str, str, float, float]] = {
    "predictive_accuracy": ("accuracy", "accuracy", 1.0, 0.0),
    "balanced_accuracy": ("balanced_accuracy", "balanced_accuracy", 1.0, 0.0),
    "balanced_error_rate": ("balanced_accuracy", "balanced_accuracy", -1.0, 1.0),
    "area_under_roc_curve": ("roc_auc", "roc_auc_ovr", 1.0, 0.0),
    "f_measure": ("f1_macro", "f1_macro", 1.0, 0.0),
    "log_loss": ("neg_log_loss", "neg_log_loss", -1.0, 0.0),
    "root_mean_squared_error": (
        "neg_root_mean_squared_error",
        "neg_root_mean_squared_error",
        -1.0,
        0.0,
    ),
    "mean_absolute_error": ("neg_mean_absolute_error", "neg_mean_absolute_error", -1.0, 0.0),
    "r2": ("r2", "r2", 1.0, 0.0),
}


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _prior_entry(hyperparameter: Hyperparameter, fitted: HyperparameterPrior | None) -> Any:
    if fitted is None:
        return None
    if fitted.distribution == "categorical":
        weights = dict(zip(map(repr, fitted.choices), fitted.weights, strict=True))
        return {
            "distribution": "categorical",
            "weights": [float(weights.get(repr(c), 0.0)) for c in hyperparameter.choices],
        }
    if fitted.distribution == "beta":
        return {"distribution": "beta", "alpha": fitted.alpha, "beta": fitted.beta}
    return {"distribution": "normal", "mu": fitted.mu, "sigma": fitted.sigma}


def _hyperparameter(estimator: str, hyperparameter: Hyperparameter, prior: Prior) -> dict:
    return {
        "name": flat_name(estimator, hyperparameter.name),
        "parameter": hyperparameter.name,
        "kind": hyperparameter.kind,
        "low": hyperparameter.low,
        "high": hyperparameter.high,
        "log": hyperparameter.log,
        "choices": [_plain(c) for c in hyperparameter.choices],
        "default": _plain(hyperparameter.default),
        "prior": _prior_entry(hyperparameter, prior.distribution(estimator, hyperparameter.name)),
    }


def portable_prior(prior: Prior, report: tuple[ExportNote, ...] = ()) -> dict[str, Any]:
    """``prior`` with its search space as plain JSON-ready data (see the module doc)."""
    weights = prior.estimator_weights()
    estimators = []
    for space in prior.space():
        info = component_info(space.estimator)
        preprocessing = standard_preprocessing(space.estimator).param_dict
        # mile-meta's wrappers (XGBoost, CatBoost) are not there: name the library's class
        wrapper = info.load()
        library_class = getattr(wrapper, "library_class", "") or info.import_path
        library_fixed = dict(getattr(wrapper, "library_fixed", ()))
        fixed = {**library_fixed, **dict(info.fixed_params), **dict(space.fixed)}
        estimators.append(
            {
                "estimator": space.estimator,
                "family": space.family,
                "class": library_class,
                "fixed": {k: _plain(v) for k, v in fixed.items()},
                # XGBoost's classifiers take only labels 0..k-1
                "encode_labels": bool(getattr(wrapper, "library_needs_encoded_labels", False)),
                "preprocessing": {k: _plain(v) for k, v in preprocessing.items()},
                # liblinear's multiclass models were one-vs-rest when the corpora measured them
                "one_vs_rest_when": (
                    {"solver": "liblinear"} if space.estimator == "LogisticRegression" else None
                ),
                "weight": float(weights.get(space.estimator, 0.0)),
                "hyperparameters": [
                    _hyperparameter(space.estimator, h, prior) for h in space.hyperparameters
                ],
            }
        )
    binary, other, sign, offset = _SCORING.get(prior.metric, ("accuracy", "accuracy", 1.0, 0.0))
    return {
        "portable_version": PORTABLE_VERSION,
        "dataset_name": prior.dataset_name,
        "task_type": prior.task_type,
        "metric": prior.metric,
        "higher_is_better": prior.higher_is_better,
        "direction": "maximize" if prior.higher_is_better else "minimize",
        "scoring": {
            "scorer": binary if prior.task_type == "binary" else other,
            "sign": sign,
            "offset": offset,
        },
        "estimator_key": ESTIMATOR_KEY,
        "estimators": estimators,
        "starting_points": [
            {
                ESTIMATOR_KEY: start.estimator,
                **{flat_name(start.estimator, k): _plain(v) for k, v in start.params},
            }
            for start in prior.starting_configurations
        ],
        "predicted_scores": [start.predicted_score for start in prior.starting_configurations],
        "report": [str(note) for note in report],
        "provenance": {
            "mile_meta_version": prior.provenance.mile_meta_version,
            "knowledge_base_checksum": prior.provenance.knowledge_base_checksum,
            "meta_learner": prior.provenance.meta_learner,
            "created_at": prior.provenance.created_at,
        },
    }
