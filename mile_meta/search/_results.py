"""What a search returns: the fitted model, the leaderboard and everything behind them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mile_meta.search._records import Candidate, Cut, EnsembleSummary, Evaluation, Fidelity

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.pipelines import PipelineSpec

__all__ = ["SearchResult"]

_STATUS_ORDER = {
    "ok": 0,
    "too_slow": 1,
    "stopped": 2,
    "timeout": 3,
    "memory": 4,
    "crashed": 5,
    "failed": 6,
}


def _clean(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf) as None, so it is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The outcome of one search.

    ``estimator`` is the best pipeline refitted on the data (a fitted scikit-learn
    ``Pipeline``; None if nothing completed), ``best`` the evaluation behind it,
    ``leaderboard`` one row per pipeline tried. Times are seconds from the start of the search;
    ``elapsed_seconds`` covers everything up to the fitted model (recording in the knowledge
    base and writing files come after).
    """

    estimator: Any
    best: Evaluation | None
    evaluations: tuple[Evaluation, ...]
    cuts: tuple[Cut, ...]
    initial_design: tuple[Candidate, ...]
    fidelities: tuple[Fidelity, ...]
    history: tuple[tuple[float, float, int], ...]  # (seconds, best score, evaluation number)
    metric: str
    higher_is_better: bool
    dataset_name: str
    dataset_id: str
    task_type: str
    n_rows: int
    seed: int
    cv: int
    budget_seconds: float
    elapsed_seconds: float
    refit_seconds: float | None
    refit_rows: int | None
    model_bytes: int | None
    stopped_because: str
    interrupted: bool
    notes: tuple[str, ...]
    preset: str
    prior_seconds: float | None = None
    searched_estimators: tuple[str, ...] = ()
    evaluation_results: tuple[EvaluationResult, ...] = field(default=(), repr=False)
    ensemble: EnsembleSummary | None = None
    # names its runs in the knowledge base: `mile-meta kb forget-runs --search <search_id>`
    search_id: str = ""

    @property
    def most_common_error(self) -> str | None:
        """The error most failed evaluations gave (None if none failed)."""
        from collections import Counter

        errors = Counter(e.error for e in self.evaluations if e.error and e.status != "ok")
        return errors.most_common(1)[0][0] if errors else None

    # -- views -------------------------------------------------------------------------------
    @property
    def spec(self) -> PipelineSpec | None:
        return self.best.candidate.spec if self.best is not None else None

    @property
    def best_score(self) -> float | None:
        return self.best.score if self.best is not None else None

    def evaluations_frame(self) -> pd.DataFrame:
        """One row per evaluation (a pipeline evaluated at two fidelities has two rows)."""
        return pd.DataFrame([self._row(e) for e in self.evaluations], columns=_COLUMNS[1:])

    @property
    def leaderboard(self) -> pd.DataFrame:
        """One row per pipeline, at the highest fidelity it reached, best first."""
        last: dict[str, Evaluation] = {}
        for evaluation in self.evaluations:
            last[evaluation.candidate.pipeline_id] = evaluation
        rows = [self._row(e) for e in last.values()]
        frame = pd.DataFrame(rows, columns=_COLUMNS[1:])
        if frame.empty:
            return pd.DataFrame(columns=_COLUMNS)
        sign = -1.0 if self.higher_is_better else 1.0
        frame["_status"] = frame["status"].map(_STATUS_ORDER)
        frame["_score"] = frame["score"].astype(float) * sign
        frame = frame.sort_values(
            ["_status", "stage", "_score", "number"],
            ascending=[True, False, True, True],
            na_position="last",
        )
        frame = frame.drop(columns=["_status", "_score"]).reset_index(drop=True)
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame

    def _row(self, evaluation: Evaluation) -> dict[str, Any]:
        candidate = evaluation.candidate
        return {
            "number": evaluation.number,
            "pipeline_id": candidate.pipeline_id,
            "estimator": candidate.estimator,
            "family": candidate.family,
            "description": candidate.spec.describe(),
            "score": evaluation.score,
            "std": evaluation.std,
            "fit_seconds": evaluation.fit_seconds,
            "stage": evaluation.fidelity.rung,
            "rows": evaluation.fidelity.rows,
            "fidelity": evaluation.fidelity.label,
            "status": evaluation.status,
            "promoted": evaluation.promoted,
            "origin": candidate.origin,
            "reason": candidate.reason,
            "finished_seconds": evaluation.finished_seconds,
            "error": evaluation.error,
            "duplicate_of": evaluation.duplicate_of,
            "ensemble_weight": self._weights().get(evaluation.number),
        }

    def _weights(self) -> dict[int, float]:
        if self.ensemble is None:
            return {}
        return {number: weight for number, _, weight in self.ensemble.members}

    # -- output ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (no model): settings, best pipeline, cuts, notes, leaderboard."""
        best = self.best
        summary = {
            "search_id": self.search_id,
            "preset": self.preset,
            "dataset": self.dataset_name,
            "dataset_id": self.dataset_id,
            "task_type": self.task_type,
            "n_rows": self.n_rows,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "seed": self.seed,
            "cv": self.cv,
            "budget_seconds": self.budget_seconds,
            "elapsed_seconds": self.elapsed_seconds,
            "prior_seconds": self.prior_seconds,
            "stopped_because": self.stopped_because,
            "interrupted": self.interrupted,
            "evaluations": len(self.evaluations),
            "failures": sum(e.status not in ("ok", "stopped") for e in self.evaluations),
            "best": None
            if best is None
            else {
                "pipeline_id": best.candidate.pipeline_id,
                "description": best.candidate.spec.describe(),
                "spec": best.candidate.spec.to_dict(),
                "score": best.score,
                "std": best.std,
                "fidelity": best.fidelity.label,
                "reason": best.candidate.reason,
            },
            "refit_seconds": self.refit_seconds,
            "refit_rows": self.refit_rows,
            "model_bytes": self.model_bytes,
            "fidelities": [
                {
                    "stage": f.rung,
                    "rows": f.rows,
                    "fraction": f.fraction,
                    "rank_agreement": f.rank_agreement,
                }
                for f in self.fidelities
            ],
            "searched_estimators": list(self.searched_estimators),
            "cuts": [
                {
                    "kind": c.kind,
                    "target": c.target,
                    "reason": c.reason,
                    "source": c.source,
                    "before": c.before,
                    "after": c.after,
                }
                for c in self.cuts
            ],
            "initial_design": [
                {"pipeline_id": c.pipeline_id, "description": c.spec.describe(), "reason": c.reason}
                for c in self.initial_design
            ],
            "history": [{"seconds": s, "score": v, "evaluation": n} for s, v, n in self.history],
            "final_model": None
            if self.ensemble is None
            else {
                "members": [
                    {"evaluation": n, "description": d, "weight": w}
                    for n, d, w in self.ensemble.members
                ],
                "out_of_fold_score": self.ensemble.score,
                "best_single_out_of_fold_score": self.ensemble.single_score,
                "decision": self.ensemble.decision,
            },
            "notes": list(self.notes),
            "leaderboard": self.leaderboard.to_dict(orient="records"),
        }
        return _clean(summary)

    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write ``model.joblib``, ``spec.json``, ``leaderboard.csv``, ``search.json`` and
        ``report.html`` into ``folder``; returns their paths.

        Each file is written beside its place and moved in, so a reader never sees half a
        file; a model and spec left by an earlier search in the same folder are removed when
        this one has none, so the folder never mixes two searches.
        """
        from mile_meta.deploy import current_environment, environment_of, save_model
        from mile_meta.search._report import render_report

        target = Path(folder).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        environment = (
            environment_of(self.estimator) if self.estimator is not None else current_environment()
        )
        if self.estimator is not None and self.best is not None:
            spec = {
                "pipeline_id": self.best.candidate.pipeline_id,
                "spec": self.best.candidate.spec.to_dict(),
                "metric": self.metric,
                "score": self.best.score,
                "std": self.best.std,
                "refit_rows": self.refit_rows,
                "dataset": self.dataset_name,
                "task_type": self.task_type,
                "random_state": self.seed,
            }
            # model.joblib + spec.json with the versions they need (mile_meta/deploy.py)
            written.update(
                save_model(
                    self.estimator,
                    target,
                    _clean(spec),
                    environment=environment,
                    write_text=_write_text,
                    write_file=_write_atomically,
                )
            )
        else:
            for stale in ("model.joblib", "spec.json"):
                (target / stale).unlink(missing_ok=True)
        written["leaderboard"] = _write_atomically(
            target / "leaderboard.csv", lambda path: self.leaderboard.to_csv(path, index=False)
        )
        summary = {**self.summary(), "environment": environment.to_dict()}
        written["summary"] = _write_text(target / "search.json", _json(summary))
        try:
            report = render_report(self)
        except Exception as error:  # the model is saved; a drawing failure must not lose it
            report = (
                f"<!doctype html><p>The report could not be drawn ({type(error).__name__}).</p>"
            )
        written["report"] = _write_text(target / "report.html", report)
        return written


def _json(payload: Any) -> str:
    return json.dumps(_clean(payload), indent=2, default=str, allow_nan=False)


def _write_text(path: Path, text: str) -> Path:
    return _write_atomically(path, lambda partial: partial.write_text(text, encoding="utf-8"))


def _write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    partial = path.with_name(path.name + ".partial")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


_COLUMNS = [
    "rank",
    "number",
    "pipeline_id",
    "estimator",
    "family",
    "description",
    "score",
    "std",
    "fit_seconds",
    "stage",
    "rows",
    "fidelity",
    "status",
    "promoted",
    "origin",
    "reason",
    "finished_seconds",
    "error",
    "duplicate_of",
    "ensemble_weight",
]
