"""The space a search draws from, and the user's constraints applied to it (cruise-control).

``SearchSpace`` is the pipeline space of :mod:`mile_meta.pipelines.space` after the
constraints (families included/excluded, interpretable only, pinned steps and hyperparameters)
and the prior's pruning. Every constraint is checked here, before any data is touched, so a
constraint the space cannot satisfy is an error at once.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mile_meta.pipelines import COMPONENTS, PipelineSpec, Step, build_pipeline
from mile_meta.pipelines.space import EstimatorSpace, Hyperparameter, search_space
from mile_meta.pipelines.spec import ParamValue
from mile_meta.search._errors import SearchError
from mile_meta.search._records import Cut

__all__ = ["Constraints", "SearchSpace", "constrained_space", "parse_pins"]

PREPROCESSOR = "TabularPreprocessor"


@dataclass(frozen=True)
class Constraints:
    """What cruise-control lets the user fix (autopilot uses none of them).

    ``include`` / ``exclude`` name families (``random_forest``) or estimators
    (``RandomForestClassifier``); ``pinned`` maps ``"Component.parameter"`` (or a bare
    ``"parameter"``, for every estimator that has it) to a value; ``max_fit_seconds`` bounds the
    time to fit one model, ``max_model_bytes`` the pickled size of the final model and
    ``max_memory_bytes`` the memory of the process that fits the models.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    pinned: tuple[tuple[str, ParamValue], ...] = ()
    interpretable: bool = False
    max_fit_seconds: float | None = None
    max_model_bytes: int | None = None
    max_memory_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in ("include", "exclude"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))
        pinned = self.pinned
        items = pinned.items() if isinstance(pinned, Mapping) else (pinned or ())
        object.__setattr__(self, "pinned", tuple((str(k), v) for k, v in items))
        for name in ("max_fit_seconds", "max_model_bytes", "max_memory_bytes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise SearchError(f"{name} must be positive, got {value}; drop it or raise it")

    @property
    def any(self) -> bool:
        return bool(
            self.include
            or self.exclude
            or self.pinned
            or self.interpretable
            or self.max_fit_seconds
            or self.max_model_bytes
            or self.max_memory_bytes
        )


def parse_pins(texts: Iterable[str]) -> tuple[tuple[str, ParamValue], ...]:
    """``["RandomForestClassifier.n_estimators=500", "scaling=robust"]`` as (key, value) pairs.

    Values are read as JSON where they can be (numbers, true/false, null), else as text.
    """
    pins = []
    for text in texts:
        key, separator, raw = text.partition("=")
        if not separator or not key.strip():
            raise SearchError(
                f"cannot read the pin {text!r}; write Component.parameter=value, "
                "e.g. RandomForestClassifier.n_estimators=500"
            )
        raw = raw.strip()
        try:
            value = json.loads(raw)
        except ValueError:
            value = {"None": None, "True": True, "False": False}.get(raw, raw)
        if isinstance(value, list | dict):
            raise SearchError(f"pin {key}: a value must be a number, text, true/false or null")
        pins.append((key.strip(), value))
    return tuple(pins)


@dataclass(frozen=True)
class SearchSpace:
    """Estimator spaces the optimizer draws from, plus the pinned preprocessing parameters."""

    task_type: str
    estimators: tuple[EstimatorSpace, ...]
    preprocessing_pins: tuple[tuple[str, ParamValue], ...] = ()
    estimator_pins: tuple[tuple[str, tuple[tuple[str, ParamValue], ...]], ...] = field(default=())

    @property
    def estimator_names(self) -> tuple[str, ...]:
        return tuple(space.estimator for space in self.estimators)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(space.family for space in self.estimators))

    def estimator(self, name: str) -> EstimatorSpace:
        for space in self.estimators:
            if space.estimator == name:
                return space
        raise KeyError(name)

    def allows(self, estimator: str) -> bool:
        return estimator in self.estimator_names

    def pins_for(self, estimator: str) -> dict[str, ParamValue]:
        return dict(dict(self.estimator_pins).get(estimator, ()))

    def spec_for(self, estimator: str, params: Mapping[str, ParamValue]) -> PipelineSpec:
        """The runnable spec of a configuration: fixed values, then the params, then pins."""
        from mile_meta.pipelines import make_spec

        space = self.estimator(estimator)
        merged = {**dict(space.fixed), **dict(params), **self.pins_for(estimator)}
        return self.apply_pins(make_spec(estimator, merged))

    def apply_pins(self, spec: PipelineSpec) -> PipelineSpec:
        """``spec`` with the pinned preprocessing and estimator parameters set."""
        steps = list(spec.steps)
        if self.preprocessing_pins and steps[0].component == PREPROCESSOR:
            merged = {**steps[0].param_dict, **dict(self.preprocessing_pins)}
            steps[0] = Step(PREPROCESSOR, tuple(merged.items()))
        pins = self.pins_for(steps[-1].component)
        if pins:
            merged = {**steps[-1].param_dict, **pins}
            steps[-1] = Step(steps[-1].component, tuple(merged.items()))
        return PipelineSpec(tuple(steps))

    def config_of(self, spec: PipelineSpec) -> dict[str, ParamValue] | None:
        """The configuration of ``spec`` in this space, or None if it lies outside.

        Tuned hyperparameters the spec leaves unset take their default (what the estimator
        runs with); a spec with other steps, or a value outside a range, lies outside.
        """
        estimator = spec.estimator.component
        if not self.allows(estimator) or len(spec.steps) != 2:
            return None
        space = self.estimator(estimator)
        params = spec.estimator.param_dict
        config: dict[str, ParamValue] = {}
        for hyperparameter in space.hyperparameters:
            value = params.get(hyperparameter.name, hyperparameter.default)
            if not hyperparameter.contains(value):
                return None
            config[hyperparameter.name] = value
        return config

    def replace_estimator(self, space: EstimatorSpace) -> SearchSpace:
        estimators = tuple(space if s.estimator == space.estimator else s for s in self.estimators)
        return dataclasses.replace(self, estimators=estimators)

    def without(self, estimators: Iterable[str]) -> SearchSpace:
        dropped = set(estimators)
        return dataclasses.replace(
            self, estimators=tuple(s for s in self.estimators if s.estimator not in dropped)
        )


