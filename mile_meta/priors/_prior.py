"""One :class:`Prior` per dataset: where an optimizer should start and where it should look.

A prior is stated in the terms of mile-meta's search space (:mod:`mile_meta.pipelines.space`),
which every exporter translates to its tool:

* **starting configurations** — the recommender's ranked pipelines projected onto the space,
  with their predicted scores and the scores they reached on the most similar datasets;
* **family weights** — how much of the search each model family deserves;
* **per-hyperparameter distributions** — fitted to the configurations that were in the top
  quartile of their estimator on the nearest knowledge-base datasets: a normal (of
  ``ln(value)`` where the space is log-scaled) for numbers, a beta for bounded non-log floats,
  weights for categorical choices;
* **unexpressible** — every recommended value or estimator the space cannot hold, with what
  was used instead, so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from mile_meta import __version__
from mile_meta._memo import RecentlyUsed
from mile_meta.errors import MileMetaError
from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.components import component_info, standard_preprocessing
from mile_meta.pipelines.space import (
    EstimatorSpace,
    Hyperparameter,
    search_space,
    spec_from_config,
)
from mile_meta.pipelines.spec import ParamValue
from mile_meta.priors._schema import SCHEMA_VERSION, PriorSchemaError, validate_prior_payload

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.kb import KnowledgeBase
    from mile_meta.recommend import Recommendation, RecommendationReport

__all__ = [
    "FamilyWeight",
    "HyperparameterPrior",
    "ObservedScore",
    "Prior",
    "Provenance",
    "StartingConfiguration",
    "Unexpressible",
    "build_prior",
    "prior_from_report",
    "project_spec",
]

# Good configurations on a dataset: those in the top quartile of their estimator there.
_GOOD_QUANTILE = 0.75
# A distribution is never narrower than this share of its (log-)range: the corpora explored
# grids, and a prior that collapses onto one grid point would stop the optimizer exploring.
_MIN_SIGMA_SHARE = 0.08
# Share of the family weight spread evenly, so families the knowledge base never ran (such as
# LightGBM with the Oboe and LCDB corpora) still get searched.
_FAMILY_FLOOR = 0.3


@dataclass(frozen=True)
class ObservedScore:
    """A similar knowledge-base dataset and the recommended pipeline's score there (metric unit)."""

    dataset_id: str
    dataset_name: str | None
    distance: float | None  # None when the two datasets share no meta-feature
    score: float


