"""Search: autopilot and cruise-control, built from small components the presets combine.

    from mile_meta.search import autopilot, cruise_control
    result = autopilot("data.csv", "y", budget="60s")
    result.estimator.predict(rows); result.leaderboard; result.save("search-out/")

Components (one base class each, in :mod:`mile_meta.search._base`): an initial design
(:class:`WarmStartDesign`), a pruner (:class:`PriorPruner`), a fidelity schedule
(:class:`SuccessiveHalving`), an optimizer (:class:`OptunaOptimizer`); :class:`Search` runs
them under a wall-clock budget with every candidate in a worker process it can stop (an
:class:`Executor`), as one frozen :class:`SearchSettings` says. The final model is an
:class:`EnsembleModel` (greedy ensemble selection on out-of-fold predictions, with the decision
tuned to the metric) when that scores better than the best single pipeline.
"""

from mile_meta.search._base import (
    CandidatePruner,
    FidelitySchedule,
    InitialDesign,
    Optimizer,
    Outcome,
    Proposal,
    SearchContext,
)
from mile_meta.search._decisions import Decision
from mile_meta.search._engine import Search
from mile_meta.search._ensemble import EnsembleModel
from mile_meta.search._errors import SearchError
from mile_meta.search._executor import Executor
from mile_meta.search._fidelity import FullFidelity, RankAgreement, SuccessiveHalving
from mile_meta.search._initial_design import DefaultDesign, NoInitialDesign, WarmStartDesign
from mile_meta.search._optimizer import OptunaOptimizer
from mile_meta.search._presets import autopilot, autopilot_search, cold_search, cruise_control
from mile_meta.search._prior import SearchPrior, load_prior
from mile_meta.search._pruning import NoPruning, PriorPruner
from mile_meta.search._records import (
    Candidate,
    Cut,
    EnsembleSummary,
    Evaluation,
    Fidelity,
    SearchProgress,
)
from mile_meta.search._results import SearchResult
from mile_meta.search._resume import SearchJournal
from mile_meta.search._settings import SearchSettings
from mile_meta.search._space import Constraints, SearchSpace, constrained_space, parse_pins
from mile_meta.search._stages import subsample_rows
from mile_meta.search._units import parse_duration, parse_size
from mile_meta.search._worker import CandidateRunner, WorkerSettings

__all__ = [
    "Candidate",
    "CandidatePruner",
    "CandidateRunner",
    "Constraints",
    "Cut",
    "Decision",
    "DefaultDesign",
    "EnsembleModel",
    "EnsembleSummary",
    "Evaluation",
    "Executor",
    "Fidelity",
    "FidelitySchedule",
    "FullFidelity",
    "InitialDesign",
    "NoInitialDesign",
    "NoPruning",
    "Optimizer",
    "OptunaOptimizer",
    "Outcome",
    "PriorPruner",
    "Proposal",
    "RankAgreement",
    "Search",
    "SearchContext",
    "SearchError",
    "SearchJournal",
    "SearchPrior",
    "SearchProgress",
    "SearchResult",
    "SearchSettings",
    "SearchSpace",
    "SuccessiveHalving",
    "WarmStartDesign",
    "WorkerSettings",
    "autopilot",
    "autopilot_search",
    "cold_search",
    "constrained_space",
    "cruise_control",
    "load_prior",
    "parse_duration",
    "parse_pins",
    "parse_size",
    "subsample_rows",
]
