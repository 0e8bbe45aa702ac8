"""The search loop: components combined, run under a wall-clock budget.

Order of work: the constraints are checked (an unsatisfiable one is an error before anything
runs), a quick first candidate is evaluated (so a model exists however short the budget), the
prior is read, the pruner narrows the space, the initial design and then the optimizer propose
candidates, each evaluated stage by stage as the fidelity schedule says, in a worker process
with a deadline. Time for the final refit is held back all along, so the refitted model is
ready within the budget.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
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
from mile_meta.search._clock import MAX_BUDGET_SECONDS
from mile_meta.search._ensemble import EnsembleModel, PredictionStore, plan_ensemble
from mile_meta.search._errors import SearchError
from mile_meta.search._prior import Prior
from mile_meta.search._records import (
    Candidate,
    Cut,
    EnsembleSummary,
    Evaluation,
    EvaluationStatus,
    Fidelity,
    SearchProgress,
)
from mile_meta.search._space import Constraints, constrained_space
from mile_meta.search._worker import (
    CandidateRunner,
    EvaluateTask,
    PriorTask,
    RefitTask,
    WorkerSettings,
    preload_modules,
    unpickle_model,
)

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.kb import KnowledgeBase
    from mile_meta.search._results import SearchResult

__all__ = ["Search", "subsample_rows"]

ProgressCallback = Callable[[SearchProgress], None]

# Below this many seconds left, starting another evaluation is pointless.
_MIN_SLOT_SECONDS = 0.15
# Expected refit time = fit time per fold x rows ratio x this safety factor.
_REFIT_SAFETY = 1.75
# Most of the budget held back for the refit.
_RESERVE_CAP = 0.25
# Share of the budget the refit may run past the end, when it must (the budget holds within 5 %).
_REFIT_GRACE = 0.03
# The prior (meta-features and the meta-learner's ranking) may take this share of the budget.
_PRIOR_SHARE = 0.3
# Most of the budget one evaluation may take.
_CANDIDATE_SHARE = 0.25
# Before any candidate has completed, one evaluation may use at most this share of the time left.
_FIRST_SHARE = 0.6
# The smallest subsample a search falls back to when even its first stage takes too long.
_EMERGENCY_ROWS = 100
# After this many proposals in a row that were already evaluated, the space is used up.
_MAX_REPEATS = 50
# With nothing completed, this many failed evaluations in a row end the search: the data (or
# the environment) makes every candidate fail, and retrying only burns the budget.
_MAX_FAILURES_IN_A_ROW = 8
# The ensemble's members are refitted too: the reserve covers this many of the best.
_ENSEMBLE_RESERVE_MEMBERS = 3
# Rows of the smallest class a subsample keeps per fold, so a rare class is still scored fairly.
_MIN_CLASS_ROWS_PER_FOLD = 10


def subsample_rows(target: Any, rows: int, seed: int, min_per_class: int = 0) -> np.ndarray:
    """Sorted positions of a random subsample of ``rows`` rows (stratified for classes), with
    at least ``min_per_class`` rows of every class (so cross-validation can split it)."""
    generator = np.random.default_rng(seed)
    n = len(target)
    if rows >= n:
        return np.arange(n)
    if min_per_class <= 0:
        return np.sort(generator.choice(n, size=rows, replace=False))
    labels = np.asarray(target)
    chosen: list[np.ndarray] = []
    classes, counts = np.unique(labels, return_counts=True)
    for label, count in zip(classes, counts, strict=True):
        members = np.flatnonzero(labels == label)
        share = max(min(min_per_class, count), round(rows * count / n))
        chosen.append(generator.choice(members, size=min(share, count), replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class _State:
    """What the loop has learned so far (mutable, private to one run)."""

    started: float
    budget: float
    evaluations: list[Evaluation]
    results: list[EvaluationResult]
    scores_by_stage: dict[int, list[float]]
    history: list[tuple[float, float, int]]
    notes: list[str]
    best: Evaluation | None = None
    failures: int = 0
    # seconds a task spends outside the fits (sending, scheduling, scoring): the refit pays it too
    overheads: list[float] = field(default_factory=list)
    max_evaluations: int | None = None
    # the first completed candidate, fitted at once: returned if the best cannot be refitted
    safety: tuple[Evaluation, Any, float, int, int] | None = None
    safety_tried: bool = False
    # out-of-fold predictions of the candidates evaluated on all rows (ensemble, decisions)
    store: PredictionStore | None = None
    failures_in_a_row: int = 0
    ensemble: EnsembleSummary | None = None

    def overhead(self) -> float:
        return max(self.overheads[-3:], default=0.2)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.budget - self.elapsed()


@dataclass
class _Plan:
    """The fidelity stages of one run and the rows each uses (None = all rows).

    When nothing has completed and an evaluation on the smallest stage runs out of time, a
    stage a quarter that size is put in front (down to ``_EMERGENCY_ROWS`` rows), so a slow
    machine or an expensive dataset still yields a model.
    """

    stages: tuple[Fidelity, ...]
    rows: dict[int, np.ndarray | None]
    dataset: Dataset
    seed: int
    cv: int

    @classmethod
    def build(cls, stages: tuple[Fidelity, ...], dataset: Dataset, seed: int, cv: int) -> _Plan:
        plan = cls(stages, {}, dataset, seed, cv)
        plan.rows = {stage.rung: plan._rows_for(stage.rows) for stage in stages}
        return plan

    def _rows_for(self, rows: int) -> np.ndarray | None:
        if rows >= len(self.dataset.frame):
            return None
        # a fold of a subsample must hold enough rows of a rare class for a fair score (trees
        # scored on 31 positives of 616 rows were dropped at a balanced accuracy of 0.5)
        classes = (
            0 if self.dataset.task_type == "regression" else self.cv * _MIN_CLASS_ROWS_PER_FOLD
        )
        return subsample_rows(self.dataset.target, rows, self.seed, min_per_class=classes)

    @property
    def n_rows(self) -> int:
        return self.stages[-1].rows

    def shrink(self) -> Fidelity | None:
        """Put a smaller first stage in front; None when the first is small enough already."""
        rows = self.stages[0].rows // 4
        if rows < _EMERGENCY_ROWS:
            return None
        first = Fidelity(0, rows, rows / self.n_rows, None)
        shifted = tuple(replace(stage, rung=stage.rung + 1) for stage in self.stages)
        self.rows = {
            0: self._rows_for(rows),
            **{s.rung + 1: self.rows[s.rung] for s in self.stages},
        }
        self.stages = (first, *shifted)
        return first


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

    # -- public: validate, then run --------------------------------------------------------
    def run(
        self,
        dataset: Dataset,
        *,
        budget_seconds: float,
        metric: str | None = None,
        kb: KnowledgeBase | None = None,
        seed: int = 0,
        exclude_datasets: Sequence[str | int] = (),
        progress: ProgressCallback | None = None,
        record: bool = True,
        max_evaluations: int | None = None,
        clock_start: float | None = None,
    ) -> SearchResult:
        """Search for ``budget_seconds`` (the refitted model included) and return the result.

        ``kb`` gives the prior and receives the runs (as local runs, with ``record``);
        ``exclude_datasets`` are knowledge-base datasets the prior must not use;
        ``max_evaluations`` stops the search earlier, after that many evaluations;
        ``clock_start`` (a ``time.perf_counter()`` value, default now) is when the user's clock
        started: the time before this call (start-up, reading the data) counts against the
        budget.
        """
        if not budget_seconds or not math.isfinite(budget_seconds) or budget_seconds < 1:
            raise SearchError(f"the budget must be at least 1 s, got {budget_seconds!r}")
        if budget_seconds > MAX_BUDGET_SECONDS:
            raise SearchError(
                f"a budget of {budget_seconds:,.0f} s is over the limit of "
                f"{MAX_BUDGET_SECONDS / 86400:.0f} days; pass a shorter --budget"
            )
        if max_evaluations is not None and max_evaluations < 1:
            raise SearchError(f"max_evaluations must be at least 1, got {max_evaluations}")
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
        if kb is not None:
            # a mistyped dataset name would leak the dataset it meant into the prior
            from mile_meta.recommend import resolve_exclusions

            exclude_datasets = resolve_exclusions(kb, exclude_datasets)
        preload_modules()  # a one-off import cost of the process, not of this search
        self.fidelity.prepare(kb)  # one-off per knowledge base, cached
        started = time.perf_counter() if clock_start is None else clock_start
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
                seed=seed,
                exclude_datasets=exclude_datasets,
                progress=progress,
                record=record,
                max_evaluations=max_evaluations,
            )

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

        state = _State(started, budget, [], [], {}, [], [], max_evaluations=max_evaluations)
        state.store = PredictionStore(metric.higher_is_better)
        emit = self._emitter(progress, state, metric)
        stopped_because = "budget"
        interrupted = False
        estimator = None
        final: Evaluation | None = None
        refit_seconds = refit_rows = model_bytes = None
        initial: tuple[Candidate, ...] = ()
        plan: _Plan | None = None
        prior: Prior | None = None
        prior_cuts: tuple[Cut, ...] = ()
        settings = self.worker or WorkerSettings(max_memory_bytes=self.constraints.max_memory_bytes)
        with CandidateRunner(dataset, settings) as runner:
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
                )
                plan = _Plan.build(
                    self.fidelity.rungs(len(dataset.frame), context), dataset, seed, cv
                )
                outcomes: dict[str, Outcome] = {}
                quick = self.initial_design.first(space, context)
                if quick is not None:  # a model exists early, however short the budget
                    emit("quick start")
                    outcomes[quick.pipeline_id] = self._intensify(
                        runner, state, quick, plan, metric, cv, seed, emit
                    )
                emit("prior")
                prior = self._prior(runner, state, kb, metric, exclude_datasets)
                context = replace(context, prior=prior)
                space, prior_cuts = self.pruner.prune(space, context)
                initial = self.initial_design.select(space, context)
                if quick is not None and quick.pipeline_id not in {c.pipeline_id for c in initial}:
                    initial = (quick, *initial)
                self.optimizer.start(space, context, initial)
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
                    refitted = self._refit_ensemble(
                        runner, state, seed, interrupted, len(dataset.frame), metric
                    )
                    if refitted is None:
                        refitted = self._refit(
                            runner,
                            state,
                            plan,
                            seed,
                            interrupted,
                            len(dataset.frame),
                            metric.higher_is_better,
                        )
                    final, estimator, refit_seconds, refit_rows, model_bytes = refitted
            except KeyboardInterrupt:
                interrupted = True
                stopped_because = "interrupted"
                state.notes.append("interrupted again during the refit: no fitted model")
            elapsed = state.elapsed()
        result = SearchResult(
            estimator=estimator,
            best=final,
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
            refit_seconds=refit_seconds,
            refit_rows=refit_rows,
            model_bytes=model_bytes,
            stopped_because=stopped_because,
            interrupted=interrupted,
            notes=tuple(state.notes),
            preset=self.name,
            prior_seconds=prior.seconds if prior is not None else None,
            searched_estimators=space.estimator_names,
            evaluation_results=tuple(state.results),
            ensemble=state.ensemble,
        )
        if record and kb is not None and state.results:
            from mile_meta.evaluate import record_local_runs

            record_local_runs(kb, dataset, list(state.results))
        emit("done", result.best)
        return result

    def _prior(
        self,
        runner: CandidateRunner,
        state: _State,
        kb: KnowledgeBase | None,
        metric: Metric,
        exclude_datasets: Sequence[str | int],
    ) -> Prior | None:
        """The prior, read in the worker so a slow read cannot overrun the budget."""
        if not self.use_prior:
            return None
        if kb is None:
            state.notes.append("no prior: no knowledge base given")
            return None
        # never past the budget: a late start (a slow machine, a slow start-up) leaves less
        limit = min(_PRIOR_SHARE * state.budget, state.remaining() - 0.1 * state.budget)
        if limit < _MIN_SLOT_SECONDS:
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
        prior: Prior | None
        prior, note = reply.value
        state.notes.append(note + f" (read in {reply.seconds:.1f} s)")
        return prior

    def _emitter(
        self, progress: ProgressCallback | None, state: _State, metric: Metric
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

    def _refit_estimate(self, evaluation: Evaluation, rows: int, cv: int) -> float:
        """Seconds to fit ``evaluation``'s pipeline on ``rows`` rows, from its fold fits."""
        train_rows = max(1.0, evaluation.fidelity.rows * (cv - 1) / cv)
        per_fold = evaluation.fit_seconds or evaluation.seconds
        return per_fold * (rows / train_rows) * _REFIT_SAFETY + 0.3

    def _reserve(self, state: _State, cv: int, n_rows: int) -> float:
        if state.best is None:
            return 0.02 * state.budget
        # a slow best must not stall the search: past the cap the refit uses fewer rows
        expected = self._refit_estimate(state.best, n_rows, cv) + state.overhead()
        if self.ensemble and state.store is not None and len(state.store) > 1:
            by_number = {e.number: e for e in state.evaluations}
            top = [
                by_number[s.number]
                for s in state.store.best(_ENSEMBLE_RESERVE_MEMBERS)
                if s.number in by_number
            ]
            expected = max(
                expected,
                sum(self._refit_estimate(e, n_rows, cv) + state.overhead() for e in top),
            )
        return min(expected, _RESERVE_CAP * state.budget)

    def _loop(
        self,
        runner: CandidateRunner,
        state: _State,
        plan: _Plan,
        metric: Metric,
        cv: int,
        seed: int,
        emit: Callable[..., None],
        n_initial: int,
        outcomes: dict[str, Outcome],
    ) -> str:
        repeats = 0
        asked = 0
        n_rows = plan.n_rows
        while True:
            if state.remaining() - self._reserve(state, cv, n_rows) < _MIN_SLOT_SECONDS:
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
            known = outcomes.get(proposal.candidate.pipeline_id)
            if known is not None:  # proposed before: tell the same outcome, evaluate nothing
                self.optimizer.tell(proposal, known)
                repeats += 1
                if repeats >= _MAX_REPEATS:
                    state.notes.append(f"stopped: the last {repeats} proposals were all repeats")
                    return "space exhausted"
                continue
            repeats = 0
            outcome = self._intensify(
                runner, state, proposal.candidate, plan, metric, cv, seed, emit
            )
            outcomes[proposal.candidate.pipeline_id] = outcome
            self.optimizer.tell(proposal, outcome)
            if state.best is None and state.failures_in_a_row >= _MAX_FAILURES_IN_A_ROW:
                common = _most_common_error(state.evaluations)
                state.notes.append(
                    f"stopped: the last {state.failures_in_a_row} candidates all failed and none "
                    f"completed; the most common error: {common}"
                )
                return "every candidate failed"

    def _intensify(
        self,
        runner: CandidateRunner,
        state: _State,
        candidate: Candidate,
        plan: _Plan,
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
                    and state.remaining() > 4 * _MIN_SLOT_SECONDS
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
                    self._keep_safety(runner, state, evaluation, plan, seed)
                return Outcome("complete", score, tuple(scored))
            earlier = state.scores_by_stage.setdefault(stage.rung, [])
            promote = self.fidelity.promote(score, list(earlier), metric.higher_is_better)
            earlier.append(score)
            if promote:
                following = stages[stage.rung + 1]
                projected = evaluation.seconds * following.rows / max(stage.rows, 1)
                budget_left = state.remaining() - self._reserve(state, cv, n_rows)
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
                self._keep_safety(runner, state, evaluation, plan, seed)
            if not promote:
                return Outcome("pruned", None, tuple(scored))
        raise AssertionError("unreachable: the last stage returns")

    def _evaluate(
        self,
        runner: CandidateRunner,
        state: _State,
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
            timeout = state.remaining() - self._reserve(state, cv, len(runner.dataset.frame))
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
            return record("ok", None, result, duplicate)
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

    def _last_resort(
        self, runner: CandidateRunner, state: _State, plan: _Plan, seed: int
    ) -> tuple[Evaluation | None, Any, float | None, int | None, int | None]:
        """Nothing completed in time (a tiny budget, a busy machine): fit the first candidate
        the budget stopped, unscored, on the smallest stage, so there is still a model."""
        stopped = [e for e in state.evaluations if e.status == "stopped"]
        if not stopped:
            state.notes.append("no candidate completed: nothing to refit")
            return None, None, None, None, None
        evaluation = stopped[0]
        left = max(state.remaining(), 0.0) + _REFIT_GRACE * state.budget
        rows = plan.rows[0]
        reply = runner.run(RefitTask(evaluation.candidate.spec, seed, rows), timeout_seconds=left)
        if reply.status != "ok":
            state.notes.append(
                f"no candidate completed, and the last-resort fit failed ({reply.message})"
            )
            return None, None, None, None, None
        payload, seconds = reply.value
        used = plan.stages[0].rows
        state.notes.append(
            f"no candidate completed in time: {evaluation.candidate.spec.describe()} was fitted "
            f"on {used} rows without a score; give the search more time"
        )
        return evaluation, unpickle_model(payload), seconds, used, len(payload)

    def _refit(
        self,
        runner: CandidateRunner,
        state: _State,
        plan: _Plan,
        seed: int,
        interrupted: bool,
        n_rows: int,
        higher_is_better: bool,
    ) -> tuple[Evaluation | None, Any, float | None, int | None, int | None]:
        """Fit the best pipeline on all rows, or the next best when it cannot be done in time
        or is over the size limit; with little time left, on the largest stage that fits."""
        done = [e for e in state.evaluations if e.status == "ok" and e.score is not None]
        if not done:
            return self._last_resort(runner, state, plan, seed)
        top = max(e.fidelity.rung for e in done)
        ranked = sorted(
            (e for e in done if e.fidelity.rung == top),
            key=lambda e: (-(e.score or 0) if higher_is_better else (e.score or 0), e.number),
        )
        cv = max(2, len(ranked[0].fold_scores))
        max_bytes = self.constraints.max_model_bytes
        for evaluation in ranked[:5]:
            left = state.remaining() + _REFIT_GRACE * state.budget
            if interrupted:
                left = max(left, 2 * self._refit_estimate(evaluation, n_rows, cv) + 1)
            if left <= _MIN_SLOT_SECONDS:
                break
            safe = state.safety
            if safe is not None and safe[0].candidate == evaluation.candidate and safe[3] == n_rows:
                return safe  # fitted on all rows already
            rows: np.ndarray | None = None
            used = n_rows
            expected = self._refit_estimate(evaluation, n_rows, cv) + state.overhead()
            if expected > left:
                # too little time for all rows: the largest stage (or share of rows) that fits
                fitting = [
                    s
                    for s in plan.stages[:-1]
                    if self._refit_estimate(evaluation, s.rows, cv) <= left
                ]
                if fitting:
                    used, rows = fitting[-1].rows, plan.rows[fitting[-1].rung]
                else:
                    used = max(min(n_rows, 200), int(n_rows * left / expected))
                    rows = subsample_rows(
                        runner.dataset.target,
                        used,
                        seed,
                        min_per_class=0 if runner.dataset.task_type == "regression" else 1,
                    )
                state.notes.append(f"refitted on {used} of {n_rows} rows to keep the budget")
            reply = runner.run(
                RefitTask(evaluation.candidate.spec, seed, rows), timeout_seconds=max(left, 0.05)
            )
            if reply.status != "ok":
                state.notes.append(
                    f"refit of {evaluation.candidate.spec.describe()} failed ({reply.message}); "
                    "trying the next best"
                )
                continue
            payload, seconds = reply.value
            if max_bytes is not None and len(payload) > max_bytes:
                state.notes.append(
                    f"{evaluation.candidate.spec.describe()} is {len(payload):,} bytes, over the "
                    f"limit of {max_bytes:,}; trying the next best"
                )
                continue
            return evaluation, unpickle_model(payload), seconds, used, len(payload)
        if state.safety is not None:
            safe = state.safety
            state.notes.append(
                f"the best could not be refitted in time: returning {safe[0].candidate.spec.describe()}, "
                f"fitted on {safe[3]} rows when it completed"
            )
            return safe
        return None, None, None, None, None

    def _refit_ensemble(
        self,
        runner: CandidateRunner,
        state: _State,
        seed: int,
        interrupted: bool,
        n_rows: int,
        metric: Metric,
    ) -> tuple[Evaluation | None, Any, float | None, int | None, int | None] | None:
        """Refit the ensemble (or the best pipeline with its tuned decision) planned on the
        out-of-fold predictions; None leaves the final model to :meth:`_refit`."""
        if state.store is None or not len(state.store):
            return None
        dataset = runner.dataset
        classes = None if dataset.task_type == "regression" else np.unique(dataset.target)
        y = (
            np.asarray(dataset.target, dtype=float)
            if classes is None
            else np.searchsorted(classes, np.asarray(dataset.target))
        )
        by_number = {e.number: e for e in state.evaluations}
        planned = plan_ensemble(
            state.store,
            y,
            metric.name,
            metric.higher_is_better,
            ensemble=self.ensemble,
            tune=self.tune_decisions and classes is not None,
            allowed=lambda number: number in by_number,
        )
        if planned is None or (not planned.is_ensemble and planned.decision is None):
            return None
        cv = self._resolve_cv(n_rows, dataset)
        max_bytes = self.constraints.max_model_bytes
        fitted: list[tuple[int, float, Any, float, int]] = []
        for member in planned.members:  # heaviest first: a member left out costs the least
            evaluation = by_number[member.number]
            left = state.remaining() + _REFIT_GRACE * state.budget
            expected = self._refit_estimate(evaluation, n_rows, cv) + state.overhead()
            if interrupted:
                left = max(left, 2 * expected + 1)
            if expected > left or left <= _MIN_SLOT_SECONDS:
                state.notes.append(
                    f"ensemble member #{member.number} left out: its refit (~{expected:.1f} s) "
                    f"does not fit in the {max(left, 0):.1f} s left"
                )
                continue
            reply = runner.run(
                RefitTask(evaluation.candidate.spec, seed, None), timeout_seconds=left
            )
            if reply.status != "ok":
                state.notes.append(
                    f"ensemble member #{member.number} left out: its refit failed ({reply.message})"
                )
                continue
            payload, seconds = reply.value
            used = sum(f[4] for f in fitted)
            if max_bytes is not None and used + len(payload) > max_bytes:
                state.notes.append(
                    f"ensemble member #{member.number} left out: the model would be over "
                    f"{max_bytes:,} bytes"
                )
                continue
            fitted.append(
                (member.number, member.weight, unpickle_model(payload), seconds, len(payload))
            )
        if not fitted:
            return None
        weights = [f[1] for f in fitted]
        total = sum(weights)
        decision = planned.decision
        if len(fitted) < len(planned.members):
            # some members left out: the decision was tuned for the whole ensemble
            decision = None if len(fitted) > 1 or planned.is_ensemble else decision
        model = EnsembleModel(
            [f[2] for f in fitted],
            [w / total for w in weights],
            dataset.task_type,
            classes=classes,
            decision=decision,
        )
        state.ensemble = EnsembleSummary(
            members=tuple(
                (f[0], by_number[f[0]].candidate.spec.describe(), f[1] / total) for f in fitted
            ),
            score=planned.score,
            single_score=planned.single_score,
            decision=decision.describe() if decision is not None else None,
        )
        if len(fitted) > 1:
            state.notes.append(
                f"final model: an ensemble of {len(fitted)} pipelines (greedy selection on "
                f"out-of-fold predictions), out-of-fold {metric.name} {planned.score:.4f} "
                f"against {planned.single_score:.4f} for the best single pipeline"
            )
        if decision is not None:
            state.notes.append(
                f"predict applies {decision.describe()}, tuned for {metric.name} on out-of-fold "
                f"predictions (+{decision.gain:.4f} over the most probable class)"
            )
        top = by_number[fitted[0][0]]
        return top, model, sum(f[3] for f in fitted), n_rows, sum(f[4] for f in fitted)

    def _keep_safety(
        self, runner: CandidateRunner, state: _State, evaluation: Evaluation, plan: _Plan, seed: int
    ) -> None:
        """Fit the first completed candidate at once (on the rows it was scored on), so a model
        exists whatever happens to the final refit."""
        state.safety_tried = True
        rows = plan.rows.get(evaluation.fidelity.rung)
        reply = runner.run(
            RefitTask(evaluation.candidate.spec, seed, rows),
            timeout_seconds=max(0.25 * state.remaining(), _MIN_SLOT_SECONDS),
        )
        if reply.status != "ok":
            return
        payload, seconds = reply.value
        limit = self.constraints.max_model_bytes
        if limit is None or len(payload) <= limit:
            state.safety = (
                evaluation,
                unpickle_model(payload),
                seconds,
                evaluation.fidelity.rows,
                len(payload),
            )


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


def _most_common_error(evaluations: Sequence[Evaluation]) -> str:
    """The error most evaluations failed with (ties: the first seen), for one clear message."""
    from collections import Counter

    errors = Counter(e.error for e in evaluations if e.error and e.status != "ok")
    return errors.most_common(1)[0][0] if errors else "unknown"


def _better(score: float, than: float | None, higher_is_better: bool) -> bool:
    if than is None:
        return True
    return score > than if higher_is_better else score < than