@dataclass(frozen=True)
class StartingConfiguration:
    """A configuration of the search space to evaluate first.

    ``params`` sets every searchable hyperparameter of ``estimator`` (the space's fixed values
    are added by :meth:`spec`); scores are in the prior's metric unit, ``expected_fit_seconds``
    in seconds. ``exact`` is False when a recommended value had to be substituted (the
    prior's ``unexpressible`` list says which and why).
    """

    rank: int
    estimator: str
    family: str
    params: tuple[tuple[str, ParamValue], ...]
    predicted_score: float
    lower: float
    upper: float
    expected_fit_seconds: float | None
    observed_scores: tuple[ObservedScore, ...]
    pipeline_id: str
    source_ranks: tuple[int, ...]
    exact: bool

    @property
    def config(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def spec(self) -> PipelineSpec:
        """The runnable pipeline spec of this configuration."""
        return spec_from_config(self.estimator, self.config)


@dataclass(frozen=True)
class FamilyWeight:
    """Share of the search (0..1, summing to 1 over the space) a model family deserves."""

    family: str
    weight: float
    estimators: tuple[str, ...]


@dataclass(frozen=True)
class HyperparameterPrior:
    """Where the good values of one hyperparameter of one estimator lie.

    ``normal``: ``mu``/``sigma`` of the value, of ``ln(value)`` when ``log``, truncated to
    [``low``, ``high``]; ``beta``: ``alpha``/``beta`` of ``(value - low) / (high - low)``;
    ``categorical``: ``weights`` over ``choices`` (summing to 1). ``support`` counts the good
    configurations it was fitted to.
    """

    estimator: str
    name: str
    distribution: Literal["normal", "beta", "categorical"]
    integer: bool = False
    log: bool = False
    low: float | None = None
    high: float | None = None
    mu: float | None = None
    sigma: float | None = None
    alpha: float | None = None
    beta: float | None = None
    choices: tuple[ParamValue, ...] = ()
    weights: tuple[float, ...] = ()
    support: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.estimator, self.name)

    def mean_value(self) -> float | None:
        """The distribution's centre in the value's unit (median for log-normals)."""
        if self.distribution == "normal":
            assert self.mu is not None
            return math.exp(self.mu) if self.log else self.mu
        if self.distribution == "beta":
            assert None not in (self.alpha, self.beta, self.low, self.high)
            share = self.alpha / (self.alpha + self.beta)  # type: ignore[operator]
            return self.low + share * (self.high - self.low)  # type: ignore[operator]
        return None

    def interval(self, coverage: float = 0.8) -> tuple[float, float] | None:
        """The central ``coverage`` share of a numeric distribution, in the value's unit and
        inside [low, high] (rounded outwards for integers); None for categorical ones.

        This is "where the good values are" as a range: what a search that narrows ranges
        should read, instead of recomputing it from the ranking.
        """
        if not 0 < coverage < 1:
            raise MileMetaError(f"coverage must be in (0, 1), got {coverage}")
        if self.distribution == "categorical":
            return None
        assert self.low is not None and self.high is not None
        tail = (1 - coverage) / 2
        if self.distribution == "beta":
            from scipy.stats import beta as beta_distribution

            assert self.alpha is not None and self.beta is not None
            shares = beta_distribution.ppf([tail, 1 - tail], self.alpha, self.beta)
            low, high = (self.low + float(s) * (self.high - self.low) for s in shares)
        else:
            from statistics import NormalDist

            assert self.mu is not None and self.sigma is not None
            z = NormalDist().inv_cdf(1 - tail)
            low, high = self.mu - z * self.sigma, self.mu + z * self.sigma
            if self.log:
                low, high = math.exp(low), math.exp(high)
        low, high = max(low, self.low), min(high, self.high)
        if self.integer:
            low, high = float(math.floor(low)), float(math.ceil(high))
        return low, high

    def likely_choices(self, min_weight: float = 0.1) -> tuple[ParamValue, ...]:
        """The categorical choices with at least ``min_weight`` of the weight, heaviest first
        (every choice for numeric distributions: none is excluded)."""
        if self.distribution != "categorical":
            return ()
        ranked = sorted(zip(self.weights, self.choices, strict=True), key=lambda p: -p[0])
        return tuple(choice for weight, choice in ranked if weight >= min_weight)


@dataclass(frozen=True)
class Unexpressible:
    """A recommended value or estimator the search space cannot hold, and what was used instead.

    ``parameter`` is None when the whole estimator (or a preprocessing step) is outside the
    space; ``substitute`` is the value the starting configuration uses instead (None when the
    configuration was left out).
    """

    rank: int | None
    pipeline_id: str | None
    estimator: str
    parameter: str | None
    value: ParamValue
    reason: str
    substitute: ParamValue = None

    def describe(self) -> str:
        where = f"#{self.rank} " if self.rank is not None else ""
        what = (
            f"{self.estimator}.{self.parameter}={self.value!r}"
            if self.parameter
            else self.estimator
        )
        return f"{where}{what}: {self.reason}"


@dataclass(frozen=True)
class Provenance:
    mile_meta_version: str
    meta_learner: str
    knowledge_base_checksum: str
    knowledge_base_sources: tuple[str, ...]
    knowledge_base_metric: str
    created_at: str  # ISO 8601, UTC
    excluded_datasets: tuple[str, ...] = ()
    neighbour_datasets: tuple[str, ...] = ()  # what the distributions were fitted on


