"""FLAML's zero-shot portfolio configurations (``flaml/default/*/*.json``) as specs.

A configuration is ``{"class": <learner>, "hyperparameters": {...}}``; FLAML turns it into
estimator arguments in ``flaml/automl/model.py`` (``config2params``), and so does this:

==============  ==========================  =============================================
FLAML learner   component                   hyperparameters
==============  ==========================  =============================================
lgbm            LGBMClassifier/-Regressor   ``log_max_bin`` b -> ``max_bin`` 2**b - 1
xgboost         XGBClassifier/-Regressor    ``max_depth`` 0, ``grow_policy`` lossguide,
                                            ``tree_method`` hist (leaf-limited trees)
xgb_limitdepth  XGBClassifier/-Regressor    same names (depth-limited trees)
rf              RandomForest*               ``max_leaves`` -> ``max_leaf_nodes``; no
                                            ``criterion`` for regression
extra_tree      ExtraTrees*                 as ``rf``
==============  ==========================  =============================================

``FLAML_sample_size`` (the rows FLAML had sampled when it found the configuration) is not a
model hyperparameter and is dropped. Every learner of these files maps exactly; the only
difference is FLAML's own preprocessing, which holds for every configuration
(``docs/portfolios.md``). Threads: one (``n_jobs`` = 1), as every family here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from mile_meta.pipelines.components import make_spec
from mile_meta.pipelines.spec import ParamValue
from mile_meta.pipelines.translate import Translation

__all__ = ["translate_flaml"]

_COMPONENTS = {
    "lgbm": ("LGBMClassifier", "LGBMRegressor"),
    "xgboost": ("XGBClassifier", "XGBRegressor"),
    "xgb_limitdepth": ("XGBClassifier", "XGBRegressor"),
    "rf": ("RandomForestClassifier", "RandomForestRegressor"),
    "extra_tree": ("ExtraTreesClassifier", "ExtraTreesRegressor"),
}
_DROPPED = ("FLAML_sample_size",)


def translate_flaml(
    configuration: Mapping[str, object], task_type: str, origin_key: str = ""
) -> Translation:
    """One ``portfolio`` entry of a FLAML file as a spec for ``task_type``."""
    key = origin_key or json.dumps(dict(configuration), sort_keys=True)
    learner = str(configuration.get("class", ""))
    raw = configuration.get("hyperparameters", {})
    if learner not in _COMPONENTS or not isinstance(raw, Mapping):
        return Translation(key, None, False, (f"flaml: no component for learner {learner!r}",))
    regression = task_type == "regression"
    component = _COMPONENTS[learner][int(regression)]
    params: dict[str, ParamValue] = {}
    for name, value in raw.items():
        if name in _DROPPED:
            continue
        if isinstance(value, list | dict):
            return Translation(key, None, False, (f"flaml.{learner}.{name}: nested value",))
        params[str(name)] = value
    if "log_max_bin" in params:
        params["max_bin"] = (1 << int(params.pop("log_max_bin"))) - 1  # type: ignore[arg-type]
    if learner == "xgboost":
        params.setdefault("max_depth", 0)
        params.setdefault("grow_policy", "lossguide")
        params.setdefault("tree_method", "hist")
    if learner in ("rf", "extra_tree"):
        if "max_leaves" in params:
            params["max_leaf_nodes"] = params.pop("max_leaves")
        if regression:
            params.pop("criterion", None)
    params["n_jobs"] = 1
    return Translation(key, make_spec(component, params), True)
