"""OpenML flows + setups → :class:`~mile_meta.pipelines.PipelineSpec`, where that is possible.

A scikit-learn flow is either one estimator (``sklearn.ensemble.forest.RandomForestClassifier``)
or a ``sklearn.pipeline.Pipeline`` whose ``steps`` parameter names its components in order.
The translation maps

- the final estimator's class name onto :data:`mile_meta.pipelines.COMPONENTS`, with the
  setup's hyperparameter values (JSON text in OpenML) that differ from today's scikit-learn
  defaults; values renamed since (``max_features="auto"``, ``criterion="mse"``) are renamed;
- registered feature preprocessors (PCA, ...) onto their components;
- imputers, encoders, scalers, ``VarianceThreshold`` and ``ColumnTransformer`` onto the
  standard ``TabularPreprocessor`` that :func:`~mile_meta.pipelines.make_spec` puts first.

Such a spec runs, but is not exactly the flow (``exact=False`` with the reasons). Anything
else (Weka flows, search wrappers like ``GridSearchCV``, ensembles of estimators, steps
without a component) is not translated; the crawler keeps it as a ``runnable=False``
pipeline described by :func:`flow_description`.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from typing import Any

from mile_meta.pipelines import COMPONENTS, Step, build_pipeline, make_spec
from mile_meta.pipelines.spec import ParamValue
from mile_meta.pipelines.translate import Translation
from mile_meta.sources.openml._fetch import FlowNode, SetupInfo

__all__ = ["flow_class_name", "flow_description", "translate_openml_setup"]

_PIPELINE = "sklearn.pipeline.Pipeline"
# Preprocessing the standard TabularPreprocessor stands in for.
_ABSORBED = {
    "SimpleImputer",
    "Imputer",
    "ConditionalImputer",
    "OneHotEncoder",
    "OrdinalEncoder",
    "LabelEncoder",
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "RobustScaler",
    "VarianceThreshold",
    "ColumnTransformer",
    "Pipeline",
}
# Settings that change how a model is run, not what it learns.
_NOT_SEMANTIC = {
    "n_jobs",
    "nthread",
    "verbose",
    "verbosity",
    "silent",
    "random_state",
    "warm_start",
    "copy_X",
    "memory",
    "cache_size",
}
# (parameter, old value) → today's value, for renames in scikit-learn's history.
_CLASSIFIER_RENAMES: dict[tuple[str, Any], Any] = {
    ("max_features", "auto"): "sqrt",
    ("loss", "deviance"): "log_loss",
    ("loss", "log"): "log_loss",
    ("gamma", "auto_deprecated"): "auto",
    ("solver", "warn"): "lbfgs",
    ("n_estimators", "warn"): 10,
    ("algorithm", "SAMME.R"): "SAMME",
}
_REGRESSOR_RENAMES: dict[tuple[str, Any], Any] = {
    ("max_features", "auto"): 1.0,
    ("criterion", "mse"): "squared_error",
    ("criterion", "mae"): "absolute_error",
    ("loss", "ls"): "squared_error",
    ("loss", "lad"): "absolute_error",
    ("gamma", "auto_deprecated"): "auto",
    ("n_estimators", "warn"): 10,
}


class _Untranslatable(Exception):
    pass


def flow_class_name(flow: FlowNode) -> str:
    """The dotted class path of a flow (``sklearn.ensemble._forest.RandomForestClassifier``)."""
    if flow.class_name:
        return flow.class_name
    return flow.name.split("(", 1)[0]


def _short(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _parse(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _is_plain(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int | str)


def _setup_values(setup: SetupInfo | None) -> dict[tuple[int, str], str | None]:
    if setup is None:
        return {}
    return {(p.flow_id, p.parameter_name): p.value for p in setup.parameters}


def _values_of(flow: FlowNode, values: Mapping[tuple[int, str], str | None]) -> dict[str, Any]:
    result = {}
    for parameter in flow.parameters:
        key = (flow.flow_id, parameter.name)
        result[parameter.name] = _parse(values.get(key, parameter.default_value))
    return result


def _ordered_steps(flow: FlowNode, values: Mapping[tuple[int, str], str | None]) -> list[FlowNode]:
    """A Pipeline flow's components in step order (from its ``steps`` parameter)."""
    components = dict(flow.components)
    steps = _values_of(flow, values).get("steps")
    ordered: list[FlowNode] = []
    if isinstance(steps, list):
        for item in steps:
            reference = item.get("value") if isinstance(item, dict) else None
            key = reference.get("key") if isinstance(reference, dict) else None
            if key in components:
                ordered.append(components[key])
        if len(ordered) == len(components):
            return ordered
    # no readable `steps`: OpenML keeps components in the order they were serialised
    return list(components.values())


