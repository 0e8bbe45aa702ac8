"""The search loop: components combined, run under a wall-clock budget.

Order of work: the constraints are checked (an unsatisfiable one is an error before anything
runs), a quick first candidate is evaluated (so a model exists however short the budget), the
prior is read, the pruner narrows the space, the initial design and then the optimizer propose
candidates, each evaluated stage by stage as the fidelity schedule says, in a worker process
with a deadline. Time for the final refit is held back all along, so the refitted model is
ready within the budget.

This module is the loop and stage promotion; the other concerns have their own modules:
``_settings`` (what the search is asked to do), ``_budget`` (the clock, the reserve, family
shares), ``_stages`` (subsamples), ``_crossval`` (out-of-fold predictions), ``_final`` with
``_ensemble`` and ``_decisions`` (the final model), ``_executor`` (where candidates run).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mile_meta.data import Dataset
from mile_meta.metrics import Metric, default_metric, resolve_metric
from mile_meta.search._base import (
    CandidatePruner,
    FidelitySchedule,
    InitialDesign,
    Optimizer,
    Outcome,
    SearchContext,
)
from mile_meta.search._budget import (
    MIN_SLOT_SECONDS,
    FamilyShare,
    SearchState,
    reserve_seconds,
)
from mile_meta.search._ensemble import PredictionStore
from mile_meta.search._errors import SearchError
from mile_meta.search._executor import Executor
from mile_meta.search._final import FinalModel, FinalModelBuilder
from mile_meta.search._prior import SearchPrior
from mile_meta.search._records import (
    Candidate,
    Cut,
    Evaluation,
    EvaluationStatus,
    Fidelity,
    SearchProgress,
)
from mile_meta.search._settings import SearchSettings
from mile_meta.search._space import Constraints, constrained_space
from mile_meta.search._stages import StagePlan, subsample_rows
from mile_meta.search._worker import (
    CandidateRunner,
    EvaluateTask,
    PriorTask,
    WorkerSettings,
    preload_modules,
)

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.kb import KnowledgeBase
    from mile_meta.search._results import SearchResult

__all__ = ["Search", "subsample_rows"]

ProgressCallback = Callable[[SearchProgress], None]

# The prior (meta-features and the meta-learner's ranking) may take this share of the budget.
_PRIOR_SHARE = 0.3
# Most of the budget one evaluation may take.
_CANDIDATE_SHARE = 0.25
# Before any candidate has completed, one evaluation may use at most this share of the time left.
_FIRST_SHARE = 0.6
# After this many proposals in a row that were already evaluated, the space is used up.
_MAX_REPEATS = 50
# With nothing completed, this many failed evaluations in a row end the search: the data (or
# the environment) makes every candidate fail, and retrying only burns the budget.
_MAX_FAILURES_IN_A_ROW = 8


class Search:
    """A search assembled from components (see :mod:`mile_meta.search._base`).

    Presets build one (:func:`~mile_meta.search.autopilot`, ...) and call :meth:`run`.
    ``cv`` is the number of cross-validation folds, or ``"auto"`` (5 up to 1000 rows, else 3).
    """

    def __init__(
        self,
        *,
        initial_design: InitialDesign,
        pruner: CandidatePruner,
        fidelity: FidelitySchedule,
        optimizer: Optimizer,
        constraints: Constraints | None = None,
        cv: int | str = "auto",
        use_prior: bool = True,
        worker: WorkerSettings | None = None,
        name: str = "search",
        ensemble: bool = True,
        tune_decisions: bool = True,
        executor: Callable[[Dataset, WorkerSettings], Executor] | None = None,
    ) -> None:
        self.initial_design = initial_design
        self.pruner = pruner
        self.fidelity = fidelity
        self.optimizer = optimizer
        self.constraints = constraints or Constraints()
        self.cv = cv
        self.use_prior = use_prior
        self.worker = worker
        self.name = name
        self.ensemble = ensemble
        self.tune_decisions = tune_decisions
        # how candidates run: one killable worker process by default (a parallel or Dask
        # executor plugs in here)
        self.executor = executor or CandidateRunner
        self._custom_executor = executor is not None
        self._journal: Any = None
        self._families: tuple[str, ...] = ()  # of the current run's space

    # -- public: validate, then run --------------------------------------------------------
    def run(
        self,
        dataset: Dataset,
        settings: SearchSettings | None = None,
        *,
        kb: KnowledgeBase | None = None,
        progress: ProgressCallback | None = None,
        **fields: Any,
    ) -> SearchResult:
        """Search as ``settings`` say (the refitted model within the budget) and return the
        result.

        ``kb`` gives the prior and receives the runs (as local runs, with ``settings.record``).
        Without ``settings``, they are made of ``fields`` (``budget_seconds=60, seed=1``…) and
        this search's own ``constraints``, ``cv``, ``use_prior``, ``ensemble`` and
        ``tune_decisions``; with both, ``fields`` replace those of ``settings``.
        """
        if settings is None:
            if "budget_seconds" not in fields:
                raise SearchError("give the settings or a budget_seconds")
            defaults: dict[str, Any] = {
                "constraints": self.constraints,
                "cv": self.cv,
                "use_prior": self.use_prior,
                "ensemble": self.ensemble,
                "tune_decisions": self.tune_decisions,
            }
            if "exclude_datasets" in fields:
                fields["exclude_datasets"] = tuple(fields["exclude_datasets"])
            settings = SearchSettings(**{**defaults, **fields})
        elif fields:
            settings = replace(settings, **fields)
        self.settings = settings
        self.constraints, self.cv, self.use_prior = (
            settings.constraints,
            settings.cv,
            settings.use_prior,
        )
        self.ensemble, self.tune_decisions = settings.ensemble, settings.tune_decisions
        budget_seconds = settings.budget_seconds
        metric = settings.metric
        chosen = resolve_metric(metric) if metric else default_metric(dataset.task_type)
        if dataset.task_type not in chosen.task_types:
            raise SearchError(
                f"metric {chosen.name} does not apply to a {dataset.task_type} task; "
                f"pick one for {dataset.task_type} (default: {default_metric(dataset.task_type).name})"
            )
        cv = self._resolve_cv(len(dataset.frame), dataset)
        space, constraint_cuts = constrained_space(dataset.task_type, self.constraints)
        if self.constraints.max_fit_seconds and self.constraints.max_fit_seconds > budget_seconds:
            constraint_cuts.append(
                Cut(
                    "candidate",
                    "max_fit_seconds",
                    f"the fit limit ({self.constraints.max_fit_seconds:g} s) exceeds the budget; the budget rules",
                    "constraint",
                )
            )
        exclude_datasets: Sequence[str | int] = settings.exclude_datasets
        if kb is not None:
            # a mistyped dataset name would leak the dataset it meant into the prior
            from mile_meta.recommend import resolve_exclusions

            exclude_datasets = resolve_exclusions(kb, exclude_datasets)
        clock_start = settings.clock_start
        started = time.perf_counter() if clock_start is None else clock_start
        preload_modules()  # imports the workers share (on the user's clock when it started earlier)
        self.fidelity.prepare(kb)  # one-off per knowledge base, cached
        if clock_start is None:
            started = time.perf_counter()  # a bare engine call: the loop's clock
        with _terminate_as_interrupt():
            return self._run(
                dataset,
                metric=chosen,
                cv=cv,
                budget=float(budget_seconds),
                started=started,
                space=space,
                constraint_cuts=constraint_cuts,
                kb=kb,
                seed=settings.seed,
                exclude_datasets=exclude_datasets,
                progress=progress,
                record=settings.record,
                max_evaluations=settings.max_evaluations,
            )

    def _open_journal(
        self, state: SearchState, outcomes: dict[str, Outcome], metric: Metric
    ) -> Any:
        folder = getattr(self.settings, "resume_folder", None)
        if folder is None:
            return None
        from mile_meta.search._resume import SearchJournal

        journal = SearchJournal(folder, resume=self.settings.resume)
        journal.restore(
            state, outcomes, lambda score, than: _better(score, than, metric.higher_is_better)
        )
        return journal

    def _executor(self, dataset: Dataset, worker: WorkerSettings) -> Executor:
        """The executor the settings ask for: the one given to the search, else a Dask
        cluster (``scheduler``), else ``jobs`` local workers, else one worker process."""
        scheduler = getattr(self.settings, "scheduler", None)
        jobs = getattr(self.settings, "jobs", 1)
        if self._custom_executor or (scheduler is None and jobs == 1):
            return self.executor(dataset, worker)
        from mile_meta.search._executor import open_executor

        return open_executor(dataset, worker, jobs=jobs, scheduler=scheduler)

    def _resolve_cv(self, n_rows: int, dataset: Dataset) -> int:
        if self.cv == "auto":
            folds = 5 if n_rows <= 1000 else 3
        else:
            try:
                folds = int(self.cv)
            except (TypeError, ValueError):
                raise SearchError(
                    f"cv must be a number of folds or 'auto', got {self.cv!r}"
                ) from None
            if folds < 2:
                raise SearchError(f"cv must be at least 2 folds, got {folds}")
        if dataset.task_type == "regression":
            if n_rows < folds:
                raise SearchError(
                    f"{dataset.name} has {n_rows} rows, fewer than the {folds} folds; "
                    "pass a smaller cv or more rows"
                )
        else:
            smallest = int(dataset.target.value_counts().min())
            if smallest < 2:
                raise SearchError(
                    f"the rarest class of {dataset.name} has {smallest} row; "
                    "cross-validation needs at least 2 per class: drop or merge that class"
                )
            folds = min(folds, smallest)
        return folds

    # -- private: the loop ------------------------------------------------------------------
    def _run(
        self,
        dataset: Dataset,
        *,
        metric: Metric,
        cv: int,
        budget: float,
        started: float,
        space: Any,
        constraint_cuts: list[Cut],
        kb: KnowledgeBase | None,
        seed: int,
        exclude_datasets: Sequence[str | int],
        progress: ProgressCallback | None,
        record: bool,
        max_evaluations: int | None,
    ) -> SearchResult:
        from mile_meta.search._results import SearchResult

        state = SearchState(started, budget, [], [], {}, [], [], max_evaluations=max_evaluations)
        state.store = PredictionStore(metric.higher_is_better)
        emit = self._emitter(progress, state, metric)
        stopped_because = "budget"
        interrupted = False
        final: FinalModel | None = None
        initial: tuple[Candidate, ...] = ()
        plan: StagePlan | None = None
        prior: SearchPrior | None = None
        prior_cuts: tuple[Cut, ...] = ()
        settings = self.worker or WorkerSettings(max_memory_bytes=self.constraints.max_memory_bytes)
        self._builder = FinalModelBuilder(
            self.constraints, cv, ensemble=self.ensemble, tune_decisions=self.tune_decisions
        )
        with self._executor(dataset, settings) as runner:
            try:
                context = SearchContext(
                    dataset=dataset,
                    metric=metric,
                    seed=seed,
                    budget_seconds=budget,
                    cv=cv,
                    constraints=self.constraints,
                    prior=None,
                    kb=kb,
                    portfolio=self.settings.portfolio,
                )
                plan = StagePlan.build(
                    self.fidelity.rungs(len(dataset.frame), context), dataset, seed, cv
                )
                outcomes: dict[str, Outcome] = {}
                self._journal = self._open_journal(state, outcomes, metric)
                quick = self.initial_design.first(space, context)
                if quick is not None and quick.pipeline_id not in outcomes:
                    # a model exists early, however short the budget
                    emit("quick start")
                    outcomes[quick.pipeline_id] = self._intensify(
                        runner, state, quick, plan, metric, cv, seed, emit
                    )
                    if self._journal is not None:
                        self._journal.outcome(quick.pipeline_id, outcomes[quick.pipeline_id])
                emit("prior")
                prior = self._prior(runner, state, kb, metric, exclude_datasets)
                context = replace(context, prior=prior)
                space, prior_cuts = self.pruner.prune(space, context)
                initial = self.initial_design.select(space, context)
                if quick is not None and quick.pipeline_id not in {c.pipeline_id for c in initial}:
                    initial = (quick, *initial)
                if getattr(runner, "slots", 1) > 1:
                    self.optimizer.constant_liar = True  # type: ignore[attr-defined]
                if self._journal is not None:  # the study in the folder (resumable)
                    self.optimizer.storage = self._journal.storage_url  # type: ignore[attr-defined]
                    self.optimizer.resume = self._journal.resume  # type: ignore[attr-defined]
                self.optimizer.start(space, context, initial)
                self._families = space.families
                emit("warm start" if initial else "optimizer")
                stopped_because = self._loop(
                    runner, state, plan, metric, cv, seed, emit, len(initial), outcomes
                )
            except KeyboardInterrupt:
                interrupted = True
                stopped_because = "interrupted"
                state.notes.append("interrupted (Ctrl-C): the best so far is kept")
            emit("refit")
            try:
                if plan is not None:
                    final = self._builder.build(
                        runner, state, plan, seed, interrupted, len(dataset.frame), metric
                    )
            except KeyboardInterrupt:
                interrupted = True
                stopped_because = "interrupted"
                state.notes.append("interrupted again during the refit: no fitted model")
            elapsed = state.elapsed()
        # sortable by time, unique across processes
        search_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        result = SearchResult(
            estimator=final.estimator if final is not None else None,
            best=final.evaluation if final is not None else None,
            evaluations=tuple(state.evaluations),
            cuts=(*constraint_cuts, *prior_cuts),
            initial_design=initial,
            fidelities=plan.stages if plan is not None else (),
            history=tuple(state.history),
            metric=metric.name,
            higher_is_better=metric.higher_is_better,
            dataset_name=dataset.name,
            dataset_id=dataset.dataset_id,
            task_type=dataset.task_type,
            n_rows=len(dataset.frame),
            seed=seed,
            cv=cv,
            budget_seconds=budget,
            elapsed_seconds=elapsed,
            refit_seconds=final.refit_seconds if final is not None else None,
            refit_rows=final.rows if final is not None else None,
            model_bytes=final.model_bytes if final is not None else None,
            stopped_because=stopped_because,
            interrupted=interrupted,
            notes=tuple(state.notes),
            preset=self.name,
            prior_seconds=prior.seconds if prior is not None else None,
            searched_estimators=space.estimator_names,
            evaluation_results=tuple(state.results),
            ensemble=state.ensemble,
            search_id=search_id,
        )
        if record and kb is not None and state.results:
            from mile_meta.evaluate import record_local_runs

            record_local_runs(kb, dataset, list(state.results), run_key=f"search:{search_id}")
        emit("done", result.best)
        return result

    def _prior(
        self,
        runner: Executor,
        state: SearchState,
        kb: KnowledgeBase | None,
        metric: Metric,
        exclude_datasets: Sequence[str | int],
    ) -> SearchPrior | None:
        """The prior, read in the worker so a slow read cannot overrun the budget."""
        if not self.use_prior:
            return None
        if kb is None:
            state.notes.append("no prior: no knowledge base given")
            return None
        # never past the budget: a late start (a slow machine, a slow start-up) leaves less
        limit = min(_PRIOR_SHARE * state.budget, state.remaining() - 0.1 * state.budget)
        if limit < MIN_SLOT_SECONDS:
            state.notes.append(
                "no prior: no time left for it; searching from default configurations"
            )
            return None
        reply = runner.run(
            PriorTask(
                str(kb.path),
                metric.name,
                tuple(exclude_datasets),
                meta_feature_seconds=min(1.0, 0.02 * state.budget),
                use_local=self.settings.use_local,
            ),
            timeout_seconds=limit,
        )
        if reply.status == "timeout":
            state.notes.append(
                f"no prior: reading it took longer than the {limit:.1f} s it was given (at most "
                f"{_PRIOR_SHARE:.0%} of the budget); searching from default configurations"
            )
            return None
        if reply.status != "ok":
            state.notes.append(f"no prior: {reply.message}; searching from default configurations")
            return None
        prior: SearchPrior | None
        prior, note = reply.value
        state.notes.append(note + f" (read in {reply.seconds:.1f} s)")
        return prior

    def _emitter(
        self, progress: ProgressCallback | None, state: SearchState, metric: Metric
    ) -> Callable[..., None]:
        def emit(phase: str, last: Evaluation | None = None) -> None:
            if progress is None:
                return
            best = state.best
            progress(
                SearchProgress(
                    phase=phase,
                    elapsed_seconds=state.elapsed(),
                    budget_seconds=state.budget,
                    evaluations=len(state.evaluations),
                    failures=state.failures,
                    best_score=best.score if best is not None else None,
                    best_description=best.candidate.spec.describe() if best is not None else None,
                    metric=metric.name,
                    last=last,
                    notes=tuple(state.notes),
                )
            )

        return emit

    def _loop(
        self,
        runner: Executor,
        state: SearchState,
        plan: StagePlan,
        metric: Metric,
        cv: int,
        seed: int,
        emit: Callable[..., None],
        n_initial: int,
        outcomes: dict[str, Outcome],
    ) -> str:
        in_flight: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if getattr(runner, "slots", 1) > 1:  # several candidates at once (see _parallel)
            from mile_meta.search._parallel import InFlight

            in_flight = InFlight(runner)
        with in_flight as flight:
            return self._loop_body(
                runner, state, plan, metric, cv, seed, emit, n_initial, outcomes, flight
            )

    def _loop_body(
        self,
        runner: Executor,
        state: SearchState,
        plan: StagePlan,
        metric: Metric,
        cv: int,
        seed: int,
        emit: Callable[..., None],
        n_initial: int,
        outcomes: dict[str, Outcome],
        flight: Any = None,
    ) -> str:
        repeats = 0
        asked = 0
        n_rows = plan.n_rows
        share = FamilyShare(metric.higher_is_better)
        families = len(self._families)
        capped: set[str] = set()
        waiting: dict[str, list[Any]] = {}  # proposals of a candidate in flight: told when done
        while True:
            if flight is not None:
                flight.wait_for_slot()
                if _all_failing(state):
                    return "every candidate failed"
            if (
                state.remaining() - reserve_seconds(state, cv, n_rows, self.ensemble)
                < MIN_SLOT_SECONDS
            ):
                return "budget"
            if (
                state.max_evaluations is not None
                and len(state.evaluations) >= state.max_evaluations
            ):
                return "evaluation limit"
            proposal = self.optimizer.ask()
            if proposal is None:
                return "space exhausted"
            asked += 1
            if asked == n_initial + 1:
                emit("optimizer")
            if flight is not None and proposal.candidate.pipeline_id in flight.running:
                waiting.setdefault(proposal.candidate.pipeline_id, []).append(proposal)
                repeats += 1
                if repeats >= _MAX_REPEATS:
                    state.notes.append(f"stopped: the last {repeats} proposals were all repeats")
                    return "space exhausted"
                continue
            known = outcomes.get(proposal.candidate.pipeline_id)
            if known is not None:  # proposed before: tell the same outcome, evaluate nothing
                self.optimizer.tell(proposal, known)
                repeats += 1
                if repeats >= _MAX_REPEATS:
                    state.notes.append(f"stopped: the last {repeats} proposals were all repeats")
                    return "space exhausted"
                continue
            family = proposal.candidate.family
            if proposal.candidate.origin == "optimizer" and share.capped(family, families):
                # a family past its share that stopped improving: skip, as a repeat would be
                if family not in capped:
                    capped.add(family)
                    state.notes.append(
                        f"{family} capped after {share.counts[family]} evaluations: none of its "
                        f"last {share.patience} improved it; other families get the time"
                    )
                skipped = Outcome("pruned", None, ())
                outcomes[proposal.candidate.pipeline_id] = skipped
                self.optimizer.tell(proposal, skipped)
                repeats += 1
                if repeats >= _MAX_REPEATS:
                    state.notes.append(f"stopped: the last {repeats} proposals were all skipped")
                    return "space exhausted"
                continue
            repeats = 0
            if flight is not None:
                self._submit(
                    flight, proposal, outcomes, share, waiting, state, plan, metric, cv, seed, emit
                )
                continue
            outcome = self._intensify(
                runner, state, proposal.candidate, plan, metric, cv, seed, emit
            )
            outcomes[proposal.candidate.pipeline_id] = outcome
            if self._journal is not None:
                self._journal.outcome(proposal.candidate.pipeline_id, outcome)
            self.optimizer.tell(proposal, outcome)
            share.record(family, outcome.stages)
            if _all_failing(state):
                return "every candidate failed"

    def _submit(
        self,
        flight: Any,
        proposal: Any,
        outcomes: dict[str, Outcome],
        share: FamilyShare,
        waiting: dict[str, list[Any]],
        state: SearchState,
        plan: StagePlan,
        metric: Metric,
        cv: int,
        seed: int,
        emit: Callable[..., None],
    ) -> None:
        """Evaluate ``proposal`` in a thread of ``flight`` and tell the optimizer when done."""
        key = proposal.candidate.pipeline_id

        def work(runner: Executor) -> Outcome:
            return self._intensify(runner, state, proposal.candidate, plan, metric, cv, seed, emit)

        def done(outcome: Outcome) -> None:
            outcomes[key] = outcome
            if self._journal is not None:
                self._journal.outcome(key, outcome)
            self.optimizer.tell(proposal, outcome)
            for later in waiting.pop(key, []):
                self.optimizer.tell(later, outcome)
            share.record(proposal.candidate.family, outcome.stages)

        flight.submit(key, work, done)

    def _intensify(
        self,
        runner: Executor,
        state: SearchState,
        candidate: Candidate,
        plan: StagePlan,
        metric: Metric,
        cv: int,
        seed: int,
        emit: Callable[..., None],
    ) -> Outcome:
        scored: list[tuple[int, float]] = []
        n_rows = plan.n_rows
        index = 0
        while index < len(plan.stages):
            stages = plan.stages
            stage = stages[index]
            index += 1
            evaluation = self._evaluate(
                runner, state, candidate, stage, plan.rows[stage.rung], metric, cv, seed
            )
            if not evaluation.ok or evaluation.score is None:
                state.evaluations.append(evaluation)
                state.failures += evaluation.status != "stopped"
                if evaluation.status in ("failed", "crashed", "memory"):
                    state.failures_in_a_row += 1
                emit("evaluation", evaluation)
                if (
                    evaluation.status == "stopped"
                    and state.best is None
                    and stage.rung == 0
                    and state.remaining() > 4 * MIN_SLOT_SECONDS
                ):
                    smaller = plan.shrink()
                    if smaller is not None:
                        state.notes.append(
                            f"nothing completed in time on {stage.rows} rows: candidates now "
                            f"start on {smaller.rows}"
                        )
                        index = 0  # the same candidate again, on the new first stage
                        continue
                return Outcome("pruned" if scored else "failed", None, tuple(scored))
            score = evaluation.score
            state.failures_in_a_row = 0
            scored.append((stage.rung, score))
            if stage is stages[-1]:
                state.evaluations.append(evaluation)
                if (
                    state.best is None
                    or state.best.fidelity.rung < stage.rung
                    or _better(score, state.best.score, metric.higher_is_better)
                ):
                    state.best = evaluation
                    state.history.append((evaluation.finished_seconds, score, evaluation.number))
                emit("evaluation", evaluation)
                if not state.safety_tried:
                    self._builder.keep_safety(runner, state, evaluation, plan, seed)
                return Outcome("complete", score, tuple(scored))
            earlier = state.scores_by_stage.setdefault(stage.rung, [])
            promote = self.fidelity.promote(score, list(earlier), metric.higher_is_better)
            earlier.append(score)
            if promote:
                following = stages[stage.rung + 1]
                projected = evaluation.seconds * following.rows / max(stage.rows, 1)
                budget_left = state.remaining() - reserve_seconds(state, cv, n_rows, self.ensemble)
                if projected > budget_left:
                    promote = False
                    evaluation = replace(
                        evaluation,
                        error=f"not promoted: {following.label} would take ~{projected:.1f} s, "
                        f"{max(budget_left, 0):.1f} s left",
                    )
            evaluation = replace(evaluation, promoted=promote)
            state.evaluations.append(evaluation)
            if state.best is None or (
                state.best.fidelity.rung == stage.rung
                and _better(score, state.best.score, metric.higher_is_better)
            ):
                state.best = evaluation  # nothing at a higher stage yet: best seen so far
            emit("evaluation", evaluation)
            if not state.safety_tried:
                self._builder.keep_safety(runner, state, evaluation, plan, seed)
            if not promote:
                return Outcome("pruned", None, tuple(scored))
        raise AssertionError("unreachable: the last stage returns")

    def _evaluate(
        self,
        runner: Executor,
        state: SearchState,
        candidate: Candidate,
        stage: Fidelity,
        rows: np.ndarray | None,
        metric: Metric,
        cv: int,
        seed: int,
    ) -> Evaluation:
        begun = state.elapsed()
        if state.best is None:
            # nothing to fall back on yet: leave time for this candidate's own refit
            timeout = _FIRST_SHARE * state.remaining()
        else:
            timeout = state.remaining() - reserve_seconds(
                state, cv, len(runner.dataset.frame), self.ensemble
            )
        # one candidate may not eat the search (knowledge-base pipelines with 512 trees and
        # polynomial features exist): past this share of the budget it is stopped
        if state.best is not None:
            timeout = min(timeout, _CANDIDATE_SHARE * state.budget)
        limited_by_fit = False
        max_fit = self.constraints.max_fit_seconds
        if max_fit is not None:
            per_candidate = max_fit * cv + 1.0  # every fold's fit, plus the preprocessing
            if per_candidate < timeout:
                timeout, limited_by_fit = per_candidate, True
        keep = rows is None and (self.ensemble or self.tune_decisions)
        reply = runner.run(
            EvaluateTask(candidate.spec, metric.name, cv, seed, rows, keep_predictions=keep),
            timeout_seconds=timeout,
        )
        finished = state.elapsed()

        def record(
            status: EvaluationStatus,
            error: str | None,
            result: EvaluationResult | None = None,
            duplicate_of: int | None = None,
        ) -> Evaluation:
            return Evaluation(
                number=len(state.evaluations) + 1,
                candidate=candidate,
                fidelity=stage,
                status=status,
                score=result.mean if result is not None else None,
                std=result.std if result is not None else None,
                fold_scores=tuple(result.fold_scores) if result is not None else (),
                fit_seconds=result.fit_seconds if result is not None else None,
                started_seconds=begun,
                finished_seconds=finished,
                cached_folds=result.cached_folds if result is not None else 0,
                error=error,
                duplicate_of=duplicate_of,
            )

        if reply.status == "ok":
            result, predictions = reply.value.result, reply.value.predictions
            state.overheads.append(max(0.0, reply.seconds - result.fit_seconds * result.n_folds))
            if not math.isfinite(result.mean):
                return record("failed", "the score is not a number")
            if max_fit is not None and result.fit_seconds > max_fit:
                too_slow = f"fits took {result.fit_seconds:.1f} s, over the limit of {max_fit:g} s"
                return record("too_slow", too_slow, result)
            state.results.append(result)
            duplicate = None
            if predictions is not None and state.store is not None:
                duplicate = state.store.duplicate_of(predictions)
                if duplicate is None:
                    state.store.add(len(state.evaluations) + 1, result.mean, predictions)
            evaluation = record("ok", None, result, duplicate)
            if rows is None and self._journal is not None:  # on all rows: resumable
                self._journal.evaluation(evaluation, result, predictions)
            return evaluation
        if reply.status == "timeout":
            capped = state.best is not None and timeout >= _CANDIDATE_SHARE * state.budget - 1e-9
            if capped and not limited_by_fit:
                return record(
                    "timeout",
                    f"stopped after {timeout:.1f} s: one candidate may take at most "
                    f"{_CANDIDATE_SHARE:.0%} of the budget",
                )
            if limited_by_fit:
                return record(
                    "timeout", f"stopped after {timeout:.1f} s: over the fit limit of {max_fit:g} s"
                )
            return record(
                "stopped", f"stopped at the end of the budget after {reply.seconds:.1f} s"
            )
        return record(reply.status, reply.message)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job, ``kill``) ends the search as Ctrl-C does: the
    best so far is refitted and returned. Only the main thread can set signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _all_failing(state: SearchState) -> bool:
    """Nothing completed and the last few candidates all failed: say why and stop."""
    if state.best is None and state.failures_in_a_row >= _MAX_FAILURES_IN_A_ROW:
        common = _most_common_error(state.evaluations)
        state.notes.append(
            f"stopped: the last {state.failures_in_a_row} candidates all failed and none "
            f"completed; the most common error: {common}"
        )
        return True
    return False


def _most_common_error(evaluations: Sequence[Evaluation]) -> str:
    """The error most evaluations failed with (ties: the first seen), for one clear message."""
    from collections import Counter

    errors = Counter(e.error for e in evaluations if e.error and e.status != "ok")
    return errors.most_common(1)[0][0] if errors else "unknown"


def _better(score: float, than: float | None, higher_is_better: bool) -> bool:
    if than is None:
        return True
    return score > than if higher_is_better else score < than