def _describe_range(hyperparameter: Hyperparameter) -> str:
    if hyperparameter.kind == "categorical":
        return "{" + ", ".join(map(str, hyperparameter.choices)) + "}"
    return f"[{hyperparameter.low:g}, {hyperparameter.high:g}]"


def _accepted_parameters(component: str) -> set[str]:
    parameters = inspect.signature(COMPONENTS[component].load()).parameters
    return set(parameters)


def _split_pins(
    pins: tuple[tuple[str, ParamValue], ...], spaces: tuple[EstimatorSpace, ...]
) -> tuple[dict[str, ParamValue], dict[str, dict[str, ParamValue]]]:
    preprocessing: dict[str, ParamValue] = {}
    per_estimator: dict[str, dict[str, ParamValue]] = {}
    names = {space.estimator for space in spaces}
    for key, value in pins:
        component, dot, parameter = key.rpartition(".")
        if not dot and parameter in _accepted_parameters(PREPROCESSOR):
            component, dot = PREPROCESSOR, "."
        if not dot:  # a bare parameter: every estimator of the space that takes it
            takers = [s.estimator for s in spaces if parameter in _accepted_parameters(s.estimator)]
            if not takers:
                raise SearchError(
                    f"no estimator of the search takes a parameter {parameter!r}; "
                    "write Component.parameter=value (e.g. RandomForestClassifier.max_depth=8)"
                )
            for estimator in takers:
                per_estimator.setdefault(estimator, {})[parameter] = value
            continue
        if component == PREPROCESSOR:
            if parameter not in _accepted_parameters(PREPROCESSOR):
                raise SearchError(
                    f"{PREPROCESSOR} has no parameter {parameter!r}; use one of "
                    + ", ".join(sorted(_accepted_parameters(PREPROCESSOR)))
                )
            preprocessing[parameter] = value
            continue
        if component not in COMPONENTS:
            raise SearchError(f"pin {key}: unknown component {component!r}")
        if component not in names:
            raise SearchError(
                f"pin {key}: {component} is not among the estimators searched "
                f"({', '.join(sorted(names))}); include it or drop the pin"
            )
        if parameter not in _accepted_parameters(component):
            raise SearchError(f"pin {key}: {component} has no parameter {parameter!r}")
        per_estimator.setdefault(component, {})[parameter] = value
    return preprocessing, per_estimator


