"""Priors for other AutoML tools: one :class:`Prior`, exported to Optuna, ConfigSpace/SMAC,
FLAML, hyperopt, Ray Tune or JSON.

    from mile_meta.priors import build_prior, export
    prior = build_prior("data.csv", "y")              # ranked starts, family weights, distributions
    optuna_prior = export(prior, "optuna")            # or "configspace", "flaml", "hyperopt", ...
    mile_meta.priors.for_optuna(study, X, y)          # build, export and enqueue in one call

Every exporter returns the same shape (:class:`ExportedPrior`): the tool's own objects, the
``starting_points`` in the tool's names and a ``report`` of what the tool cannot express.
Tool modules are imported only when their format is used.
"""

from mile_meta.priors._base import (
    ESTIMATOR_KEY,
    ExportedPrior,
    Exporter,
    ExportNote,
    flat_name,
    split_flat_point,
)
from mile_meta.priors._helpers import (
    for_configspace,
    for_flaml,
    for_hyperopt,
    for_optuna,
    prior_for,
)
from mile_meta.priors._prior import (
    FamilyWeight,
    HyperparameterPrior,
    ObservedScore,
    Prior,
    Provenance,
    StartingConfiguration,
    Unexpressible,
    build_prior,
    prior_from_report,
    project_spec,
)
from mile_meta.priors._registry import FORMATS, UnknownFormatError, export, exporter
from mile_meta.priors._schema import (
    PRIOR_SCHEMA,
    SCHEMA_VERSION,
    PriorSchemaError,
    validate_prior_payload,
)

__all__ = [
    "ESTIMATOR_KEY",
    "FORMATS",
    "PRIOR_SCHEMA",
    "SCHEMA_VERSION",
    "ExportNote",
    "ExportedPrior",
    "Exporter",
    "FamilyWeight",
    "HyperparameterPrior",
    "ObservedScore",
    "Prior",
    "PriorSchemaError",
    "Provenance",
    "StartingConfiguration",
    "Unexpressible",
    "UnknownFormatError",
    "build_prior",
    "export",
    "exporter",
    "flat_name",
    "for_configspace",
    "for_flaml",
    "for_hyperopt",
    "for_optuna",
    "prior_for",
    "prior_from_report",
    "project_spec",
    "split_flat_point",
    "validate_prior_payload",
]
