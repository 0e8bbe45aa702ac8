"""Presets ("facades"): the search components combined for each autonomy level.

* :func:`autopilot` — data, target, metric and a time budget; the knowledge base decides where
  to start, what to leave out and how small the first evaluations may be.
* :func:`cruise_control` — the same plus the user's constraints (families to include or
  exclude, pinned steps or hyperparameters, a fit-time limit per model, interpretable models
  only, a maximum model size).
* :func:`cold_search` — Optuna's TPE or random sampling over the same space with no prior
  (the baselines of the search benchmark).

User-driven evaluation of one named pipeline is :func:`mile_meta.evaluate.evaluate_pipeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

import pandas as pd

from mile_meta.data import Dataset, as_dataset
from mile_meta.pipelines.spec import ParamValue
from mile_meta.search._engine import ProgressCallback, Search
from mile_meta.search._fidelity import FullFidelity, SuccessiveHalving
from mile_meta.search._initial_design import NoInitialDesign, WarmStartDesign
from mile_meta.search._optimizer import OptunaOptimizer
from mile_meta.search._pruning import NoPruning, PriorPruner
from mile_meta.search._results import SearchResult
from mile_meta.search._settings import SearchSettings
from mile_meta.search._space import Constraints
from mile_meta.search._worker import WorkerSettings

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = ["autopilot", "autopilot_search", "cold_search", "cruise_control"]

Data: TypeAlias = Dataset | str | Path | pd.DataFrame


def _knowledge_base(
    kb: KnowledgeBase | str | Path | None, stack: ExitStack, *, must_exist: bool
) -> KnowledgeBase | None:
    from mile_meta.kb import KnowledgeBase

    if isinstance(kb, KnowledgeBase):
        return kb
    if kb is None and not must_exist:
        return None
    return stack.enter_context(KnowledgeBase.open(kb, must_exist=True))


def autopilot_search(
    constraints: Constraints | None = None,
    *,
    cv: int | str = "auto",
    use_prior: bool = True,
    worker: WorkerSettings | None = None,
    name: str = "autopilot",
    ensemble: bool = True,
    tune_decisions: bool = True,
) -> Search:
    """The autopilot's components: warm start from the top recommendations, the prior's
    pruning, successive halving on subsamples sized by the learning curves, then TPE."""
    return Search(
        initial_design=WarmStartDesign(size=8, per_family=2),
        pruner=PriorPruner() if use_prior else NoPruning(),
        fidelity=SuccessiveHalving(),
        optimizer=OptunaOptimizer("tpe", n_startup_trials=5),
        constraints=constraints,
        cv=cv,
        use_prior=use_prior,
        worker=worker,
        name=name,
        ensemble=ensemble,
        tune_decisions=tune_decisions,
    )


def _finish(result: SearchResult, out: str | Path | None) -> SearchResult:
    if out is not None:
        result.save(out)
    return result


def autopilot(
    data: Data,
    target: str | None = None,
    *,
    metric: str | None = None,
    budget: str | float = "60s",
    kb: KnowledgeBase | str | Path | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    record: bool = True,
    use_prior: bool = True,
    exclude_datasets: Sequence[str | int] = (),
    task_type: str | None = None,
    cv: int | str = "auto",
    progress: ProgressCallback | None = None,
    max_evaluations: int | None = None,
    ensemble: bool = True,
    tune_decisions: bool = True,
    clock_start: float | None = None,
) -> SearchResult:
    """Find and fit a good pipeline for ``data`` within ``budget`` ("60s", "5m", 90).

    The knowledge base (``kb``: an open one, a path, or None for the default) supplies the
    prior and receives every evaluation as a local run (``record``). With ``out`` the model
    (``model.joblib``), its spec, the leaderboard and an HTML report are written there.
    ``ensemble`` builds the final model from several pipelines (greedy ensemble selection on
    out-of-fold predictions) when that scores better; ``tune_decisions`` tunes the decision
    threshold or class weights to the metric; ``clock_start`` (a ``time.perf_counter()``
    value) is when the user's clock started (default: now).

    Example::

        result = autopilot("data.csv", "y", budget="60s")
        result.estimator.predict(new_rows); result.leaderboard.head()
    """
    settings = SearchSettings.create(
        budget=budget,
        metric=metric,
        seed=seed,
        cv=cv,
        use_prior=use_prior,
        record=record,
        exclude_datasets=exclude_datasets,
        max_evaluations=max_evaluations,
        ensemble=ensemble,
        tune_decisions=tune_decisions,
        clock_start=clock_start,
    )
    return _search(
        autopilot_search(name="autopilot"), data, target, task_type, settings, kb, out, progress
    )


def _search(
    search: Search,
    data: Data,
    target: str | None,
    task_type: str | None,
    settings: SearchSettings,
    kb: KnowledgeBase | str | Path | None,
    out: str | Path | None,
    progress: ProgressCallback | None,
) -> SearchResult:
    """Run ``search`` on ``data`` as ``settings`` say, with the knowledge base opened if needed."""
    dataset = as_dataset(data, target, task_type)
    # constraints are checked against the space before the knowledge base is even opened
    from mile_meta.search._space import constrained_space

    constrained_space(dataset.task_type, settings.constraints)
    with ExitStack() as stack:
        knowledge_base = _knowledge_base(
            kb, stack, must_exist=settings.use_prior or settings.record
        )
        result = search.run(dataset, settings, kb=knowledge_base, progress=progress)
    return _finish(result, out)


def cruise_control(
    data: Data,
    target: str | None = None,
    *,
    metric: str | None = None,
    budget: str | float = "60s",
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    pinned: Mapping[str, ParamValue] | None = None,
    max_fit_seconds: str | float | None = None,
    interpretable: bool = False,
    max_model_bytes: str | int | None = None,
    max_memory_bytes: str | int | None = None,
    kb: KnowledgeBase | str | Path | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    record: bool = True,
    use_prior: bool = True,
    exclude_datasets: Sequence[str | int] = (),
    task_type: str | None = None,
    cv: int | str = "auto",
    progress: ProgressCallback | None = None,
    max_evaluations: int | None = None,
    ensemble: bool = True,
    tune_decisions: bool = True,
    clock_start: float | None = None,
    settings: SearchSettings | None = None,
) -> SearchResult:
    """The autopilot under the user's constraints; an unsatisfiable one fails before any work.

    ``include``/``exclude`` name families (``random_forest``) or estimators; ``pinned`` maps
    ``"Component.parameter"`` (or a bare ``"parameter"``) to a fixed value, e.g.
    ``{"RandomForestClassifier.n_estimators": 500, "TabularPreprocessor.scaling": "robust"}``;
    ``max_fit_seconds`` ("10s") stops any fit that takes longer; ``max_model_bytes`` ("50MB")
    bounds the pickled final model; ``interpretable`` keeps models a person can read (and
    a single pipeline: it implies ``ensemble=False``). ``settings`` (a
    :class:`SearchSettings`, as the CLI builds) replaces all the keyword settings.

    Example::

        result = cruise_control("data.csv", "y", budget="2m", interpretable=True)
    """
    if settings is None:
        settings = SearchSettings.create(
            budget=budget,
            include=include,
            exclude=exclude,
            pinned=pinned,
            max_fit_seconds=max_fit_seconds,
            interpretable=interpretable,
            max_model_bytes=max_model_bytes,
            max_memory_bytes=max_memory_bytes,
            exclude_datasets=exclude_datasets,
            ensemble=ensemble,
            metric=metric,
            seed=seed,
            cv=cv,
            use_prior=use_prior,
            record=record,
            max_evaluations=max_evaluations,
            tune_decisions=tune_decisions,
            clock_start=clock_start,
        )
    name = "cruise-control" if settings.constraints.any else "autopilot"
    return _search(
        autopilot_search(name=name), data, target, task_type, settings, kb, out, progress
    )


def cold_search(
    data: Data,
    target: str | None = None,
    *,
    sampler: Literal["tpe", "random"] = "tpe",
    metric: str | None = None,
    budget: str | float = "60s",
    kb: KnowledgeBase | str | Path | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    record: bool = False,
    task_type: str | None = None,
    cv: int | str = "auto",
    progress: ProgressCallback | None = None,
    max_evaluations: int | None = None,
    clock_start: float | None = None,
) -> SearchResult:
    """Optuna ``tpe`` or ``random`` sampling over the same space, with no prior: no warm start,
    no pruning, every candidate on all rows, a single pipeline with the default decision (the
    plain-optimizer baselines). ``kb`` only receives the runs (``record``)."""
    search = Search(
        initial_design=NoInitialDesign(),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer(sampler),
        cv=cv,
        use_prior=False,
        name=f"{sampler} search",
        ensemble=False,
        tune_decisions=False,
    )
    settings = SearchSettings.create(
        budget=budget,
        metric=metric,
        seed=seed,
        cv=cv,
        use_prior=False,
        record=record,
        max_evaluations=max_evaluations,
        ensemble=False,
        tune_decisions=False,
        clock_start=clock_start,
    )
    if not record:
        kb = None  # the knowledge base only receives the runs
    return _search(search, data, target, task_type, settings, kb, out, progress)