def _check_pinned_values(space: SearchSpace) -> None:
    """Instantiate every pinned estimator; scikit-learn checks parameter values without fitting."""
    for estimator in {name for name, _ in space.estimator_pins}:
        spec = space.spec_for(estimator, space.estimator(estimator).defaults())
        try:
            pipeline = build_pipeline(spec, random_state=0)
            model = pipeline.steps[-1][1]
            # LightGBM inherits _validate_params from scikit-learn but declares no constraints
            if hasattr(model, "_parameter_constraints"):
                model._validate_params()
        except Exception as error:  # an invalid pin: say which and why, in one line
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SearchError(f"the pins for {estimator} are not valid ({first})") from None
    if space.preprocessing_pins:
        from mile_meta.pipelines._preprocessing import TabularPreprocessor

        values = dict(space.preprocessing_pins)
        allowed = {
            "numeric_imputation": ("median", "mean", "most_frequent"),
            "categorical_encoding": ("onehot", "ordinal"),
            "scaling": ("none", "standard", "minmax", "robust", "quantile"),
        }
        for name, value in values.items():
            if name in allowed and value not in allowed[name]:
                raise SearchError(
                    f"{PREPROCESSOR}.{name}={value!r} is not valid; use one of {', '.join(allowed[name])}"
                )
        TabularPreprocessor(**values)  # type: ignore[arg-type]


def constrained_space(task_type: str, constraints: Constraints) -> tuple[SearchSpace, list[Cut]]:
    """The space the constraints leave, with a cut for each family they removed.

    Raises :class:`SearchError` when nothing is left or a pin does not fit.
    """
    every = search_space(task_type)
    kept = search_space(  # raises for an unknown family or estimator name
        task_type,
        include=constraints.include or None,
        exclude=constraints.exclude or None,
        interpretable_only=constraints.interpretable,
    )
    if not kept:
        asked = []
        if constraints.include:
            asked.append(f"include={','.join(constraints.include)}")
        if constraints.exclude:
            asked.append(f"exclude={','.join(constraints.exclude)}")
        if constraints.interpretable:
            asked.append("interpretable only")
        interpretable = sorted({s.family for s in every if COMPONENTS[s.estimator].interpretable})
        hint = (
            f"the interpretable families for {task_type} are {', '.join(interpretable)}"
            if constraints.interpretable
            else f"the families for {task_type} are {', '.join(sorted({s.family for s in every}))}"
        )
        raise SearchError(
            f"no estimator satisfies {' and '.join(asked)}; {hint}: relax one constraint",
            usage=True,
        )
    cuts = []
    kept_names = {s.estimator for s in kept}
    wanted = {name.lower() for name in constraints.include}
    unwanted = {name.lower() for name in constraints.exclude}
    for space in every:
        if space.estimator in kept_names:
            continue
        names = {space.family.lower(), space.estimator.lower()}
        if wanted and not names & wanted:
            reason = f"not among the included ({', '.join(constraints.include)})"
        elif names & unwanted:
            reason = "excluded by the user"
        else:
            reason = "not interpretable (interpretable models only)"
        cuts.append(Cut("estimator", space.estimator, reason, "constraint", kept_share=0.0))
    preprocessing, per_estimator = _split_pins(constraints.pinned, kept)
    # a pinned hyperparameter is no longer tuned: it moves from the ranges to the fixed values
    estimators = []
    for space in kept:
        pins = per_estimator.get(space.estimator, {})
        if pins:
            for name, value in pins.items():
                if name in space.names:
                    cuts.append(
                        Cut(
                            "range",
                            f"{space.estimator}.{name}",
                            "pinned by the user",
                            "constraint",
                            _describe_range(space.hyperparameter(name)),
                            repr(value),
                            0.0,
                        )
                    )
            space = dataclasses.replace(
                space,
                hyperparameters=tuple(h for h in space.hyperparameters if h.name not in pins),
                fixed=tuple({**dict(space.fixed), **pins}.items()),
            )
        estimators.append(space)
    result = SearchSpace(
        task_type=task_type,
        estimators=tuple(estimators),
        preprocessing_pins=tuple(preprocessing.items()),
        estimator_pins=tuple((name, tuple(p.items())) for name, p in per_estimator.items()),
    )
    _check_pinned_values(result)
    for name, value in preprocessing.items():
        cuts.append(
            Cut(
                "choices",
                f"{PREPROCESSOR}.{name}",
                "pinned by the user",
                "constraint",
                None,
                repr(value),
            )
        )
    return result, cuts
