"""The search's extension points: one small base class each.

A search is an :class:`InitialDesign` (where to start), a :class:`CandidatePruner` (what not
to search), a :class:`FidelitySchedule` (how much data each candidate gets) and an
:class:`Optimizer` (what to try next). Each base class has a public method that checks what
the component returns and a private ``_method`` the variants implement; the presets
(:func:`~mile_meta.search.autopilot`, :func:`~mile_meta.search.cruise_control`) combine them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mile_meta.pipelines import COMPONENTS, component_info, family_of
from mile_meta.search._records import Candidate, Cut, Fidelity
from mile_meta.search._space import Constraints, SearchSpace

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.metrics import Metric
    from mile_meta.search._prior import SearchPrior

__all__ = [
    "CandidatePruner",
    "FidelitySchedule",
    "InitialDesign",
    "Optimizer",
    "Outcome",
    "Proposal",
    "SearchContext",
]


@dataclass(frozen=True)
class SearchContext:
    """What the components may read: the data, the metric, the prior (None without one)."""

    dataset: Dataset
    metric: Metric
    seed: int
    budget_seconds: float
    cv: int
    constraints: Constraints = field(default_factory=Constraints)
    prior: SearchPrior | None = None
    kb: Any = None  # the open KnowledgeBase, when there is one
    portfolio: int = 0  # shipped portfolio configurations the warm start may add

    @property
    def task_type(self) -> str:
        return self.dataset.task_type

    @property
    def n_rows(self) -> int:
        return len(self.dataset.frame)


def admits(space: SearchSpace, candidate: Candidate, constraints: Constraints) -> bool:
    """Whether a candidate from outside the optimizer (a knowledge-base pipeline) may run.

    Its estimator must be one the space searches, or a relative of one (same family, e.g.
    ``SVC`` with a linear kernel) that the constraints do not rule out.
    """
    estimator = candidate.spec.estimator.component
    info = component_info(estimator)
    wanted_kind = "regressor" if space.task_type == "regression" else "classifier"
    if info.kind != wanted_kind:
        return False
    if space.allows(estimator):
        return True
    if family_of(candidate.spec) not in space.families:
        return False
    if constraints.interpretable and not COMPONENTS[estimator].interpretable:
        return False
    return estimator.lower() not in {name.lower() for name in constraints.exclude}


class InitialDesign(ABC):
    """The first candidates, evaluated before the optimizer proposes any."""

    def select(self, space: SearchSpace, context: SearchContext) -> tuple[Candidate, ...]:
        """The design's candidates the space admits, pins applied, each pipeline once."""
        chosen: list[Candidate] = []
        seen: set[str] = set()
        for candidate in self._select(space, context):
            if not admits(space, candidate, context.constraints):
                continue
            pinned = space.apply_pins(candidate.spec)
            if pinned != candidate.spec:
                candidate = Candidate(
                    pinned, candidate.reason + " (with the pins)", candidate.origin
                )
            if candidate.pipeline_id in seen:
                continue
            seen.add(candidate.pipeline_id)
            chosen.append(candidate)
        return tuple(chosen)

    @abstractmethod
    def _select(self, space: SearchSpace, context: SearchContext) -> Iterable[Candidate]: ...

    def first(self, space: SearchSpace, context: SearchContext) -> Candidate | None:
        """A cheap candidate to evaluate before the prior is read (None: no such step).

        ``context.prior`` is None here; the candidate must be in ``space``.
        """
        candidate = self._first(space, context)
        if candidate is None or not space.allows(candidate.estimator):
            return None
        return Candidate(
            space.apply_pins(candidate.spec), candidate.reason, candidate.origin, candidate.params
        )

    def _first(self, space: SearchSpace, context: SearchContext) -> Candidate | None:
        return None


class CandidatePruner(ABC):
    """Narrows the space before the search: drops estimators, narrows ranges, says why."""

    def prune(
        self, space: SearchSpace, context: SearchContext
    ) -> tuple[SearchSpace, tuple[Cut, ...]]:
        """The narrowed space and its cuts; a pruner may never empty the space."""
        pruned, cuts = self._prune(space, context)
        if not pruned.estimators:
            return space, ()
        unknown = set(pruned.estimator_names) - set(space.estimator_names)
        if unknown:
            raise ValueError(f"a pruner may only remove estimators, it added {sorted(unknown)}")
        return pruned, tuple(cuts)

    @abstractmethod
    def _prune(
        self, space: SearchSpace, context: SearchContext
    ) -> tuple[SearchSpace, Sequence[Cut]]: ...


class FidelitySchedule(ABC):
    """How many rows each stage of a candidate's evaluation uses, and who goes on."""

    def rungs(self, n_rows: int, context: SearchContext) -> tuple[Fidelity, ...]:
        """Stages with growing row counts; the last one uses all ``n_rows``."""
        rungs = tuple(self._rungs(n_rows, context))
        if not rungs or rungs[-1].rows != n_rows:
            rungs = (*rungs, Fidelity(len(rungs), n_rows, 1.0, 1.0))
        sizes = [rung.rows for rung in rungs]
        if sizes != sorted(set(sizes)):
            raise ValueError(f"fidelity stages must grow, got {sizes}")
        return rungs

    @abstractmethod
    def _rungs(self, n_rows: int, context: SearchContext) -> Sequence[Fidelity]: ...

    def prepare(self, kb: Any) -> None:
        """One-off work a schedule may do before the budget's clock starts (e.g. measure and
        cache what it reads from the knowledge base ``kb``, which may be None)."""
        return None

    def promote(self, score: float, earlier: Sequence[float], higher_is_better: bool) -> bool:
        """Whether a candidate scoring ``score`` at a stage goes on to the next, given the
        scores ``earlier`` candidates had at that stage (all stages but the last)."""
        return True


@dataclass(frozen=True)
class Proposal:
    """A candidate an optimizer proposes, with the optimizer's own handle on it."""

    candidate: Candidate
    handle: Any = None


@dataclass(frozen=True)
class Outcome:
    """How a candidate ended: ``complete`` (``value`` at the last stage), ``pruned`` (stopped at
    a lower stage) or ``failed``; ``stages`` holds (stage index, score) of each stage run."""

    status: Literal["complete", "pruned", "failed"]
    value: float | None = None
    stages: tuple[tuple[int, float], ...] = ()


class Optimizer(ABC):
    """Proposes the candidates after the initial design (ask/tell)."""

    _space: SearchSpace | None = None

    def start(
        self, space: SearchSpace, context: SearchContext, initial: Sequence[Candidate] = ()
    ) -> None:
        """Begin over ``space``; the ``initial`` candidates come out of :meth:`ask` first."""
        if not space.estimators:
            raise ValueError("the optimizer needs at least one estimator to search")
        self._space = space
        self._start(space, context, tuple(initial))

    def ask(self) -> Proposal | None:
        """The next candidate, or None when the space has nothing new to offer."""
        if self._space is None:
            raise RuntimeError("call start() before ask()")
        return self._ask()

    def tell(self, proposal: Proposal, outcome: Outcome) -> None:
        """Report how a proposed candidate did."""
        if outcome.status == "complete" and outcome.value is None:
            raise ValueError("a complete outcome needs a value")
        self._tell(proposal, outcome)

    @abstractmethod
    def _start(
        self, space: SearchSpace, context: SearchContext, initial: tuple[Candidate, ...]
    ) -> None: ...

    @abstractmethod
    def _ask(self) -> Proposal | None: ...

    @abstractmethod
    def _tell(self, proposal: Proposal, outcome: Outcome) -> None: ...
