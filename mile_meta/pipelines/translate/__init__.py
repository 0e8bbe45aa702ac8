"""Translators from each corpus' own pipeline descriptions to :class:`PipelineSpec`.

Each returns a :class:`Translation`: the spec, and whether it reproduces the corpus'
pipeline exactly (``exact``) with the reasons where it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from mile_meta.pipelines.spec import PipelineSpec

__all__ = ["Translation"]


@dataclass(frozen=True)
class Translation:
    origin_key: str
    spec: PipelineSpec | None  # None: cannot be built at all
    exact: bool
    reasons: tuple[str, ...] = ()

    @property
    def runnable(self) -> bool:
        return self.spec is not None
