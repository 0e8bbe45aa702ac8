"""JSON: the prior itself, in the documented schema (``docs/prior-schema.json``).

``starting_points`` are the flat configurations (``"estimator"`` plus
``"<Estimator>:<name>"`` keys) every flat tool shares; nothing is lost, so the report holds
only the prior's own ``unexpressible`` notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mile_meta.priors._base import ESTIMATOR_KEY, ExportedPrior, Exporter, flat_name, prior_notes
from mile_meta.priors._prior import Prior

__all__ = ["JsonExporter", "JsonPrior"]


@dataclass(frozen=True)
class JsonPrior(ExportedPrior):
    tool: ClassVar[str] = "json"
    text: str = ""


class JsonExporter(Exporter[JsonPrior]):
    tool = "json"
    extra = ""

    def _export(self, prior: Prior) -> JsonPrior:
        points = tuple(
            {ESTIMATOR_KEY: s.estimator, **{flat_name(s.estimator, k): v for k, v in s.params}}
            for s in prior.starting_configurations
        )
        return JsonPrior(
            prior=prior,
            starting_points=points,
            report=tuple(prior_notes(prior)),
            text=prior.to_json(),
        )

    def _module_usage(self) -> str:
        return "    from mile_meta.priors import Prior\n    prior = Prior.read('prior.json')"

    def module_source(self, exported: ExportedPrior) -> str:
        """For JSON the file written is the prior's JSON itself."""
        assert isinstance(exported, JsonPrior)
        return exported.text + "\n"
