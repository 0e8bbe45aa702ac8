"""The JSON schema of a serialised :class:`~mile_meta.priors.Prior` (``schema_version`` 1).

The schema is kept here as data so the installed package can validate a prior without any
file from the repository; ``docs/prior-schema.json`` is this dictionary written out (a test
checks that the two agree). :func:`validate_prior_payload` checks the subset of JSON Schema the
document uses (types, required keys, enums, minimums, nested objects and arrays) and reports the
first problem as one line with its JSON path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mile_meta.errors import MileMetaError

__all__ = ["PRIOR_SCHEMA", "SCHEMA_VERSION", "PriorSchemaError", "validate_prior_payload"]

SCHEMA_VERSION = 1


class PriorSchemaError(MileMetaError):
    """A prior's JSON does not follow the documented schema."""


_PARAM_VALUE = {"type": ["string", "number", "boolean", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

_OBSERVED = {
    "type": "object",
    "description": "A similar knowledge-base dataset and the configuration's score there.",
    "required": ["dataset_id", "dataset_name", "distance", "score"],
    "additionalProperties": False,
    "properties": {
        "dataset_id": {"type": "string"},
        "dataset_name": {"type": ["string", "null"]},
        "distance": {"type": ["number", "null"], "minimum": 0},
        "score": {"type": "number", "description": "in the metric's unit"},
    },
}

_STARTING = {
    "type": "object",
    "description": "A configuration of the search space to evaluate first, best first.",
    "required": [
        "rank",
        "estimator",
        "family",
        "params",
        "predicted_score",
        "lower",
        "upper",
        "expected_fit_seconds",
        "observed_scores",
        "pipeline_id",
        "source_ranks",
        "exact",
    ],
    "additionalProperties": False,
    "properties": {
        "rank": {"type": "integer", "minimum": 1},
        "estimator": {"type": "string", "description": "component name, e.g. SVC"},
        "family": {"type": "string"},
        "params": {
            "type": "object",
            "description": "every searchable hyperparameter of the estimator",
            "additionalProperties": _PARAM_VALUE,
        },
        "predicted_score": {"type": "number"},
        "lower": {"type": "number"},
        "upper": {"type": "number"},
        "expected_fit_seconds": _NUMBER_OR_NULL,
        "observed_scores": {"type": "array", "items": _OBSERVED},
        "pipeline_id": {"type": "string", "description": "knowledge-base pipeline projected"},
        "source_ranks": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "exact": {
            "type": "boolean",
            "description": "false when a value was substituted (see unexpressible)",
        },
    },
}

_FAMILY_WEIGHT = {
    "type": "object",
    "required": ["family", "weight", "estimators"],
    "additionalProperties": False,
    "properties": {
        "family": {"type": "string"},
        "weight": {"type": "number", "minimum": 0},
        "estimators": {"type": "array", "items": {"type": "string"}},
    },
}

_DISTRIBUTION = {
    "type": "object",
    "description": (
        "normal: mu/sigma of the value (of ln(value) when log), truncated to [low, high]; "
        "beta: alpha/beta of (value - low) / (high - low); categorical: weights over choices"
    ),
    "required": [
        "estimator",
        "name",
        "distribution",
        "integer",
        "log",
        "low",
        "high",
        "mu",
        "sigma",
        "alpha",
        "beta",
        "choices",
        "weights",
        "support",
    ],
    "additionalProperties": False,
    "properties": {
        "estimator": {"type": "string"},
        "name": {"type": "string"},
        "distribution": {"enum": ["normal", "beta", "categorical"]},
        "integer": {"type": "boolean"},
        "log": {"type": "boolean"},
        "low": _NUMBER_OR_NULL,
        "high": _NUMBER_OR_NULL,
        "mu": _NUMBER_OR_NULL,
        "sigma": _NUMBER_OR_NULL,
        "alpha": _NUMBER_OR_NULL,
        "beta": _NUMBER_OR_NULL,
        "choices": {"type": "array", "items": _PARAM_VALUE},
        "weights": {"type": "array", "items": {"type": "number", "minimum": 0}},
        "support": {
            "type": "integer",
            "minimum": 0,
            "description": "how many good configurations it was fitted to",
        },
    },
}

_UNEXPRESSIBLE = {
    "type": "object",
    "description": "A recommended value (or estimator) the search space cannot hold.",
    "required": ["rank", "pipeline_id", "estimator", "parameter", "value", "reason", "substitute"],
    "additionalProperties": False,
    "properties": {
        "rank": {"type": ["integer", "null"]},
        "pipeline_id": {"type": ["string", "null"]},
        "estimator": {"type": "string"},
        "parameter": {"type": ["string", "null"]},
        "value": _PARAM_VALUE,
        "reason": {"type": "string"},
        "substitute": _PARAM_VALUE,
    },
}

_PROVENANCE = {
    "type": "object",
    "required": [
        "mile_meta_version",
        "meta_learner",
        "knowledge_base_checksum",
        "knowledge_base_sources",
        "knowledge_base_metric",
        "created_at",
        "excluded_datasets",
        "neighbour_datasets",
    ],
    "additionalProperties": False,
    "properties": {
        "mile_meta_version": {"type": "string"},
        "meta_learner": {"type": "string"},
        "knowledge_base_checksum": {"type": "string"},
        "knowledge_base_sources": {"type": "array", "items": {"type": "string"}},
        "knowledge_base_metric": {"type": "string"},
        "created_at": {"type": "string", "description": "ISO 8601, UTC"},
        "excluded_datasets": {"type": "array", "items": {"type": "string"}},
        "neighbour_datasets": {"type": "array", "items": {"type": "string"}},
    },
}

PRIOR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mile-meta.readthedocs.io/prior-schema-1.json",
    "title": "mile-meta prior",
    "description": (
        "What mile-meta knows about where to search on one dataset: ranked starting "
        "configurations, weights over model families and per-hyperparameter distributions, "
        "all in the terms of mile-meta's search space (mile_meta.pipelines.space)."
    ),
    "type": "object",
    "required": [
        "schema_version",
        "task_type",
        "metric",
        "higher_is_better",
        "dataset_name",
        "meta_features",
        "starting_configurations",
        "family_weights",
        "distributions",
        "unexpressible",
        "provenance",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "task_type": {"enum": ["binary", "multiclass", "regression"]},
        "metric": {"type": "string"},
        "higher_is_better": {"type": "boolean"},
        "dataset_name": {"type": "string"},
        "meta_features": {"type": "object", "additionalProperties": {"type": "number"}},
        "starting_configurations": {"type": "array", "items": _STARTING},
        "family_weights": {"type": "array", "items": _FAMILY_WEIGHT},
        "distributions": {"type": "array", "items": _DISTRIBUTION},
        "unexpressible": {"type": "array", "items": _UNEXPRESSIBLE},
        "provenance": _PROVENANCE,
    },
}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    raise AssertionError(kind)


def _check(value: Any, schema: Mapping[str, Any], path: str) -> None:
    if "const" in schema and value != schema["const"]:
        raise PriorSchemaError(
            f"prior JSON: {path} is {value!r}, this mile-meta reads {schema['const']!r}; "
            "write the prior again with this version of mile-meta"
        )
    if "enum" in schema and value not in schema["enum"]:
        raise PriorSchemaError(
            f"prior JSON: {path} is {value!r}; use one of {', '.join(map(str, schema['enum']))}"
        )
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_type_ok(value, kind) for kind in kinds):
            raise PriorSchemaError(
                f"prior JSON: {path} must be {' or '.join(kinds)}, got {type(value).__name__}"
            )
    if "minimum" in schema and _type_ok(value, "number") and value < schema["minimum"]:
        raise PriorSchemaError(f"prior JSON: {path} must be >= {schema['minimum']}, got {value}")
    if isinstance(value, Mapping):
        for key in schema.get("required", ()):
            if key not in value:
                raise PriorSchemaError(f"prior JSON: {path} lacks the required key {key!r}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], f"{path}.{key}")
            elif extra is False:
                raise PriorSchemaError(f"prior JSON: {path} has an unknown key {key!r}")
            elif isinstance(extra, Mapping):
                _check(item, extra, f"{path}.{key}")
    if isinstance(value, list | tuple) and "items" in schema:
        for index, item in enumerate(value):
            _check(item, schema["items"], f"{path}[{index}]")


def validate_prior_payload(payload: Any) -> None:
    """Raise :class:`PriorSchemaError` naming the first place ``payload`` breaks the schema."""
    if isinstance(payload, Mapping) and "schema_version" in payload:
        version = payload["schema_version"]
        if version != SCHEMA_VERSION:
            raise PriorSchemaError(
                f"prior JSON has schema_version {version!r}, this mile-meta reads "
                f"{SCHEMA_VERSION}; write the prior again with this version of mile-meta"
            )
    _check(payload, PRIOR_SCHEMA, "$")