@dataclass(frozen=True)
class Prior:
    """Everything mile-meta knows about where to search on one dataset (see the module doc).

    Serialise with :meth:`to_json` / :meth:`from_json` (documented in
    ``docs/prior-schema.json``); export to a tool with :func:`mile_meta.priors.export`.
    """

    task_type: str
    metric: str
    higher_is_better: bool
    dataset_name: str
    starting_configurations: tuple[StartingConfiguration, ...]
    family_weights: tuple[FamilyWeight, ...]
    distributions: tuple[HyperparameterPrior, ...]
    unexpressible: tuple[Unexpressible, ...]
    provenance: Provenance
    meta_features: tuple[tuple[str, float], ...] = ()
    schema_version: int = SCHEMA_VERSION

    # -- lookups -----------------------------------------------------------------------------
    def space(self) -> tuple[EstimatorSpace, ...]:
        """The estimator spaces the prior is stated in."""
        return search_space(self.task_type)

    def distribution(self, estimator: str, name: str) -> HyperparameterPrior | None:
        for item in self.distributions:
            if item.estimator == estimator and item.name == name:
                return item
        return None

    def sample_configurations(
        self, n: int, *, seed: int | None = None
    ) -> list[tuple[str, dict[str, ParamValue]]]:
        """``n`` configurations drawn from the prior: the estimator by its weight, each
        hyperparameter from its fitted distribution (uniform where there is none), all inside
        the space. The same draw the exported samplers make (one implementation)."""
        from mile_meta.priors._portable import portable_prior
        from mile_meta.priors._standalone._common_module import PortablePrior

        portable = PortablePrior(portable_prior(self))
        rng = np.random.RandomState(seed)
        return [portable.split(portable.sample(rng)) for _ in range(n)]

    def estimator_weights(self) -> dict[str, float]:
        """Each estimator's share: its family's weight split evenly among the family's estimators."""
        weights: dict[str, float] = {}
        for family in self.family_weights:
            for estimator in family.estimators:
                weights[estimator] = family.weight / len(family.estimators)
        return weights

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "task_type": self.task_type,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "dataset_name": self.dataset_name,
            "meta_features": {k: v for k, v in self.meta_features if math.isfinite(v)},
            "starting_configurations": [
                {
                    "rank": s.rank,
                    "estimator": s.estimator,
                    "family": s.family,
                    "params": dict(s.params),
                    "predicted_score": s.predicted_score,
                    "lower": s.lower,
                    "upper": s.upper,
                    "expected_fit_seconds": s.expected_fit_seconds,
                    "observed_scores": [
                        {
                            "dataset_id": o.dataset_id,
                            "dataset_name": o.dataset_name,
                            "distance": o.distance,
                            "score": o.score,
                        }
                        for o in s.observed_scores
                    ],
                    "pipeline_id": s.pipeline_id,
                    "source_ranks": list(s.source_ranks),
                    "exact": s.exact,
                }
                for s in self.starting_configurations
            ],
            "family_weights": [
                {"family": f.family, "weight": f.weight, "estimators": list(f.estimators)}
                for f in self.family_weights
            ],
            "distributions": [
                {
                    "estimator": d.estimator,
                    "name": d.name,
                    "distribution": d.distribution,
                    "integer": d.integer,
                    "log": d.log,
                    "low": d.low,
                    "high": d.high,
                    "mu": d.mu,
                    "sigma": d.sigma,
                    "alpha": d.alpha,
                    "beta": d.beta,
                    "choices": list(d.choices),
                    "weights": list(d.weights),
                    "support": d.support,
                }
                for d in self.distributions
            ],
            "unexpressible": [
                {
                    "rank": u.rank,
                    "pipeline_id": u.pipeline_id,
                    "estimator": u.estimator,
                    "parameter": u.parameter,
                    "value": u.value,
                    "reason": u.reason,
                    "substitute": u.substitute,
                }
                for u in self.unexpressible
            ],
            "provenance": {
                "mile_meta_version": self.provenance.mile_meta_version,
                "meta_learner": self.provenance.meta_learner,
                "knowledge_base_checksum": self.provenance.knowledge_base_checksum,
                "knowledge_base_sources": list(self.provenance.knowledge_base_sources),
                "knowledge_base_metric": self.provenance.knowledge_base_metric,
                "created_at": self.provenance.created_at,
                "excluded_datasets": list(self.provenance.excluded_datasets),
                "neighbour_datasets": list(self.provenance.neighbour_datasets),
            },
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Prior:
        """Read a prior, validated against the schema (a one-line error names the problem)."""
        validate_prior_payload(payload)
        provenance = payload["provenance"]
        return cls(
            task_type=payload["task_type"],
            metric=payload["metric"],
            higher_is_better=payload["higher_is_better"],
            dataset_name=payload["dataset_name"],
            meta_features=tuple((k, float(v)) for k, v in payload["meta_features"].items()),
            starting_configurations=tuple(
                StartingConfiguration(
                    rank=s["rank"],
                    estimator=s["estimator"],
                    family=s["family"],
                    params=tuple(s["params"].items()),
                    predicted_score=s["predicted_score"],
                    lower=s["lower"],
                    upper=s["upper"],
                    expected_fit_seconds=s["expected_fit_seconds"],
                    observed_scores=tuple(ObservedScore(**o) for o in s["observed_scores"]),
                    pipeline_id=s["pipeline_id"],
                    source_ranks=tuple(s["source_ranks"]),
                    exact=s["exact"],
                )
                for s in payload["starting_configurations"]
            ),
            family_weights=tuple(
                FamilyWeight(f["family"], f["weight"], tuple(f["estimators"]))
                for f in payload["family_weights"]
            ),
            distributions=tuple(
                HyperparameterPrior(
                    **{
                        **d,
                        "choices": tuple(d["choices"]),
                        "weights": tuple(d["weights"]),
                    }
                )
                for d in payload["distributions"]
            ),
            unexpressible=tuple(Unexpressible(**u) for u in payload["unexpressible"]),
            provenance=Provenance(
                **{
                    **provenance,
                    "knowledge_base_sources": tuple(provenance["knowledge_base_sources"]),
                    "excluded_datasets": tuple(provenance["excluded_datasets"]),
                    "neighbour_datasets": tuple(provenance["neighbour_datasets"]),
                }
            ),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Prior:
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise PriorSchemaError(
                f"prior JSON is not valid JSON ({error.msg} at line {error.lineno}); "
                "pass the file `mile-meta priors --format json` wrote"
            ) from None
        return cls.from_dict(payload)

    @classmethod
    def read(cls, path: str | Path) -> Prior:
        resolved = Path(path)
        if not resolved.exists():
            raise PriorSchemaError(f"{resolved} does not exist; write it with mile-meta priors")
        return cls.from_json(resolved.read_text())


# -- projecting a recommended spec onto the space ----------------------------------------------


def _class_default(estimator: str, name: str) -> tuple[bool, ParamValue]:
    """scikit-learn's (or LightGBM's) default of ``name``, as (known, value)."""
    try:
        parameters = inspect.signature(component_info(estimator).load()).parameters
    except (ValueError, ImportError):  # pragma: no cover - every space estimator imports
        return False, None
    if name not in parameters or parameters[name].default is inspect.Parameter.empty:
        return False, None
    value = parameters[name].default
    if isinstance(value, str | int | float | bool) or value is None:
        return True, value
    return False, None


def _coerce(hyperparameter: Hyperparameter, value: ParamValue) -> ParamValue:
    if (
        hyperparameter.kind == "int"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return int(value)
    if hyperparameter.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


_FRACTION_OF_ROWS = {"min_samples_split", "min_samples_leaf"}
_FRACTION_NOTE = "a fraction of the rows"


def _substitute(
    hyperparameter: Hyperparameter, value: ParamValue, n_rows: float | None
) -> tuple[ParamValue, str]:
    """The space's closest stand-in for a value it cannot hold, and why."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if hyperparameter.kind == "categorical":
        choices = ", ".join(map(repr, hyperparameter.choices))
        return hyperparameter.default, (
            f"not among the space's choices ({choices}); the space default is used"
        )
    assert hyperparameter.low is not None and hyperparameter.high is not None
    bounds = f"[{hyperparameter.low:g}, {hyperparameter.high:g}]"
    if not numeric:
        return hyperparameter.default, (
            f"the space holds {hyperparameter.kind} values in {bounds}; the space default is used"
        )
    assert isinstance(value, int | float)
    if (
        hyperparameter.name in _FRACTION_OF_ROWS
        and isinstance(value, float)
        and 0 < value < 1
        and n_rows
    ):
        count = math.ceil(value * n_rows)
        clipped = int(min(max(count, hyperparameter.low), hyperparameter.high))
        clip_note = "" if clipped == count else f", clipped to {bounds}"
        return clipped, (
            f"{_FRACTION_NOTE}; the space holds counts, so {value:g} x {n_rows:.0f} rows "
            f"= {count}{clip_note}"
        )
    clipped_value = min(max(float(value), hyperparameter.low), hyperparameter.high)
    if hyperparameter.kind == "int":
        return round(clipped_value), f"outside the space's range {bounds}; clipped"
    return clipped_value, f"outside the space's range {bounds}; clipped"


def project_spec(
    spec: PipelineSpec,
    estimator_space: EstimatorSpace,
    *,
    n_rows: float | None = None,
) -> tuple[dict[str, ParamValue], list[tuple[str | None, ParamValue, str, ParamValue]]]:
    """Project a recommended spec onto its estimator's space.

    Returns the full configuration (every searchable hyperparameter) and the notes
    ``(parameter, value, reason, substitute)`` for what the space could not hold as given.
    ``n_rows`` turns fractions of the rows (Oboe's ``min_samples_split=0.01``) into counts.
    """
    estimator = spec.estimator.component
    given = spec.estimator.param_dict
    fixed = dict(estimator_space.fixed)
    config: dict[str, ParamValue] = {}
    notes: list[tuple[str | None, ParamValue, str, ParamValue]] = []
    for hyperparameter in estimator_space.hyperparameters:
        name = hyperparameter.name
        if name in given:
            value = given[name]
            if hyperparameter.contains(value):
                config[name] = _coerce(hyperparameter, value)
            else:
                substitute, reason = _substitute(hyperparameter, value, n_rows)
                config[name] = substitute
                notes.append((name, value, reason, substitute))
            continue
        known, default = _class_default(estimator, name)
        if known and hyperparameter.contains(default):
            config[name] = _coerce(hyperparameter, default)
        else:
            config[name] = hyperparameter.default
            if known:
                notes.append(
                    (
                        name,
                        default,
                        f"the estimator's own default is not in the space; the space default "
                        f"{hyperparameter.default!r} is used",
                        hyperparameter.default,
                    )
                )
    for name, value in given.items():
        if name in config:
            continue
        if name in fixed:
            if fixed[name] != value:
                notes.append((name, value, f"fixed at {fixed[name]!r} in the space", fixed[name]))
            continue
        notes.append(
            (
                name,
                value,
                "not a searchable hyperparameter of the space; the estimator's default is used",
                None,
            )
        )
    for step in spec.preprocessing:
        if step.component == "TabularPreprocessor":
            if step != standard_preprocessing(estimator):
                notes.append(
                    (
                        None,
                        step.component,
                        "non-standard preprocessing; the space uses the standard one",
                        None,
                    )
                )
        else:
            notes.append(
                (None, step.component, "feature preprocessor not in the space; left out", None)
            )
    return config, notes


# -- fitting the distributions -----------------------------------------------------------------


def _floor_sigma(hyperparameter: Hyperparameter) -> float:
    assert hyperparameter.low is not None and hyperparameter.high is not None
    if hyperparameter.log:
        width = math.log(hyperparameter.high) - math.log(hyperparameter.low)
    else:
        width = hyperparameter.high - hyperparameter.low
    return _MIN_SIGMA_SHARE * width


def _weighted_moments(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    mean = float(np.average(values, weights=weights))
    variance = float(np.average((values - mean) ** 2, weights=weights))
    return mean, math.sqrt(max(variance, 0.0))


def _fit_distribution(
    estimator: str,
    hyperparameter: Hyperparameter,
    values: Sequence[ParamValue],
    weights: Sequence[float],
) -> HyperparameterPrior:
    weight_array = np.asarray(weights, dtype=float)
    if hyperparameter.kind == "categorical":
        totals = {choice: 0.0 for choice in hyperparameter.choices}
        for value, weight in zip(values, weight_array, strict=True):
            for choice in totals:
                # True == 1 in Python: match bools and numbers by type as well as value
                if choice == value and type(choice) is type(value):
                    totals[choice] += weight
        total = sum(totals.values())
        shares = np.array([totals[c] / total for c in hyperparameter.choices])
        # one pseudo-configuration spread over the choices: none becomes impossible
        support = len(values)
        smoothed = (shares * support + 1.0 / len(shares)) / (support + 1.0)
        return HyperparameterPrior(
            estimator,
            hyperparameter.name,
            "categorical",
            choices=hyperparameter.choices,
            weights=tuple(float(w) for w in smoothed / smoothed.sum()),
            support=support,
        )
    assert hyperparameter.low is not None and hyperparameter.high is not None
    numbers = np.asarray(values, dtype=float)
    integer = hyperparameter.kind == "int"
    if hyperparameter.kind == "float" and not hyperparameter.log:
        width = hyperparameter.high - hyperparameter.low
        unit = np.clip((numbers - hyperparameter.low) / width, 0.0, 1.0)
        mean, spread = _weighted_moments(unit, weight_array)
        spread = max(spread, _MIN_SIGMA_SHARE)
        mean = min(max(mean, 0.02), 0.98)
        variance = min(spread**2, mean * (1 - mean) * 0.9)
        common = mean * (1 - mean) / variance - 1
        # a beta with both shapes >= 1 has one mode and no pole at the bounds
        alpha = max(mean * common, 1.0)
        beta = max((1 - mean) * common, 1.0)
        return HyperparameterPrior(
            estimator,
            hyperparameter.name,
            "beta",
            integer=False,
            log=False,
            low=hyperparameter.low,
            high=hyperparameter.high,
            alpha=alpha,
            beta=beta,
            support=len(values),
        )
    scaled = np.log(numbers) if hyperparameter.log else numbers
    mean, spread = _weighted_moments(scaled, weight_array)
    return HyperparameterPrior(
        estimator,
        hyperparameter.name,
        "normal",
        integer=integer,
        log=hyperparameter.log,
        low=hyperparameter.low,
        high=hyperparameter.high,
        mu=mean,
        sigma=max(spread, _floor_sigma(hyperparameter)),
        support=len(values),
    )


_EVALUATIONS: RecentlyUsed[pd.DataFrame] = RecentlyUsed(4)


def _evaluations(kb: KnowledgeBase, metric: str) -> pd.DataFrame:
    """``kb.evaluations_frame(metric)``, kept per (file, content version, view, metric): the service
    and the benchmarks build many priors from one knowledge base."""
    key = (str(kb.path), kb.ingest_stamp(), kb.view_key(), metric)
    return _EVALUATIONS.get(key, lambda: kb.evaluations_frame(metric))


def _fit_distributions(
    kb: KnowledgeBase,
    stored_metric: str,
    neighbours: Mapping[str, float],
    spaces: Sequence[EstimatorSpace],
    n_rows: float | None,
) -> tuple[HyperparameterPrior, ...]:
    """Distributions over the good configurations of each estimator on the nearest datasets.

    Only hyperparameters the knowledge base actually varied get one: a value every stored
    configuration shares is the corpus's choice, not evidence that others are worse.
    """
    by_estimator = {space.estimator: space for space in spaces}
    configs: dict[str, tuple[str, dict[str, ParamValue]]] = {}
    for pipeline_id, spec_json in kb.runnable_specs().items():
        spec = PipelineSpec.from_json(spec_json)
        estimator = spec.estimator.component
        if estimator not in by_estimator or len(spec.steps) > 2:
            continue
        config, notes = project_spec(spec, by_estimator[estimator], n_rows=n_rows)
        # a value the space could not hold as given says nothing about where good values lie;
        # fractions of the rows converted to counts do
        for parameter, _value, reason, _substitute in notes:
            if parameter in config and not reason.startswith(_FRACTION_NOTE):
                config = {k: v for k, v in config.items() if k != parameter}
        configs[pipeline_id] = (estimator, config)
    if not configs or not neighbours:
        return ()
    frame = _evaluations(kb, stored_metric)
    frame = frame[frame["dataset_id"].isin(neighbours) & frame["pipeline_id"].isin(configs)]
    if frame.empty:
        return ()
    higher = bool(frame["higher_is_better"].iloc[0])
    frame = frame.assign(
        oriented=frame["value"] if higher else -frame["value"],
        estimator=frame["pipeline_id"].map(lambda p: configs[p][0]),
    )
    thresholds = (
        frame.groupby(["dataset_id", "estimator"])["oriented"]
        .quantile(_GOOD_QUANTILE)
        .rename("threshold")
        .reset_index()
    )
    frame = frame.merge(thresholds, on=["dataset_id", "estimator"])
    good = frame[frame["oriented"] >= frame["threshold"]]
    results = []
    for estimator, space in by_estimator.items():
        all_configs = [config for name, config in configs.values() if name == estimator]
        rows = good[good["estimator"] == estimator]
        if rows.empty:
            continue
        weights = [1.0 / (neighbours[d] + 0.05) for d in rows["dataset_id"]]
        chosen = [configs[p][1] for p in rows["pipeline_id"]]
        for hyperparameter in space.hyperparameters:
            name = hyperparameter.name
            seen = {repr(config[name]) for config in all_configs if name in config}
            if len(seen) < 2:
                continue
            pairs = [(c[name], w) for c, w in zip(chosen, weights, strict=True) if name in c]
            if not pairs:
                continue
            values, value_weights = zip(*pairs, strict=True)
            results.append(_fit_distribution(estimator, hyperparameter, values, value_weights))
    return tuple(results)


# -- building the prior ------------------------------------------------------------------------


def _family_weights(
    ranked: Sequence[tuple[int, str]], spaces: Sequence[EstimatorSpace]
) -> tuple[FamilyWeight, ...]:
    """Weights from each family's best rank (1/sqrt(rank)), mixed with an even floor."""
    families: dict[str, list[str]] = {}
    for space in spaces:
        families.setdefault(space.family, []).append(space.estimator)
    best: dict[str, int] = {}
    for rank, family in ranked:
        if family in families and family not in best:
            best[family] = rank
    raw = {
        family: (1.0 / math.sqrt(best[family]) if family in best else 0.0) for family in families
    }
    total = sum(raw.values())
    weights = {}
    for family in families:
        informed = raw[family] / total if total > 0 else 1.0 / len(families)
        weights[family] = (1 - _FAMILY_FLOOR) * informed + _FAMILY_FLOOR / len(families)
    return tuple(
        FamilyWeight(family, weights[family], tuple(families[family]))
        for family in sorted(families, key=lambda f: -weights[f])
    )


def prior_from_report(
    report: RecommendationReport,
    kb: KnowledgeBase,
    *,
    top: int = 10,
    neighbours: int = 10,
) -> Prior:
    """A prior from a full recommendation report (its evidence names the nearest datasets).

    Recommendations are taken in rank order until ``top`` distinct starting configurations
    are found; estimators and values outside the space are recorded in ``unexpressible``.
    """
    if top < 1:
        raise MileMetaError(f"top must be at least 1, got {top}; ask for 1 or more configurations")
    spaces = search_space(report.task_type)
    by_estimator = {space.estimator: space for space in spaces}
    n_rows = report.meta_features.get("NumberOfInstances")
    n_rows = float(n_rows) if n_rows is not None and math.isfinite(float(n_rows)) else None
    starting: list[StartingConfiguration] = []
    seen: dict[str, int] = {}  # canonical config -> index in starting
    unexpressible: list[Unexpressible] = []
    ranked_families: list[tuple[int, str]] = []
    for recommendation in report.recommendations:
        estimator = recommendation.spec.estimator.component
        if estimator not in by_estimator:
            if len(starting) < top:
                unexpressible.append(
                    Unexpressible(
                        recommendation.rank,
                        recommendation.pipeline_id,
                        estimator,
                        None,
                        recommendation.spec.describe(),
                        f"{estimator} is not in the search space for {report.task_type}; "
                        "left out of the starting configurations",
                    )
                )
            continue
        ranked_families.append((recommendation.rank, by_estimator[estimator].family))
        if len(starting) >= top:
            continue
        config, notes = project_spec(recommendation.spec, by_estimator[estimator], n_rows=n_rows)
        key = json.dumps([estimator, config], sort_keys=True)
        for parameter, value, reason, substitute in notes:
            unexpressible.append(
                Unexpressible(
                    recommendation.rank,
                    recommendation.pipeline_id,
                    estimator,
                    parameter,
                    value,
                    reason,
                    substitute,
                )
            )
        if key in seen:
            index = seen[key]
            earlier = starting[index]
            starting[index] = _replace_ranks(earlier, recommendation.rank)
            continue
        seen[key] = len(starting)
        starting.append(_starting(recommendation, len(starting) + 1, config, notes, by_estimator))
    nearest = _nearest(kb, report, neighbours)
    distributions = _fit_distributions(kb, report.knowledge_base_metric, nearest, spaces, n_rows)
    provenance = Provenance(
        mile_meta_version=__version__,
        meta_learner=report.meta_learner,
        knowledge_base_checksum=kb.checksum(),
        knowledge_base_sources=tuple(kb.source_names()),
        knowledge_base_metric=report.knowledge_base_metric,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        excluded_datasets=tuple(report.excluded_datasets),
        neighbour_datasets=tuple(nearest),
    )
    return Prior(
        task_type=report.task_type,
        metric=report.metric,
        higher_is_better=report.higher_is_better,
        dataset_name=report.dataset_name,
        starting_configurations=tuple(starting),
        family_weights=_family_weights(ranked_families, spaces),
        distributions=distributions,
        unexpressible=tuple(unexpressible),
        provenance=provenance,
        meta_features=tuple(
            (str(k), float(v))
            for k, v in sorted(report.meta_features.items())
            if v is not None and math.isfinite(float(v))
        ),
    )


def _nearest(kb: KnowledgeBase, report: RecommendationReport, k: int) -> dict[str, float]:
    """The ``k`` knowledge-base datasets nearest to the report's meta-features, by distance."""
    from mile_meta.metrics import resolve_metric
    from mile_meta.ranking import nearest_datasets

    near = nearest_datasets(
        kb,
        report.meta_features,
        resolve_metric(report.metric),
        exclude=report.excluded_datasets,
        k=k,
    )
    return {
        item.dataset_id: float(item.distance)
        for item in near
        if item.distance is not None and math.isfinite(item.distance)
    }


def _replace_ranks(item: StartingConfiguration, rank: int) -> StartingConfiguration:
    from dataclasses import replace

    return replace(item, source_ranks=(*item.source_ranks, rank))


def _starting(
    recommendation: Recommendation,
    position: int,
    config: dict[str, ParamValue],
    notes: list[tuple[str | None, ParamValue, str, ParamValue]],
    by_estimator: Mapping[str, EstimatorSpace],
) -> StartingConfiguration:
    estimator = recommendation.spec.estimator.component
    return StartingConfiguration(
        rank=position,
        estimator=estimator,
        family=by_estimator[estimator].family,
        params=tuple(config.items()),
        predicted_score=recommendation.predicted_score,
        lower=recommendation.lower,
        upper=recommendation.upper,
        expected_fit_seconds=recommendation.expected_fit_seconds,
        observed_scores=tuple(
            ObservedScore(e.dataset_id, e.dataset_name, e.distance, float(e.observed_score))
            for e in recommendation.evidence
            if e.observed_score is not None and math.isfinite(e.observed_score)
        ),
        pipeline_id=recommendation.pipeline_id,
        source_ranks=(recommendation.rank,),
        # a note that only records an estimator default the space lacks still changes the model
        exact=not notes,
    )


@dataclass(frozen=True)
class _Request:
    """What :func:`build_prior` needs, whatever form the data came in."""

    meta_features: Mapping[str, float]
    task_type: str
    name: str
    own_id: str | None = None


def _request(
    data: Dataset | str | Path | pd.DataFrame | Mapping[str, float],
    target: str | None,
    task_type: str | None,
    name: str | None,
) -> _Request:
    from mile_meta.data import as_dataset
    from mile_meta.recommend import task_type_from_metafeatures

    if isinstance(data, Mapping):
        values = {str(k): float(v) for k, v in data.items() if v is not None}
        chosen = task_type or task_type_from_metafeatures(values)
        return _Request(values, chosen, name or "dataset")
    from mile_meta.metafeatures import compute_metafeatures

    dataset = as_dataset(data, target, task_type)
    meta = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=2.0
    ).values
    return _Request(dict(meta), dataset.task_type, name or dataset.name, dataset.dataset_id)


def build_prior(
    data: Dataset | str | Path | pd.DataFrame | Mapping[str, float],
    target: str | None = None,
    *,
    kb: KnowledgeBase | None = None,
    metric: str | None = None,
    top: int = 10,
    task_type: str | None = None,
    exclude_datasets: Sequence[str | int] = (),
    neighbours: int = 10,
    name: str | None = None,
) -> Prior:
    """The prior for a dataset (file, frame with ``target``, :class:`Dataset`) or for its
    OpenML-style meta-features (a mapping; ``task_type`` is inferred from NumberOfClasses
    when not given).

    ``top`` starting configurations are kept; ``neighbours`` nearest knowledge-base datasets
    shape the distributions; ``exclude_datasets`` (OpenML ids or knowledge-base ids) are
    ignored, for leakage-free experiments.
    """
    from mile_meta.kb import KnowledgeBase
    from mile_meta.recommend import recommend_from_metafeatures

    request = _request(data, target, task_type, name)
    if request.task_type not in ("binary", "multiclass", "regression"):
        raise MileMetaError(
            f"unknown task type {request.task_type!r}; use binary, multiclass or regression"
        )
    exclusions = (*exclude_datasets, *((request.own_id,) if request.own_id else ()))
    owned = kb is None
    knowledge_base = kb if kb is not None else KnowledgeBase.open(must_exist=True)
    try:
        report = recommend_from_metafeatures(
            request.meta_features,
            request.task_type,
            kb=knowledge_base,
            metric=metric,
            top=100_000,  # the full ranking: family weights look past the first few
            exclude_datasets=exclusions,
            dataset_name=request.name,
            evidence_per_pipeline=neighbours,
        )
        return prior_from_report(report, knowledge_base, top=top, neighbours=neighbours)
    finally:
        if owned:
            knowledge_base.close()


def _ensure_prior(value: object) -> Prior:
    if not isinstance(value, Prior):
        raise PriorSchemaError(
            f"expected a mile_meta.priors.Prior, got {type(value).__name__}; build one with "
            "mile_meta.priors.build_prior(...) or Prior.from_json(...)"
        )
    return value
