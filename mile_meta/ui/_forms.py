"""The pipeline editor's form, generated from the pipeline space, and its validation.

A spec becomes a list of steps, each a list of fields: a hyperparameter the search space
knows (:mod:`mile_meta.pipelines.space`) gets its type, range and choices; one it does not
know (a fixed value such as ``n_estimators`` of a forest, or a corpus pipeline's setting)
is a JSON literal checked by building the estimator. The first step's fields come from the
``TabularPreprocessor``'s documented options. Every refused value comes back with its reason.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mile_meta.errors import MileMetaError
from mile_meta.pipelines import COMPONENTS, PipelineSpec, Step, build_pipeline, make_spec
from mile_meta.pipelines.space import Hyperparameter, estimator_space, search_space
from mile_meta.pipelines.spec import ParamValue

__all__ = ["Field", "FormError", "estimators_for", "form_for", "spec_from_form"]

# The TabularPreprocessor's options (mile_meta/pipelines/_preprocessing.py documents them).
_PREPROCESSOR = (
    Hyperparameter(
        "numeric_imputation", "categorical", "median", choices=("median", "mean", "most_frequent")
    ),
    Hyperparameter("categorical_encoding", "categorical", "onehot", choices=("onehot", "ordinal")),
    Hyperparameter(
        "scaling",
        "categorical",
        "none",
        choices=("none", "standard", "minmax", "robust", "quantile"),
    ),
    Hyperparameter("max_categories", "int", 32, low=2, high=1000),
)


class FormError(MileMetaError):
    """Some fields hold invalid values; ``errors`` maps ``step/param`` to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]}: {first[1]}")


@dataclass(frozen=True)
class Field:
    """One input: ``kind`` is ``float``, ``int``, ``categorical`` (``choices``) or ``json``
    (a literal the space does not describe); ``low``/``high`` bound numbers, ``log`` says
    the range is searched on a log scale."""

    name: str
    kind: str
    value: ParamValue
    default: ParamValue = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[ParamValue, ...] = ()
    in_space: bool = True
    is_set: bool = True  # False: the spec leaves it at its default (sent only if changed)
    help: str = ""


@dataclass(frozen=True)
class StepForm:
    index: int
    component: str
    kind: str  # data_preprocessor | feature_preprocessor | classifier | regressor
    fields: tuple[Field, ...] = field(default=())
    editable: bool = True


def _hyperparameters_of(component: str) -> tuple[Hyperparameter, ...]:
    if component == "TabularPreprocessor":
        return _PREPROCESSOR
    try:
        return estimator_space(component).hyperparameters
    except MileMetaError:
        return ()


def _field(hyperparameter: Hyperparameter, value: ParamValue, is_set: bool) -> Field:
    if hyperparameter.kind == "categorical":
        help_text = "one of " + ", ".join(json.dumps(c) for c in hyperparameter.choices)
    else:
        help_text = (
            f"{hyperparameter.kind} in [{hyperparameter.low:g}, {hyperparameter.high:g}]"
            + (" (log scale)" if hyperparameter.log else "")
        )
    return Field(
        name=hyperparameter.name,
        kind=hyperparameter.kind,
        value=value,
        default=hyperparameter.default,
        low=hyperparameter.low,
        high=hyperparameter.high,
        log=hyperparameter.log,
        choices=hyperparameter.choices,
        is_set=is_set,
        help=help_text,
    )


def _with_current(field: Field) -> Field:
    """A choice field whose current value (from a corpus) lies outside the space's choices
    offers that value too, so taking the pipeline as it is keeps it."""
    if field.kind != "categorical" or field.value in field.choices:
        return field
    return Field(**{**asdict(field), "choices": (*field.choices, field.value)})


def form_for(spec: PipelineSpec) -> list[dict[str, Any]]:
    """The editor's steps for ``spec``: every hyperparameter of the space (set or at its
    default) plus every other parameter the spec sets."""
    steps = []
    for index, step in enumerate(spec.steps):
        info = COMPONENTS.get(step.component)
        known = _hyperparameters_of(step.component)
        values = step.param_dict
        fields = [
            _with_current(_field(h, values.get(h.name, h.default), h.name in values)) for h in known
        ]
        names = {h.name for h in known}
        fields.extend(
            Field(
                name=name,
                kind="json",
                value=value,
                default=None,
                in_space=False,
                help='a JSON literal (number, "text", true/false, null); not in the search space',
            )
            for name, value in step.params
            if name not in names
        )
        steps.append(
            asdict(
                StepForm(
                    index=index,
                    component=step.component,
                    kind=info.kind if info is not None else "unknown",
                    fields=tuple(fields),
                )
            )
        )
    return steps


def estimators_for(task_type: str) -> list[dict[str, str]]:
    """The estimators of the search space for a task, for the editor's estimator menu."""
    return [
        {"estimator": space.estimator, "family": space.family} for space in search_space(task_type)
    ]


def default_spec(estimator: str) -> PipelineSpec:
    """A new estimator with its standard preprocessing and the space's default values."""
    try:
        space = estimator_space(estimator)
    except MileMetaError:
        return make_spec(estimator)
    return make_spec(estimator, {**dict(space.fixed), **space.defaults()})


