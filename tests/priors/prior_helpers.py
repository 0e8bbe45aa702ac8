"""Helpers shared by the prior tests (imported as a plain module, like pattern_samples)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mile_meta.pipelines.space import estimator_space

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


def holdout_score(spec, X: pd.DataFrame, y: pd.Series) -> float:
    """Balanced accuracy of ``spec`` fitted on 2/3 of (X, y), scored on the rest."""
    from sklearn.metrics import balanced_accuracy_score

    from mile_meta.pipelines import build_pipeline

    cut = len(y) * 2 // 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_pipeline(spec, random_state=0).fit(X.iloc[:cut], y.iloc[:cut])
        return float(balanced_accuracy_score(y.iloc[cut:], model.predict(X.iloc[cut:])))


def assert_in_space(estimator: str, params: dict) -> None:
    """Every hyperparameter of ``estimator`` is set, and to a value its space holds."""
    space = estimator_space(estimator)
    assert set(params) == set(space.names), (estimator, params)
    for hyperparameter in space.hyperparameters:
        value = params[hyperparameter.name]
        if isinstance(value, np.generic):
            value = value.item()
        assert hyperparameter.contains(value), (estimator, hyperparameter.name, value)


def same_point(left: dict, right: dict) -> bool:
    """Equal configurations, floats compared to 1e-9 relative."""
    if set(left) != set(right):
        return False
    for key, value in left.items():
        other = right[key]
        if isinstance(value, float) or isinstance(other, float):
            if value is None or other is None or not np.isclose(value, other, rtol=1e-9):
                return False
        elif value != other:
            return False
    return True
