"""``PipelineSpec``: a pipeline as data — ordered steps, each a component and its hyperparameters.

The canonical JSON (sorted keys, no spaces) is what the knowledge base stores, and the first
16 hex digits of its sha256 are the pipeline id; so the same pipeline gets the same id
whichever corpus describes it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ParamValue", "PipelineSpec", "Step"]

ParamValue = str | int | float | bool | None


def _check_value(component: str, key: str, value: Any) -> ParamValue:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{component}.{key} must be finite, got {value!r}")
        return value
    if hasattr(value, "item"):  # numpy scalar
        return _check_value(component, key, value.item())
    raise TypeError(
        f"{component}.{key}: hyperparameters must be str, int, float, bool or None, got {type(value).__name__}"
    )


@dataclass(frozen=True)
class Step:
    """One step: a registered component name and its hyperparameters (sorted, immutable)."""

    component: str
    params: tuple[tuple[str, ParamValue], ...] = field(default=())

    def __post_init__(self) -> None:
        raw = self.params
        items = raw.items() if isinstance(raw, Mapping) else raw
        checked = tuple(
            sorted(
                (str(key), _check_value(self.component, str(key), value)) for key, value in items
            )
        )
        object.__setattr__(self, "params", checked)

    @classmethod
    def of(cls, component: str, **params: ParamValue) -> Step:
        return cls(component, tuple(params.items()))

    @property
    def param_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "params": self.param_dict}


@dataclass(frozen=True)
class PipelineSpec:
    """An ordered tuple of steps; the last step is the estimator."""

    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a pipeline needs at least one step")
        object.__setattr__(self, "steps", tuple(self.steps))

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"steps": [step.to_dict() for step in self.steps]}

    def to_json(self) -> str:
        """Canonical JSON: the same spec always gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> PipelineSpec:
        try:
            steps = payload["steps"]
            return cls(
                tuple(Step(s["component"], tuple(dict(s.get("params", {})).items())) for s in steps)
            )
        except (KeyError, TypeError) as error:
            raise ValueError(
                'a pipeline spec is {"steps": [{"component": NAME, "params": {...}}, ...]}'
            ) from error

    @classmethod
    def from_json(cls, text: str) -> PipelineSpec:
        return cls.from_dict(json.loads(text))

    # -- identity ------------------------------------------------------------------------
    @property
    def pipeline_id(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @property
    def estimator(self) -> Step:
        return self.steps[-1]

    @property
    def preprocessing(self) -> tuple[Step, ...]:
        return self.steps[:-1]

    def with_estimator_params(self, **params: ParamValue) -> PipelineSpec:
        merged = {**self.estimator.param_dict, **params}
        return PipelineSpec(
            (*self.preprocessing, Step(self.estimator.component, tuple(merged.items())))
        )

    def describe(self) -> str:
        """Short human-readable form of the estimator step: ``RandomForestClassifier(criterion=gini)``."""
        est = self.estimator
        params = ", ".join(f"{k}={v}" for k, v in est.params)
        return f"{est.component}({params})"
