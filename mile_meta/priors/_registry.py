"""The exporters by ``--format`` name, and :func:`export`."""

from __future__ import annotations

import importlib

from mile_meta.errors import MileMetaError
from mile_meta.priors._base import ExportedPrior, Exporter
from mile_meta.priors._prior import Prior

__all__ = ["FORMATS", "UnknownFormatError", "export", "exporter"]

# format -> "module:Class"; modules are imported on use so a missing tool only matters when
# its format is asked for
_EXPORTERS = {
    "json": "mile_meta.priors._json:JsonExporter",
    "optuna": "mile_meta.priors._optuna:OptunaExporter",
    "configspace": "mile_meta.priors._configspace:ConfigSpaceExporter",
    "flaml": "mile_meta.priors._flaml:FlamlExporter",
    "hyperopt": "mile_meta.priors._hyperopt:HyperoptExporter",
    "raytune": "mile_meta.priors._raytune:RayTuneExporter",
}
FORMATS = tuple(_EXPORTERS)


class UnknownFormatError(MileMetaError):
    """The export format is not one mile-meta writes."""


def exporter(format: str) -> Exporter[ExportedPrior]:
    """The exporter for ``format`` (``optuna``, ``configspace``, ``flaml``, ...)."""
    key = format.strip().lower()
    if key not in _EXPORTERS:
        raise UnknownFormatError(
            f"unknown prior format {format!r}; use one of {', '.join(FORMATS)}"
        )
    module_name, class_name = _EXPORTERS[key].split(":")
    module = importlib.import_module(module_name)
    created: Exporter[ExportedPrior] = getattr(module, class_name)()
    return created


def export(prior: Prior, format: str) -> ExportedPrior:
    """Translate ``prior`` for one tool: ``export(prior, "optuna")``."""
    return exporter(format).export(prior)
