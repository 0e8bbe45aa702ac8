"""AutoGluon-Tabular's zero-shot portfolio configurations as specs.

A configuration is one entry of ``hyperparameter_portfolio_zeroshot_2023[<model key>]``: the
model's hyperparameters plus ``ag_args`` (name suffix, fit priority, problem types). The model
keys that map onto our components:

=========  ==========================  ================================================
AutoGluon  component                   hyperparameters
=========  ==========================  ================================================
GBM        LGBMClassifier/-Regressor   ``feature_fraction`` -> ``colsample_bytree``,
                                       ``min_data_in_leaf`` -> ``min_child_samples``;
                                       ``learning_rate``, ``num_leaves``, ``extra_trees``
CAT        CatBoostClassifier/-Reg.    same names
XGB        XGBClassifier/-Regressor    same names (``enable_categorical`` dropped)
RF         RandomForest*               same names, 300 trees (AutoGluon's default)
XT         ExtraTrees*                 same names, 300 trees (AutoGluon's default)
NN_TORCH   --                          not translated (no PyTorch network component)
FASTAI     --                          not translated (no fastai network component)
=========  ==========================  ================================================

AutoGluon boosts up to 10 000 rounds and stops early on a held-out split; a spec has a
fixed number of rounds, so boosted models get ``round(10 / learning_rate)`` rounds clipped
to [50, 1000] (200 at AutoGluon's default rate of 0.05) -- an approximation, named in
``Translation.reasons``. CatBoost's ``one_hot_max_size`` and ``max_ctr_complexity`` concern
categorical columns, which reach it ordinal-encoded here: kept, but approximate. AutoGluon's
own feature generators differ from ``TabularPreprocessor`` for every configuration and do
not count against ``exact`` (``docs/portfolios.md``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from mile_meta.pipelines.components import make_spec
from mile_meta.pipelines.spec import ParamValue
from mile_meta.pipelines.translate import Translation

__all__ = ["AUTOGLUON_DEFAULTS", "boosting_rounds", "translate_autogluon"]

# AutoGluon 1.4's defaults for what the portfolio leaves unset (models/*/hyperparameters)
AUTOGLUON_DEFAULTS: dict[str, dict[str, ParamValue]] = {
    "GBM": {"learning_rate": 0.05},
    "CAT": {"learning_rate": 0.05, "depth": 6, "l2_leaf_reg": 3.0},
    "XGB": {"learning_rate": 0.1, "max_depth": 6},
    "RF": {},
    "XT": {},
}
_FOREST_TREES = 300
_RENAMES = {
    "GBM": {"feature_fraction": "colsample_bytree", "min_data_in_leaf": "min_child_samples"},
}
_DROPPED = {"XGB": ("enable_categorical",)}
_COMPONENTS = {
    "GBM": ("LGBMClassifier", "LGBMRegressor"),
    "CAT": ("CatBoostClassifier", "CatBoostRegressor"),
    "XGB": ("XGBClassifier", "XGBRegressor"),
    "RF": ("RandomForestClassifier", "RandomForestRegressor"),
    "XT": ("ExtraTreesClassifier", "ExtraTreesRegressor"),
}
_ROUNDS = {"GBM": "n_estimators", "CAT": "iterations", "XGB": "n_estimators"}
_THREADS: dict[str, tuple[str, int]] = {
    "GBM": ("n_jobs", 1),
    "CAT": ("thread_count", 1),
    "XGB": ("n_jobs", 1),
    "RF": ("n_jobs", 1),
    "XT": ("n_jobs", 1),
}


def boosting_rounds(learning_rate: float) -> int:
    """Rounds standing in for early stopping: ``round(10 / learning_rate)`` in [50, 1000]."""
    return int(min(1000, max(50, round(10.0 / learning_rate))))


def translate_autogluon(
    model_key: str, config: Mapping[str, object], task_type: str, origin_key: str = ""
) -> Translation:
    """One portfolio entry (``model_key`` such as ``"GBM"``) as a spec for ``task_type``."""
    key = origin_key or f"{model_key}:{json.dumps(dict(config), sort_keys=True)}"
    if model_key not in _COMPONENTS:
        network = {"NN_TORCH": "PyTorch", "FASTAI": "fastai"}.get(model_key, model_key)
        return Translation(key, None, False, (f"{model_key}: no {network} network component",))
    regression = task_type == "regression"
    component = _COMPONENTS[model_key][int(regression)]
    params: dict[str, ParamValue] = dict(AUTOGLUON_DEFAULTS[model_key])
    renames = _RENAMES.get(model_key, {})
    for name, value in config.items():
        if name == "ag_args" or name in _DROPPED.get(model_key, ()):
            continue
        if isinstance(value, list | dict):
            return Translation(key, None, False, (f"{model_key}.{name}: nested value {value!r}",))
        params[renames.get(name, name)] = value  # type: ignore[assignment]
    reasons: list[str] = []
    if model_key in _ROUNDS:
        rate = float(params["learning_rate"])  # type: ignore[arg-type]
        params[_ROUNDS[model_key]] = boosting_rounds(rate)
        reasons.append(
            f"{model_key}.rounds: AutoGluon stops early (up to 10000 rounds); "
            f"fixed at {boosting_rounds(rate)} for learning rate {rate:g}"
        )
    else:
        params["n_estimators"] = _FOREST_TREES
    if model_key == "CAT" and {"one_hot_max_size", "max_ctr_complexity"} & set(config):
        reasons.append(
            "CAT.categoricals: one_hot_max_size and max_ctr_complexity act on categorical "
            "columns, which reach CatBoost ordinal-encoded"
        )
    thread_name, threads = _THREADS[model_key]
    params[thread_name] = threads
    return Translation(key, make_spec(component, params), not reasons, tuple(reasons))
