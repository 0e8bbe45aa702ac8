"""ConfigSpace (for SMAC): a conditional ``ConfigurationSpace`` whose hyperparameters carry the
prior, written as ConfigSpace's own JSON, and the starting configurations for SMAC.

    exported = export(prior, "configspace")
    space = exported.configuration_space           # "estimator" + "<Estimator>:<name>" children
    starts = exported.starting_configurations      # ConfigSpace Configuration objects, best first
    exported.json_text()                           # what `mile-meta priors --format configspace` writes

The estimator choice is a ``CategoricalHyperparameter`` weighted by the family weights; each
estimator's hyperparameters are active only when it is chosen (``EqualsCondition``). A fitted
normal becomes a ``NormalFloatHyperparameter``/``NormalIntegerHyperparameter``, a beta a
``BetaFloatHyperparameter``, categorical weights ``CategoricalHyperparameter(weights=...)``.
ConfigSpace 1.2 scales a log-scaled normal's ``sigma`` as ``ln(lower + sigma)``; where no
``sigma`` gives the prior's spread on that scale (ranges starting above ~1, such as
``n_estimators`` in [16, 1024]) a beta with the same mean and variance on the log scale is used
and the report says so.

The JSON file is what ``ConfigurationSpace.from_json`` reads; it carries two more top-level
keys ConfigSpace ignores: ``starting_configurations`` (value dicts, best first) and
``mile_meta`` (metric, direction, each estimator's class, fixed parameters and preprocessing,
and the report), so the file is all a SMAC user needs.

SMAC uses the prior as a prior through πBO (``smac.acquisition.function.
PriorAcquisitionFunction``), which weighs every hyperparameter's density, and its surrogate
refuses normal/beta hyperparameters a condition can switch off: ``smac_configuration_space``
is the same space without its conditions (every hyperparameter always active; the objective
reads the chosen estimator's), and ``smac_starting_configurations`` the starting
configurations in it.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines.space import Hyperparameter
from mile_meta.priors._base import (
    ESTIMATOR_KEY,
    ExportedPrior,
    Exporter,
    ExportNote,
    flat_name,
    prior_notes,
    truncated_normal_unit,
)
from mile_meta.priors._prior import HyperparameterPrior, Prior

__all__ = ["ConfigSpaceExporter", "ConfigSpacePrior"]


def _require_configspace() -> Any:
    try:
        import ConfigSpace
    except ImportError:  # pragma: no cover - the priors extra installs it
        raise MileMetaError(
            "the configspace format needs ConfigSpace; install it with "
            "`pip install 'mile-meta[priors]'`"
        ) from None
    return ConfigSpace


# ConfigSpace stores categorical choices as given; None and booleans survive a round trip
# through its JSON only as strings, so they are kept as the objects themselves.


def _uniform(cs: Any, name: str, hyperparameter: Hyperparameter) -> Any:
    if hyperparameter.kind == "categorical":
        return cs.CategoricalHyperparameter(
            name, list(hyperparameter.choices), default_value=hyperparameter.default
        )
    assert hyperparameter.low is not None and hyperparameter.high is not None
    if hyperparameter.kind == "int":
        return cs.UniformIntegerHyperparameter(
            name,
            int(hyperparameter.low),
            int(hyperparameter.high),
            default_value=int(hyperparameter.default),  # type: ignore[arg-type]
            log=hyperparameter.log,
        )
    return cs.UniformFloatHyperparameter(
        name,
        hyperparameter.low,
        hyperparameter.high,
        default_value=float(hyperparameter.default),  # type: ignore[arg-type]
        log=hyperparameter.log,
    )


def _beta_from_moments(mean: float, spread: float) -> tuple[float, float]:
    """Beta shapes (both >= 1, as ConfigSpace needs) with this mean and spread on [0, 1]."""
    mean = min(max(mean, 0.02), 0.98)
    variance = min(spread**2, mean * (1 - mean) * 0.9)
    common = mean * (1 - mean) / variance - 1
    return max(mean * common, 1.0), max((1 - mean) * common, 1.0)


def _with_prior(
    cs: Any, name: str, hyperparameter: Hyperparameter, fitted: HyperparameterPrior
) -> tuple[Any, str | None]:
    """The ConfigSpace hyperparameter carrying ``fitted``, and a note when it is approximated."""
    default = hyperparameter.default
    if fitted.distribution == "categorical":
        weights = [
            next(
                (
                    w
                    for c, w in zip(fitted.choices, fitted.weights, strict=True)
                    if repr(c) == repr(choice)
                ),
                0.0,
            )
            for choice in hyperparameter.choices
        ]
        return (
            cs.CategoricalHyperparameter(
                name, list(hyperparameter.choices), default_value=default, weights=weights
            ),
            None,
        )
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    integer = hyperparameter.kind == "int"
    if fitted.distribution == "beta":
        assert fitted.alpha is not None and fitted.beta is not None
        kind = cs.BetaIntegerHyperparameter if integer else cs.BetaFloatHyperparameter
        return (
            kind(
                name,
                alpha=fitted.alpha,
                beta=fitted.beta,
                lower=int(low) if integer else low,
                upper=int(high) if integer else high,
                default_value=default,
                log=False,
            ),
            None,
        )
    assert fitted.mu is not None and fitted.sigma is not None
    mu_value = math.exp(fitted.mu) if fitted.log else fitted.mu
    mu_value = min(max(mu_value, low), high)
    if not fitted.log:
        kind = cs.NormalIntegerHyperparameter if integer else cs.NormalFloatHyperparameter
        return (
            kind(
                name,
                mu=mu_value,
                sigma=fitted.sigma,
                lower=int(low) if integer else low,
                upper=int(high) if integer else high,
                default_value=default,
                log=False,
            ),
            None,
        )
    # ConfigSpace's log scale maps sigma to |ln(lower + sigma)| / ln(upper / lower): solve
    # |ln(lower + s)| = prior sigma for s > 0
    sigma_value = None
    for target in (math.exp(fitted.sigma), math.exp(-fitted.sigma)):
        if target - low > 0:
            sigma_value = target - low
            break
    if sigma_value is not None:
        kind = cs.NormalIntegerHyperparameter if integer else cs.NormalFloatHyperparameter
        return (
            kind(
                name,
                mu=mu_value,
                sigma=sigma_value,
                lower=int(low) if integer else low,
                upper=int(high) if integer else high,
                default_value=default,
                log=True,
            ),
            None,
        )
    mean, spread = truncated_normal_unit(fitted)
    alpha, beta = _beta_from_moments(mean, spread)
    kind = cs.BetaIntegerHyperparameter if integer else cs.BetaFloatHyperparameter
    return (
        kind(
            name,
            alpha=alpha,
            beta=beta,
            lower=int(low) if integer else low,
            upper=int(high) if integer else high,
            default_value=default,
            log=True,
        ),
        "ConfigSpace's log-scaled normal cannot have this spread for a range starting at "
        f"{low:g}; a beta with the same mean and variance on the log scale is used",
    )


def _build(cs: Any, prior: Prior, *, notes: list[ExportNote] | None) -> tuple[Any, tuple[Any, ...]]:
    """The conditional space with the priors and the starting configurations in it."""
    spaces = prior.space()
    weights = prior.estimator_weights()
    default_estimator = (
        prior.starting_configurations[0].estimator
        if prior.starting_configurations
        else spaces[0].estimator
    )
    space = cs.ConfigurationSpace(seed=0)
    choice = cs.CategoricalHyperparameter(
        ESTIMATOR_KEY,
        [s.estimator for s in spaces],
        default_value=default_estimator,
        weights=[max(weights.get(s.estimator, 0.0), 1e-6) for s in spaces],
    )
    space.add(choice)
    for estimator_space in spaces:
        children = []
        for hyperparameter in estimator_space.hyperparameters:
            name = flat_name(estimator_space.estimator, hyperparameter.name)
            fitted = prior.distribution(estimator_space.estimator, hyperparameter.name)
            if fitted is None:
                children.append(_uniform(cs, name, hyperparameter))
                continue
            created, note = _with_prior(cs, name, hyperparameter, fitted)
            children.append(created)
            if note and notes is not None:
                notes.append(ExportNote(f"{estimator_space.estimator}.{hyperparameter.name}", note))
        space.add(children)
        space.add(
            [cs.EqualsCondition(child, choice, estimator_space.estimator) for child in children]
        )
    configurations = []
    for start in prior.starting_configurations:
        values = {
            ESTIMATOR_KEY: start.estimator,
            **{flat_name(start.estimator, k): v for k, v in start.params},
        }
        configuration = cs.Configuration(space, values=values)
        configuration.origin = f"mile-meta prior #{start.rank}"
        configurations.append(configuration)
    return space, tuple(configurations)


def _without_conditions(
    cs: Any, space: Any, starts: tuple[Any, ...]
) -> tuple[Any, tuple[Any, ...]]:
    """The same hyperparameters, all active, and the starting configurations in that space
    (the other estimators' hyperparameters at their defaults)."""
    flat = cs.ConfigurationSpace(seed=0)
    flat.add(list(space.values()))
    defaults = dict(flat.get_default_configuration())
    configurations = []
    for start in starts:
        configuration = cs.Configuration(flat, values={**defaults, **dict(start)})
        configuration.origin = start.origin
        configurations.append(configuration)
    return flat, tuple(configurations)


@dataclass(frozen=True)
class ConfigSpacePrior(ExportedPrior):
    """``configuration_space`` (with the priors) and ``starting_configurations``; for SMAC's
    πBO, ``smac_configuration_space`` and ``smac_starting_configurations`` (no conditions)."""

    tool: ClassVar[str] = "configspace"
    configuration_space: Any = None
    starting_configurations: tuple[Any, ...] = ()
    smac_configuration_space: Any = None
    smac_starting_configurations: tuple[Any, ...] = ()

    def json_text(self) -> str:
        """ConfigSpace's JSON of the space, plus ``starting_configurations`` and
        ``mile_meta`` (see the module doc)."""
        from mile_meta.priors._portable import portable_prior

        buffer = io.StringIO()
        self.configuration_space.to_json(buffer)
        document = json.loads(buffer.getvalue())
        portable = portable_prior(self.prior, self.report)
        document["starting_configurations"] = [
            {k: _jsonable_value(v) for k, v in point.items()} for point in self.starting_points
        ]
        document["mile_meta"] = {
            "metric": portable["metric"],
            "direction": portable["direction"],
            "task_type": portable["task_type"],
            "scoring": portable["scoring"],
            "estimators": {
                entry["estimator"]: {
                    "class": entry["class"],
                    "fixed": entry["fixed"],
                    "encode_labels": entry["encode_labels"],
                    "preprocessing": entry["preprocessing"],
                }
                for entry in portable["estimators"]
            },
            "report": portable["report"],
            "provenance": portable["provenance"],
        }
        return json.dumps(document, indent=1, allow_nan=False) + "\n"

    def payload(self) -> dict[str, Any]:
        payload = super().payload()
        payload["configuration_space"] = json.loads(self.json_text())
        return payload


def _jsonable_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class ConfigSpaceExporter(Exporter[ConfigSpacePrior]):
    tool = "configspace"
    extra = "priors"

    def _export(self, prior: Prior) -> ConfigSpacePrior:
        cs = _require_configspace()
        notes = prior_notes(prior)
        space, starts = _build(cs, prior, notes=notes)
        smac_space, smac_starts = _without_conditions(cs, space, starts)
        notes.append(
            ExportNote(
                "SMAC",
                "πBO (PriorAcquisitionFunction) and SMAC's surrogate need every prior-shaped "
                "hyperparameter active: SMAC gets the space without its conditions (the other "
                "estimators' hyperparameters are drawn but unused)",
            )
        )
        return ConfigSpacePrior(
            prior=prior,
            starting_points=tuple(dict(configuration) for configuration in starts),
            report=tuple(notes),
            configuration_space=space,
            starting_configurations=starts,
            smac_configuration_space=smac_space,
            smac_starting_configurations=smac_starts,
        )

    def _module_usage(self) -> str:
        return "    ConfigSpace.ConfigurationSpace.from_json('prior.json')"

    def module_source(self, exported: ExportedPrior) -> str:
        """For ConfigSpace the file written is ConfigSpace's JSON (see the module doc)."""
        assert isinstance(exported, ConfigSpacePrior)
        return exported.json_text()
