"""The pipeline space: specs as data, a component registry, and corpus translators."""

from mile_meta.pipelines.components import (
    COMPONENTS,
    ComponentInfo,
    build_pipeline,
    component_info,
    family_of,
    make_spec,
    standard_preprocessing,
)
from mile_meta.pipelines.spec import PipelineSpec, Step

__all__ = [
    "COMPONENTS",
    "ComponentInfo",
    "PipelineSpec",
    "Step",
    "build_pipeline",
    "component_info",
    "family_of",
    "make_spec",
    "standard_preprocessing",
]