def _all_absorbed(flow: FlowNode) -> bool:
    if _short(flow_class_name(flow)) not in _ABSORBED:
        return False
    return all(_all_absorbed(child) for _, child in flow.components)


def _component_params(
    component: str,
    flow: FlowNode,
    values: Mapping[tuple[int, str], str | None],
    reasons: list[str],
) -> dict[str, ParamValue]:
    info = COMPONENTS[component]
    cls = info.load()
    signature = inspect.signature(cls).parameters
    renames = _REGRESSOR_RENAMES if info.kind == "regressor" else _CLASSIFIER_RENAMES
    defaults_of_flow = {p.name: _parse(p.default_value) for p in flow.parameters}
    params: dict[str, ParamValue] = {}
    for name, value in _values_of(flow, values).items():
        if name in _NOT_SEMANTIC:
            continue
        if component == "LogisticRegression" and name == "penalty":
            # scikit-learn ≥ 1.8 says the penalty through l1_ratio (as the Oboe translator does)
            if value == "l1":
                params["l1_ratio"] = 1.0
            elif value not in ("l2", None, "deprecated") and value != "elasticnet":
                raise _Untranslatable(f"LogisticRegression penalty={value!r} has no equivalent")
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            value = renames.get((name, value), value)
        parameter = signature.get(name)
        if parameter is None or parameter.default == "deprecated":
            if value != defaults_of_flow.get(name) and value is not None:
                reasons.append(f"{component}.{name}={value!r} dropped: gone from scikit-learn")
            continue
        default = parameter.default
        if _same(value, default):
            continue
        if not _is_plain(value):
            raise _Untranslatable(f"{component}.{name}={value!r} is not a plain value")
        params[name] = value
    return params


def _same(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    try:
        same = value == default
    except Exception:  # comparing with an arbitrary default object
        return False
    if isinstance(same, bool) and same:
        # True == 1 in Python; a boolean setting is not the number 1
        return isinstance(value, bool) == isinstance(default, bool)
    return False


def _estimator_component(flow: FlowNode) -> str:
    path = flow_class_name(flow)
    name = _short(path)
    info = COMPONENTS.get(name)
    if info is None or info.kind not in ("classifier", "regressor"):
        raise _Untranslatable(f"no component for {path}")
    if not (path.startswith("sklearn.") or path.startswith("lightgbm.")):
        raise _Untranslatable(f"{path} is not a scikit-learn or LightGBM class")
    if flow.components:
        raise _Untranslatable(
            f"{path} holds nested estimators ({', '.join(i for i, _ in flow.components)})"
        )
    return name


def translate_openml_setup(flow: FlowNode, setup: SetupInfo | None) -> Translation:
    """Translate a flow with a setup's hyperparameter values (the flow's defaults if None)."""
    origin = f"setup:{setup.setup_id}" if setup is not None else f"flow:{flow.flow_id}"
    values = _setup_values(setup)
    reasons: list[str] = []
    try:
        if flow_class_name(flow) == _PIPELINE:
            steps = _ordered_steps(flow, values)
            if not steps:
                raise _Untranslatable("a Pipeline without steps")
            *before, last = steps
        else:
            before, last = [], flow
        estimator = _estimator_component(last)
        feature_steps: list[Step] = []
        for step in before:
            path = flow_class_name(step)
            name = _short(path)
            info = COMPONENTS.get(name)
            if info is not None and info.kind == "feature_preprocessor" and not step.components:
                feature_steps.append(
                    Step(name, tuple(_component_params(name, step, values, reasons).items()))
                )
            elif _all_absorbed(step):
                reasons.append(f"{path} replaced by the standard TabularPreprocessor")
            else:
                raise _Untranslatable(f"no component for pipeline step {path}")
        params = _component_params(estimator, last, values, reasons)
        spec = make_spec(estimator, params, feature_preprocessors=tuple(feature_steps))
        build_pipeline(spec)  # refuses hyperparameter names today's classes do not take
    except _Untranslatable as error:
        return Translation(origin, None, False, (str(error),))
    except (ValueError, TypeError) as error:
        return Translation(origin, None, False, (f"not buildable: {error}",))
    if setup is None:
        reasons.append("setup unknown: the flow's default values were used")
    return Translation(origin, spec, not reasons, tuple(reasons))


def flow_description(flow: FlowNode, setup: SetupInfo | None, setup_id: int | None = None) -> str:
    """Canonical JSON of an untranslated flow with its setup (the pipeline's ``spec_json``)."""
    parameters: dict[str, str | None] | None = None
    if setup is not None:
        parameters = {p.full_name: p.value for p in setup.parameters}
    payload: dict[str, Any] = {
        "openml_flow": {"flow_id": flow.flow_id, "name": flow.name},
        "parameters": parameters,
    }
    if setup is None and setup_id is not None:
        payload["setup_id"] = setup_id  # nothing else tells two unknown setups apart
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
