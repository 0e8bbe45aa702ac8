"""The exporter contract: one :class:`Exporter` per tool, all returning the same shape.

``Exporter.export(prior)`` returns an :class:`ExportedPrior` subclass that holds the tool's own
objects (distributions, a ``ConfigurationSpace``, a hyperopt space...), the
``starting_points`` in the tool's own names, best first, and a ``report`` of everything that
could not be expressed — the prior's own ``unexpressible`` notes plus what the tool loses (a
distribution it has no shape for, an estimator it has no learner for). ``spec_of(point)``
turns any point of the exported space back into a runnable :class:`PipelineSpec`, so a result
found by the tool can be refitted, evaluated or recorded by mile-meta.

Flat tools (Optuna, ConfigSpace, hyperopt, Ray Tune) share one naming: the estimator choice is
``"estimator"`` and each hyperparameter is ``"<Estimator>:<name>"``, e.g.
``"RandomForestClassifier:max_features"``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import EstimatorSpace, spec_from_config
from mile_meta.pipelines.spec import ParamValue
from mile_meta.priors._prior import HyperparameterPrior, Prior, _ensure_prior

__all__ = [
    "ESTIMATOR_KEY",
    "ExportNote",
    "ExportedPrior",
    "Exporter",
    "flat_name",
    "split_flat_point",
]

ESTIMATOR_KEY = "estimator"


def flat_name(estimator: str, name: str) -> str:
    """The flat name of a hyperparameter: ``"<Estimator>:<name>"``."""
    return f"{estimator}:{name}"


def split_flat_point(point: Mapping[str, Any]) -> tuple[str, dict[str, ParamValue]]:
    """(estimator, params) of a flat point; keys of other estimators are ignored."""
    if ESTIMATOR_KEY not in point:
        raise MileMetaError(
            f"a point of the exported space needs the {ESTIMATOR_KEY!r} key; got "
            f"{', '.join(sorted(point)) or 'nothing'}"
        )
    estimator = str(point[ESTIMATOR_KEY])
    prefix = f"{estimator}:"
    params = {
        key[len(prefix) :]: _plain(value) for key, value in point.items() if key.startswith(prefix)
    }
    return estimator, params


def _plain(value: Any) -> ParamValue:
    if hasattr(value, "item"):  # numpy scalars from the tools
        value = value.item()
    return value


@dataclass(frozen=True)
class ExportNote:
    """Something the target tool cannot express, in one line."""

    subject: str  # "RandomForestClassifier.max_features", "GradientBoostingClassifier", ...
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass(frozen=True)
class ExportedPrior:
    """What every exporter returns; subclasses add the tool's objects."""

    tool: ClassVar[str] = ""
    prior: Prior
    starting_points: tuple[dict[str, Any], ...]  # in the tool's names, best first
    report: tuple[ExportNote, ...]

    def spec_of(self, point: Mapping[str, Any]) -> PipelineSpec:
        """The runnable spec of a point of the exported space (flat naming)."""
        estimator, params = split_flat_point(point)
        return spec_from_config(estimator, params)

    def payload(self) -> dict[str, Any]:
        """JSON-ready form for the HTTP service: starting points, report, the prior itself."""
        return {
            "format": self.tool,
            "starting_points": [_jsonable(point) for point in self.starting_points],
            "report": [str(note) for note in self.report],
            "prior": self.prior.to_dict(),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


ExportedT = TypeVar("ExportedT", bound="ExportedPrior")


class Exporter(ABC, Generic[ExportedT]):
    """Translate a :class:`Prior` for one tool.

    Subclasses set ``tool`` (the ``--format`` name) and ``extra`` (the pip extra that installs
    the tool), implement :meth:`_export`, and describe in :meth:`_module_usage` how the file
    written by ``mile-meta priors -o FILE`` is used. Tools with a standalone runtime
    (:mod:`mile_meta.priors._standalone`) set ``runtime_class`` and list in
    :meth:`_module_names` the names the written module exposes; that module imports only the
    tool (and scikit-learn to build models), never mile-meta.
    """

    tool: ClassVar[str]
    extra: ClassVar[str] = "priors"
    runtime_class: ClassVar[str] = ""
    needs: ClassVar[str] = ""  # the packages the written module imports, for its docstring

    def export(self, prior: Prior) -> ExportedT:
        """Validate ``prior`` and translate it."""
        checked = _ensure_prior(prior)
        return self._export(checked)

    @abstractmethod
    def _export(self, prior: Prior) -> ExportedT: ...

    @abstractmethod
    def _module_usage(self) -> str:
        """Docstring lines showing how to use the written module."""

    def _module_names(self) -> tuple[str, ...]:
        """Python lines (run after ``EXPORTED`` is bound) exposing the tool's objects."""
        return ()

    def portable(self, exported: ExportedPrior) -> dict[str, Any]:
        """The plain data the written module embeds as ``PRIOR``."""
        from mile_meta.priors._portable import portable_prior

        return portable_prior(exported.prior, exported.report)

    def module_source(self, exported: ExportedPrior) -> str:
        """The file ``mile-meta priors -o`` writes: a module that needs only the tool."""
        from mile_meta.priors._standalone import standalone_source

        prior = exported.prior
        report = "\n".join(f"  - {note}" for note in exported.report) or "  (nothing)"
        direction = "higher" if prior.higher_is_better else "lower"
        docstring = (
            f"mile-meta prior for {self.tool}: {prior.dataset_name}, {prior.task_type}, "
            f"{prior.metric} ({direction} is better).\n\n"
            f"Written by mile-meta {prior.provenance.mile_meta_version} on "
            f"{prior.provenance.created_at} (knowledge base "
            f"{prior.provenance.knowledge_base_checksum}, "
            f"meta-learner {prior.provenance.meta_learner}). Needs {self.needs or self.tool}, numpy and "
            "scikit-learn (and the estimators' packages, e.g. lightgbm), not mile-meta.\n\n"
            f"Usage:\n{self._module_usage()}\n\n"
            f"What {self.tool} cannot express:\n{report}\n"
        )
        docstring = docstring.replace("\\", "\\\\").replace('"""', "'''")
        return standalone_source(
            self.tool, docstring, self.portable(exported), self.runtime_class, self._module_names()
        )


def distribution_notes(
    prior: Prior, spaces: tuple[EstimatorSpace, ...], tool: str, lost: str
) -> list[ExportNote]:
    """Notes for every fitted distribution ``tool`` cannot carry (``lost`` says what it uses)."""
    names = {space.estimator for space in spaces}
    return [
        ExportNote(f"{d.estimator}.{d.name}", f"{tool} {lost}")
        for d in prior.distributions
        if d.estimator in names
    ]


def prior_notes(prior: Prior) -> list[ExportNote]:
    """The prior's own unexpressible values, as export notes."""
    notes = []
    for item in prior.unexpressible:
        subject = f"{item.estimator}.{item.parameter}" if item.parameter else item.estimator
        where = f" (recommendation #{item.rank})" if item.rank is not None else ""
        value = f"{item.value!r}: " if item.parameter else ""
        tail = "" if item.substitute is None else f" (uses {item.substitute!r})"
        notes.append(ExportNote(subject, f"{value}{item.reason}{where}{tail}"))
    return notes


def truncated_normal_unit(distribution: HyperparameterPrior) -> tuple[float, float]:
    """Mean and standard deviation of a normal prior on the unit interval of its range
    (after ``ln`` where log-scaled): the shape tools with only unit-space priors accept."""
    assert distribution.low is not None and distribution.high is not None
    assert distribution.mu is not None and distribution.sigma is not None
    if distribution.log:
        low, high = math.log(distribution.low), math.log(distribution.high)
    else:
        low, high = distribution.low, distribution.high
    width = high - low
    return (distribution.mu - low) / width, distribution.sigma / width
