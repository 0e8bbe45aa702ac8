"""What a search is asked to do, in one frozen record (as SMAC's ``Scenario``).

The CLI and the Python presets build one :class:`SearchSettings` from what the user gave; the
engine reads everything from it. Strings (``"60s"``, ``"50MB"``) are read by
:meth:`SearchSettings.create`; the record itself holds seconds and bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mile_meta.pipelines.spec import ParamValue
from mile_meta.search._clock import MAX_BUDGET_SECONDS
from mile_meta.search._errors import SearchError
from mile_meta.search._space import Constraints
from mile_meta.search._units import parse_duration, parse_size

__all__ = ["SearchSettings"]


@dataclass(frozen=True)
class SearchSettings:
    """One search's settings (seconds and bytes; ``metric`` None = the task's default).

    ``cv`` folds or ``"auto"``; ``ensemble`` lets the final model combine pipelines;
    ``tune_decisions`` tunes the decision threshold or class weights to the metric;
    ``use_prior``/``record`` read the prior from / write the runs to the knowledge base;
    ``exclude_datasets`` are knowledge-base datasets the prior must not use; ``use_local``
    False ranks from the corpora alone (the user's recorded runs left out, ``--no-local``);
    ``portfolio`` adds that many configurations of the portfolios AutoML tools ship
    (AutoGluon, FLAML, auto-sklearn 2.0) to the warm start (0: none, the default until a
    benchmark says otherwise);
    ``max_evaluations`` stops earlier; ``clock_start`` (a ``time.perf_counter()`` value) is
    when the user's clock started (None: when the search starts); ``jobs`` candidates at once
    (-1: every core), each in a worker process of its own; ``scheduler`` sends them to a
    Dask cluster instead.
    """

    budget_seconds: float
    metric: str | None = None
    seed: int = 0
    cv: int | str = "auto"
    constraints: Constraints = field(default_factory=Constraints)
    ensemble: bool = True
    tune_decisions: bool = True
    use_prior: bool = True
    record: bool = True
    exclude_datasets: tuple[str | int, ...] = ()
    use_local: bool = True
    portfolio: int = 0
    max_evaluations: int | None = None
    clock_start: float | None = None
    jobs: int = 1
    # a Dask scheduler's address ("tcp://host:8786") or a ``distributed.Client`` (see _dask)
    scheduler: Any = None
    # a folder keeping the optimizer's study and what was evaluated (see _resume); with
    # ``resume`` the search continues from them
    resume_folder: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        budget = self.budget_seconds
        if not isinstance(budget, int | float) or not math.isfinite(budget) or budget < 1:
            raise SearchError(f"the budget must be at least 1 s, got {budget!r}")
        if budget > MAX_BUDGET_SECONDS:
            raise SearchError(
                f"a budget of {budget:,.0f} s is over the limit of "
                f"{MAX_BUDGET_SECONDS / 86400:.0f} days; pass a shorter --budget"
            )
        if self.portfolio < 0:
            raise SearchError(f"portfolio must be 0 or more, got {self.portfolio}", usage=True)
        if self.max_evaluations is not None and self.max_evaluations < 1:
            raise SearchError(f"max_evaluations must be at least 1, got {self.max_evaluations}")
        if not isinstance(self.jobs, int) or (self.jobs < 1 and self.jobs != -1):
            raise SearchError(
                f"jobs={self.jobs!r}: pass a number of candidates at once (1, 2…) or -1 for "
                "every core"
            )

    @classmethod
    def create(
        cls,
        *,
        budget: str | float,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        pinned: Mapping[str, ParamValue] | None = None,
        max_fit_seconds: str | float | None = None,
        interpretable: bool = False,
        max_model_bytes: str | int | None = None,
        max_memory_bytes: str | int | None = None,
        exclude_datasets: Sequence[str | int] = (),
        ensemble: bool = True,
        **fields: object,
    ) -> SearchSettings:
        """Settings from what a user types: ``budget="60s"``, ``max_model_bytes="50MB"``…

        ``interpretable`` keeps models a person can read, and a single pipeline (no
        ensemble); the remaining ``fields`` are those of the record.
        """
        constraints = Constraints(
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            pinned=tuple((pinned or {}).items()),
            interpretable=interpretable,
            max_fit_seconds=parse_duration(max_fit_seconds)
            if max_fit_seconds is not None
            else None,
            max_model_bytes=parse_size(max_model_bytes) if max_model_bytes is not None else None,
            max_memory_bytes=parse_size(max_memory_bytes) if max_memory_bytes is not None else None,
        )
        return cls(
            budget_seconds=parse_duration(budget),
            constraints=constraints,
            exclude_datasets=tuple(exclude_datasets),
            ensemble=ensemble and not interpretable,
            **fields,  # type: ignore[arg-type]
        )