def _parse(hyperparameter: Hyperparameter, raw: Any, strict: bool) -> tuple[ParamValue, str]:
    """The value of one field and a note, or ValueError with the reason.

    The space's ranges and choices are where the search looks, not what the estimator
    accepts (a corpus pipeline may use ``min_samples_split=0.01``, a fraction). So for an
    estimator whose parameters scikit-learn checks, a value outside them is accepted with a
    note and scikit-learn's own check decides; for the others (``strict``) the space decides.
    """
    if hyperparameter.kind == "categorical":
        choice: Any = raw
        if isinstance(raw, str) and raw not in hyperparameter.choices:
            try:
                choice = json.loads(raw)
            except ValueError:
                choice = raw
        listed = choice in hyperparameter.choices and isinstance(choice, bool) == any(
            isinstance(c, bool) and c == choice for c in hyperparameter.choices
        )
        if listed:
            return choice, ""
        choices = ", ".join(json.dumps(c) for c in hyperparameter.choices)
        if strict or isinstance(choice, list | dict):
            raise ValueError(f"must be one of {choices}, got {json.dumps(raw)}")
        return choice, f"not among the search space's choices ({choices})"
    assert hyperparameter.low is not None and hyperparameter.high is not None
    bounds = f"[{hyperparameter.low:g}, {hyperparameter.high:g}]"
    text = str(raw).strip()
    if isinstance(raw, bool) or text == "":
        raise ValueError(f"must be a number in {bounds}")
    try:
        number = float(text)
    except ValueError:
        if strict:
            raise ValueError(f"must be a number in {bounds}, got {text!r}") from None
        value = _parse_literal(raw)  # "sqrt", null: scikit-learn decides
        return value, f"not a number; the search space uses numbers in {bounds}"
    if not math.isfinite(number):
        raise ValueError(f"must be finite, got {text}")
    note = ""
    if hyperparameter.kind == "int" and number.is_integer():
        value = int(number)
    elif hyperparameter.kind == "int":
        if strict:
            raise ValueError(f"must be a whole number, got {text}")
        value, note = number, "not a whole number (scikit-learn may read it as a fraction)"
    else:
        value = number
    if not hyperparameter.low <= number <= hyperparameter.high:
        if strict:
            raise ValueError(f"must lie in {bounds}, got {text}")
        note = note or f"outside the search space's range {bounds}"
    return value, note


def _parse_literal(raw: Any) -> ParamValue:
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    text = str(raw).strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text  # a bare word is text
    if isinstance(value, list | dict):
        raise ValueError("must be a single value (number, text, true/false or null)")
    return value


def spec_from_form(steps: list[dict[str, Any]]) -> tuple[PipelineSpec, dict[str, str]]:
    """Validate the editor's steps (``[{"component", "params": {name: raw value}}]``).

    Returns the spec and notes on accepted values outside the search space; raises
    :class:`FormError` with every invalid field and its reason. A spec that passes builds
    into a scikit-learn pipeline whose parameters scikit-learn accepts.
    """
    errors: dict[str, str] = {}
    notes: dict[str, str] = {}
    built: list[Step] = []
    if not steps:
        raise FormError({"spec": "a pipeline needs at least one step"})
    for index, raw_step in enumerate(steps):
        component = str(raw_step.get("component", ""))
        key = f"{index}:{component}"
        if component not in COMPONENTS:
            errors[key] = f"unknown component {component!r}"
            continue
        known = {h.name: h for h in _hyperparameters_of(component)}
        strict = not hasattr(COMPONENTS[component].load(), "_parameter_constraints")
        params: dict[str, ParamValue] = {}
        for name, raw in dict(raw_step.get("params") or {}).items():
            try:
                if name in known:
                    params[name], note = _parse(known[name], raw, strict)
                    if note:
                        notes[f"{key}.{name}"] = note
                else:
                    params[name] = _parse_literal(raw)
            except ValueError as error:
                errors[f"{key}.{name}"] = str(error)
        built.append(Step(component, tuple(params.items())))
    if errors:
        raise FormError(errors)
    last = COMPONENTS[built[-1].component].kind
    if last not in ("classifier", "regressor"):
        raise FormError({"spec": f"the last step must be an estimator, not a {last}"})
    spec = PipelineSpec(tuple(built))
    _check_builds(spec)
    return spec, notes


def _check_builds(spec: PipelineSpec) -> None:
    """Build the pipeline and let scikit-learn check each step's parameters before any fit."""
    try:
        pipeline = build_pipeline(spec)
    except (TypeError, ValueError) as error:
        raise FormError({"spec": str(error).splitlines()[0]}) from None
    for index, (_, estimator) in enumerate(pipeline.steps):
        validate = getattr(estimator, "_validate_params", None)
        if validate is None or not hasattr(estimator, "_parameter_constraints"):
            continue
        try:
            validate()
        except (TypeError, ValueError) as error:
            component = spec.steps[index].component
            message = str(error).splitlines()[0]
            # "The 'max_depth' parameter of DecisionTreeClassifier must be ...": that field
            named = re.match(r"The '(\w+)' parameter", message)
            key = f"{index}:{component}" + (f".{named.group(1)}" if named else "")
            raise FormError({key: message}) from None
