"""The final model: refit the best pipeline, or the ensemble planned on out-of-fold predictions,
within what is left of the budget.

Order of preference: the ensemble (or the best pipeline with its decision tuned to the metric)
refitted on all rows; else the best pipelines one by one, on fewer rows when time is short;
else the first completed candidate, fitted when it completed (the "safety" model); else, when
nothing completed, the first candidate the budget stopped, fitted unscored on the smallest stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mile_meta.metrics import Metric
from mile_meta.search._budget import (
    MIN_SLOT_SECONDS,
    REFIT_GRACE,
    SearchState,
    refit_estimate,
)
from mile_meta.search._ensemble import EnsembleModel, plan_ensemble
from mile_meta.search._executor import Executor
from mile_meta.search._records import EnsembleSummary, Evaluation
from mile_meta.search._space import Constraints
from mile_meta.search._stages import StagePlan, subsample_rows
from mile_meta.search._worker import RefitTask, unpickle_model

__all__ = ["FinalModel", "FinalModelBuilder"]

# With nothing completed, the last-resort fit may overrun the budget by this share (at most 3 s).
_LAST_RESORT_GRACE = 0.1


@dataclass(frozen=True)
class FinalModel:
    """A fitted model and how it was made: the ``evaluation`` behind it (the heaviest member of
    an ensemble), seconds to refit, rows used and pickled size in bytes."""

    evaluation: Evaluation
    estimator: Any
    refit_seconds: float
    rows: int
    model_bytes: int


class FinalModelBuilder:
    """Builds the final model of one search run (``cv`` folds; constraints for size limits)."""

    def __init__(
        self, constraints: Constraints, cv: int, *, ensemble: bool, tune_decisions: bool
    ) -> None:
        self.constraints = constraints
        self.cv = cv
        self.ensemble = ensemble
        self.tune_decisions = tune_decisions

    def build(
        self,
        runner: Executor,
        state: SearchState,
        plan: StagePlan,
        seed: int,
        interrupted: bool,
        n_rows: int,
        metric: Metric,
    ) -> FinalModel | None:
        """The final model, or None when nothing could be fitted."""
        final = self.refit_ensemble(runner, state, seed, interrupted, n_rows, metric)
        if final is None:
            final = self.refit_best(
                runner, state, plan, seed, interrupted, n_rows, metric.higher_is_better
            )
        return final

    def last_resort(
        self, runner: Executor, state: SearchState, plan: StagePlan, seed: int
    ) -> FinalModel | None:
        """Nothing completed in time (a tiny budget, a busy machine): fit the first candidate
        the budget stopped, unscored, on the smallest stage, so there is still a model."""
        stopped = [e for e in state.evaluations if e.status == "stopped"]
        if not stopped:
            state.notes.append("no candidate completed: nothing to refit")
            return None
        evaluation = stopped[0]
        # a model late beats no model: this fit may run past the budget by a little more than
        # a refit may (on a busy machine, start-up alone can eat a short budget)
        left = max(state.remaining(), 0.0) + max(
            REFIT_GRACE * state.budget, min(_LAST_RESORT_GRACE * state.budget, 3.0)
        )
        rows = plan.rows[0]
        reply = runner.run(RefitTask(evaluation.candidate.spec, seed, rows), timeout_seconds=left)
        if reply.status != "ok":
            state.notes.append(
                f"no candidate completed, and the last-resort fit failed ({reply.message})"
            )
            return None
        payload, seconds = reply.value
        used = plan.stages[0].rows
        state.notes.append(
            f"no candidate completed in time: {evaluation.candidate.spec.describe()} was fitted "
            f"on {used} rows without a score; give the search more time"
        )
        return FinalModel(evaluation, unpickle_model(payload), seconds, used, len(payload))

    def refit_best(
        self,
        runner: Executor,
        state: SearchState,
        plan: StagePlan,
        seed: int,
        interrupted: bool,
        n_rows: int,
        higher_is_better: bool,
    ) -> FinalModel | None:
        """Fit the best pipeline on all rows, or the next best when it cannot be done in time
        or is over the size limit; with little time left, on the largest stage that fits."""
        done = [e for e in state.evaluations if e.status == "ok" and e.score is not None]
        if not done:
            return self.last_resort(runner, state, plan, seed)
        top = max(e.fidelity.rung for e in done)
        ranked = sorted(
            (e for e in done if e.fidelity.rung == top),
            key=lambda e: (-(e.score or 0) if higher_is_better else (e.score or 0), e.number),
        )
        cv = max(2, len(ranked[0].fold_scores))
        max_bytes = self.constraints.max_model_bytes
        for evaluation in ranked[:5]:
            left = state.remaining() + REFIT_GRACE * state.budget
            if interrupted:
                left = max(left, 2 * refit_estimate(evaluation, n_rows, cv) + 1)
            if left <= MIN_SLOT_SECONDS:
                break
            safe = state.safety
            if (
                safe is not None
                and safe.evaluation.candidate == evaluation.candidate
                and safe.rows == n_rows
            ):
                return safe  # fitted on all rows already
            rows: np.ndarray | None = None
            used = n_rows
            expected = refit_estimate(evaluation, n_rows, cv) + state.overhead()
            if expected > left:
                # too little time for all rows: the largest stage (or share of rows) that fits
                fitting = [
                    s for s in plan.stages[:-1] if refit_estimate(evaluation, s.rows, cv) <= left
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
            return FinalModel(evaluation, unpickle_model(payload), seconds, used, len(payload))
        if state.safety is not None:
            safe = state.safety
            state.notes.append(
                f"the best could not be refitted in time: returning {safe.evaluation.candidate.spec.describe()}, "
                f"fitted on {safe.rows} rows when it completed"
            )
            return safe
        return None

    def refit_ensemble(
        self,
        runner: Executor,
        state: SearchState,
        seed: int,
        interrupted: bool,
        n_rows: int,
        metric: Metric,
    ) -> FinalModel | None:
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
        cv = self.cv
        max_bytes = self.constraints.max_model_bytes
        fitted: list[tuple[int, float, Any, float, int]] = []
        for member in planned.members:  # heaviest first: a member left out costs the least
            evaluation = by_number[member.number]
            left = state.remaining() + REFIT_GRACE * state.budget
            expected = refit_estimate(evaluation, n_rows, cv) + state.overhead()
            if interrupted:
                left = max(left, 2 * expected + 1)
            if expected > left or left <= MIN_SLOT_SECONDS:
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
        return FinalModel(top, model, sum(f[3] for f in fitted), n_rows, sum(f[4] for f in fitted))

    def keep_safety(
        self,
        runner: Executor,
        state: SearchState,
        evaluation: Evaluation,
        plan: StagePlan,
        seed: int,
    ) -> None:
        """Fit the first completed candidate at once (on the rows it was scored on), so a model
        exists whatever happens to the final refit."""
        state.safety_tried = True
        rows = plan.rows.get(evaluation.fidelity.rung)
        reply = runner.run(
            RefitTask(evaluation.candidate.spec, seed, rows),
            timeout_seconds=max(0.25 * state.remaining(), MIN_SLOT_SECONDS),
        )
        if reply.status != "ok":
            return
        payload, seconds = reply.value
        limit = self.constraints.max_model_bytes
        if limit is None or len(payload) <= limit:
            state.safety = FinalModel(
                evaluation,
                unpickle_model(payload),
                seconds,
                evaluation.fidelity.rows,
                len(payload),
            )
