"""Oboe's pipelines: ``{'algorithm': 'RF', 'hyperparameters': {...}}`` column headers.

Oboe (0.2.0, ``defaults/Oboe``) fitted scikit-learn estimators after imputation, one-hot
encoding and standardisation; algorithms abbreviate scikit-learn classes.
"""

from __future__ import annotations

import ast
from typing import Any

from mile_meta.pipelines.components import make_spec
from mile_meta.pipelines.spec import ParamValue
from mile_meta.pipelines.translate import Translation

__all__ = ["OBOE_ALGORITHMS", "translate_oboe"]

OBOE_ALGORITHMS: dict[str, str] = {
    "AB": "AdaBoostClassifier",
    "DT": "DecisionTreeClassifier",
    "RF": "RandomForestClassifier",
    "ExtraTrees": "ExtraTreesClassifier",
    "GBT": "GradientBoostingClassifier",
    "KNN": "KNeighborsClassifier",
    "lSVM": "LinearSVC",
    "kSVM": "SVC",
    "Logit": "LogisticRegression",
    "Perceptron": "Perceptron",
    "GNB": "GaussianNB",
    "MLP": "MLPClassifier",
}

# Oboe writes 1 and 1.0 interchangeably for these; scikit-learn reads them as floats, so a
# float keeps one id per pipeline whichever spelling a corpus used.
_FLOAT_PARAMS = {"C", "alpha", "coef0", "learning_rate_init"}


def _normalise(estimator: str, params: dict[str, Any]) -> dict[str, ParamValue]:
    result: dict[str, ParamValue] = {}
    for key, value in params.items():
        if key in _FLOAT_PARAMS or (key == "learning_rate" and isinstance(value, int | float)):
            value = float(value)
        result[key] = value
    if estimator == "LogisticRegression" and "penalty" in result:
        # scikit-learn ≥ 1.8 deprecates `penalty`; l1_ratio says the same thing
        penalty = result.pop("penalty")
        result["l1_ratio"] = 1.0 if penalty == "l1" else 0.0
    return result


def translate_oboe(header: str) -> Translation:
    """Translate one column header of Oboe's error matrix."""
    try:
        description = ast.literal_eval(header)
        algorithm = description["algorithm"]
        params = dict(description.get("hyperparameters", {}))
    except (ValueError, SyntaxError, KeyError, TypeError) as error:
        return Translation(header, None, False, (f"unreadable Oboe pipeline: {error}",))
    estimator = OBOE_ALGORITHMS.get(algorithm)
    if estimator is None:
        return Translation(header, None, False, (f"unknown Oboe algorithm {algorithm!r}",))
    spec = make_spec(estimator, _normalise(estimator, params))
    return Translation(header, spec, True)
