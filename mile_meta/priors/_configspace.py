"""ConfigSpace (for SMAC): a conditional ``ConfigurationSpace`` whose hyperparameters carry the
prior, and the starting configurations for SMAC's initial design.

    exported = export(prior, "configspace")
    space = exported.configuration_space           # "estimator" + "<Estimator>:<name>" children
    starts = exported.starting_configurations      # ConfigSpace Configuration objects, best first
    # SMAC: HyperparameterOptimizationFacade.get_initial_design(scenario, additional_configs=starts)

The estimator choice is a ``CategoricalHyperparameter`` weighted by the family weights; each
estimator's hyperparameters are active only when it is chosen (``EqualsCondition``). A fitted
normal becomes a ``NormalFloatHyperparameter``/``NormalIntegerHyperparameter``, a beta a
``BetaFloatHyperparameter``, categorical weights ``CategoricalHyperparameter(weights=...)``.
ConfigSpace 1.2 scales a log-scaled normal's ``sigma`` as ``ln(lower + sigma)``; where no
``sigma`` gives the prior's spread on that scale (ranges starting above ~1, such as
``n_estimators`` in [16, 1024]) a beta with the same mean and variance on the log scale is used
and the report says so.
"""

from __future__ import annotations

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


def _build(
    cs: Any, prior: Prior, *, shaped: bool, notes: list[ExportNote] | None
) -> tuple[Any, tuple[Any, ...]]:
    """The conditional space (numeric priors only when ``shaped``) and the starting
    configurations in it."""
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
            numeric = hyperparameter.kind != "categorical"
            if fitted is None or (numeric and not shaped):
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


@dataclass(frozen=True)
class ConfigSpacePrior(ExportedPrior):
    """``configuration_space`` (with the priors) and ``starting_configurations``; for SMAC,
    ``smac_configuration_space`` and ``smac_starting_configurations`` (see the report)."""

    tool: ClassVar[str] = "configspace"
    configuration_space: Any = None
    starting_configurations: tuple[Any, ...] = ()
    smac_configuration_space: Any = None
    smac_starting_configurations: tuple[Any, ...] = ()

    def payload(self) -> dict[str, Any]:
        from ConfigSpace.read_and_write import json as configspace_json

        payload = super().payload()
        payload["configuration_space"] = configspace_json.write(self.configuration_space)
        return payload


class ConfigSpaceExporter(Exporter[ConfigSpacePrior]):
    tool = "configspace"
    extra = "priors"

    def _export(self, prior: Prior) -> ConfigSpacePrior:
        cs = _require_configspace()
        notes = prior_notes(prior)
        space, starts = _build(cs, prior, shaped=True, notes=notes)
        smac_space, smac_starts = _build(cs, prior, shaped=False, notes=None)
        notes.append(
            ExportNote(
                "SMAC",
                "SMAC's random-forest surrogate refuses normal/beta hyperparameters that a "
                "condition can switch off; smac_configuration_space is the same space with "
                "uniform numbers (categorical and estimator weights kept) for SMAC, the "
                "starting configurations carry the prior there",
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
        return (
            "    import this_module as p\n"
            "    space = p.CONFIGURATION_SPACE            # with normal/beta/weighted priors\n"
            "    starts = p.STARTING_CONFIGURATIONS      # ConfigSpace Configurations, best first\n"
            "    # SMAC (its surrogate refuses conditional normal/beta hyperparameters):\n"
            "    #   scenario = smac.Scenario(p.SMAC_CONFIGURATION_SPACE, ...)\n"
            "    #   design = HyperparameterOptimizationFacade.get_initial_design(\n"
            "    #       scenario, n_configs=0, additional_configs=p.SMAC_STARTING_CONFIGURATIONS)\n"
            "    spec = p.EXPORTED.spec_of(dict(config))  # a config -> mile-meta PipelineSpec"
        )

    def _module_names(self) -> str:
        return (
            "CONFIGURATION_SPACE = EXPORTED.configuration_space\n"
            "STARTING_CONFIGURATIONS = list(EXPORTED.starting_configurations)\n"
            "SMAC_CONFIGURATION_SPACE = EXPORTED.smac_configuration_space\n"
            "SMAC_STARTING_CONFIGURATIONS = list(EXPORTED.smac_starting_configurations)\n"
        )
