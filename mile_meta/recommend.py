"""``recommend``: the pipelines to try first on a dataset, with scores, intervals and evidence.

The user's dataset is described by OpenML-compatible meta-features, a meta-learner ranks the
knowledge base's runnable pipelines for the chosen metric, and every recommendation carries
its evidence: the most similar knowledge-base datasets and the pipeline's result on each.
With ``probe=N`` the top N are cross-validated on the user's data and the ranking is redone
with what was observed (adaptive mode).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mile_meta.data import Dataset, as_dataset
from mile_meta.errors import KnowledgeBaseError, MileMetaError
from mile_meta.metalearners import Evidence
from mile_meta.metrics import Metric, default_metric, resolve_metric
from mile_meta.ranking import RankedList, Recommendation, TargetSpread

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "EvaluationComparison",
    "Evidence",
    "NearestBest",
    "Recommendation",
    "RecommendationReport",
    "TargetSpread",
    "compare_evaluation",
    "recommend",
    "recommend_from_metafeatures",
]

# A pick ranked below this on a dataset that looks identical to the user's is flagged.
LOW_RANK_ON_TWIN = 10
# Below this meta-feature distance (printed as 0.00) a dataset looks identical to the user's.
TWIN_DISTANCE = 0.005


@dataclass(frozen=True)
class RecommendationReport:
    """The ranking for one dataset: recommendations best first, the meta-features they were
    ranked from, and the probes run on the user's data (``recommend(probe=N)``)."""

    dataset_name: str
    task_type: str
    metric: str
    higher_is_better: bool
    knowledge_base_metric: str
    meta_features: Mapping[str, float]
    recommendations: tuple[Recommendation, ...]
    meta_learner: str
    seconds: float
    excluded_datasets: tuple[str, ...] = ()
    probes: tuple[EvaluationResult, ...] = field(default=())
    # (pipeline id, first line of the error) of each probe that failed on the user's data
    failed_probes: tuple[tuple[str, str], ...] = field(default=())
    ranking_metric: str = ""  # what the order and the evidence are on (r2 for regression)
    order_note: str = ""  # one line: what the order of the list means
    evidence_note: str = ""  # how much evidence stands behind the ranking
    warnings: tuple[str, ...] = field(default=())
    used_local_runs: bool = True

    def best(self) -> Recommendation:
        """The first recommendation (a report always holds at least one)."""
        return self.recommendations[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``mile-meta recommend --json`` and the HTTP service print)."""
        return {
            "dataset": self.dataset_name,
            "task_type": self.task_type,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "knowledge_base_metric": self.knowledge_base_metric,
            "meta_learner": self.meta_learner,
            "seconds": self.seconds,
            "excluded_datasets": list(self.excluded_datasets),
            "ranking_metric": self.ranking_metric,
            "order": self.order_note,
            "evidence_note": self.evidence_note,
            "warnings": list(self.warnings),
            "used_local_runs": self.used_local_runs,
            "recommendations": [
                {
                    "rank": r.rank,
                    "pipeline_id": r.pipeline_id,
                    "family": r.family,
                    "origin_key": r.origin_key,
                    "description": r.spec.describe(),
                    "spec": r.spec.to_dict(),
                    "predicted_score": r.predicted_score,
                    "interval": [r.lower, r.upper],
                    "expected_fit_seconds": r.expected_fit_seconds,
                    "observed_score": r.observed_score,
                    "local_weight": r.local_weight,
                    "expected_best_so_far": r.expected_best_so_far,
                    "evidence": [
                        {
                            "dataset_id": e.dataset_id,
                            "dataset_name": e.dataset_name,
                            "distance": e.distance,
                            "score": e.observed_score,
                            "rank_on_dataset": e.rank_on_dataset,
                        }
                        for e in r.evidence
                    ],
                }
                for r in self.recommendations
            ],
            "probes": [
                {
                    "pipeline_id": p.pipeline_id,
                    "mean": p.mean,
                    "std": p.std,
                    "fit_seconds": p.fit_seconds,
                }
                for p in self.probes
            ],
            "failed_probes": [
                {"pipeline_id": pipeline_id, "error": error}
                for pipeline_id, error in self.failed_probes
            ],
            "meta_features": dict(self.meta_features),
        }


def task_type_from_metafeatures(meta_features: Mapping[str, float]) -> str:
    """``binary`` or ``multiclass`` from OpenML's ``NumberOfClasses``; regression has no
    such quality, so it must be named."""
    classes = meta_features.get("NumberOfClasses")
    if classes is None or not math.isfinite(float(classes)) or float(classes) < 2:
        raise MileMetaError(
            "cannot tell the task type from these meta-features; pass task_type="
            "'binary', 'multiclass' or 'regression'"
        )
    return "binary" if float(classes) == 2 else "multiclass"


def resolve_exclusions(kb: KnowledgeBase, exclude: Sequence[str | int]) -> tuple[str, ...]:
    """Knowledge-base dataset ids for ``exclude``: OpenML ids (``31``), dataset ids
    (``openml:31``) or dataset names (``credit-g``).

    An id the knowledge base does not hold excludes nothing and is kept as given (a
    benchmark excludes a dataset's own id whether or not it is known), but a name must
    match: a mistyped name would silently leak the dataset it meant into the ranking.
    """
    result = []
    for item in exclude:
        text = str(item).strip()
        if text.isdigit():
            result.append(f"openml:{int(text)}")
        elif ":" in text:
            result.append(text)
        else:
            try:
                result.append(kb.resolve_dataset(text))
            except KnowledgeBaseError:
                raise KnowledgeBaseError(
                    f"--exclude-dataset {text!r} names no dataset of the knowledge base; "
                    "pass an OpenML id (e.g. 31), a dataset id (openml:31) or an exact name"
                ) from None
    return tuple(dict.fromkeys(result))


def recommend(
    data: Dataset | str | Path | pd.DataFrame,
    target: str | None = None,
    *,
    kb: KnowledgeBase | None = None,
    metric: str | None = None,
    task_type: str | None = None,
    top: int = 10,
    probe: int = 0,
    exclude_datasets: Sequence[str | int] = (),
    seed: int = 0,
    cv: int = 5,
    record_probes: bool = True,
    reuse: bool = True,
    use_local: bool = True,
    jobs: int = 1,
    scheduler: Any = None,
) -> RecommendationReport:
    """Rank the pipelines to try first on ``data`` (a file, a frame or a :class:`Dataset`).

    ``probe=N`` cross-validates the N best on the data and re-ranks with the results
    (recorded in the knowledge base as local runs unless ``record_probes`` is False;
    ``reuse`` False keeps them out of the reuse store, :func:`mile_meta.reuse.default_store`).
    ``jobs`` probes run at once in worker processes (-1: every core), or on the Dask cluster
    at ``scheduler`` (an address ``tcp://host:8786`` or a ``distributed.Client``) as a
    search's candidates do: the data are sent to the workers once, the knowledge base stays
    here and the results are recorded here.
    ``exclude_datasets`` (OpenML ids or knowledge-base ids) are hidden, for leakage-free
    experiments on data the knowledge base already holds; ``use_local=False`` ranks from the
    corpora alone, ignoring every run recorded on the user's data (``--no-local``). Runs
    recorded earlier on this very data (same content) count as observations of it.
    """
    from mile_meta.kb import KnowledgeBase
    from mile_meta.metafeatures import compute_metafeatures

    started = time.perf_counter()
    if jobs == 0 or jobs < -1:
        raise MileMetaError(f"jobs={jobs}: pass 1, 2… probes at once, or -1 for every core")
    if (scheduler is not None or jobs != 1) and probe <= 0:
        raise MileMetaError(
            "jobs and scheduler only say where the probes run; pass probe=N (--probe N) too"
        )
    dataset = as_dataset(data, target, task_type)
    chosen = resolve_metric(metric) if metric else default_metric(dataset.task_type)
    if dataset.task_type not in chosen.task_types:
        raise MileMetaError(f"metric {chosen.name} does not apply to a {dataset.task_type} task")
    meta_features = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=2.0
    ).values
    spread = TargetSpread.of(dataset.target) if dataset.task_type == "regression" else None
    owned = kb is None
    knowledge_base = kb if kb is not None else KnowledgeBase.open(must_exist=True)
    try:
        report = recommend_from_metafeatures(
            meta_features,
            dataset.task_type,
            kb=knowledge_base,
            metric=chosen.name,
            top=max(top, probe),
            exclude_datasets=exclude_datasets,
            dataset_name=dataset.name,
            use_local=use_local,
            target_spread=spread,
            own_dataset_id=dataset.dataset_id,
        )
        probes: list[EvaluationResult] = []
        if probe > 0:
            report, probes = _probe_and_rerank(
                report,
                dataset,
                knowledge_base,
                chosen,
                probe,
                seed,
                cv,
                record_probes,
                exclude_datasets,
                use_local,
                spread,
                reuse,
                jobs=jobs,
                scheduler=scheduler,
            )
    finally:
        if owned:
            knowledge_base.close()
    return replace(
        report,
        meta_features=dict(meta_features),
        recommendations=report.recommendations[:top],
        seconds=time.perf_counter() - started,
        probes=tuple(probes),
    )


def _probe_and_rerank(
    report: RecommendationReport,
    dataset: Dataset,
    kb: KnowledgeBase,
    metric: Metric,
    probe: int,
    seed: int,
    cv: int,
    record: bool,
    exclude_datasets: Sequence[str | int],
    use_local: bool,
    spread: TargetSpread | None,
    reuse: bool = True,
    *,
    jobs: int = 1,
    scheduler: Any = None,
) -> tuple[RecommendationReport, list[EvaluationResult]]:
    picks = report.recommendations[:probe]
    if scheduler is None and jobs == 1:
        outcomes = _probe_here(picks, dataset, kb, metric, seed, cv, record, reuse)
    else:
        outcomes = _probe_on_workers(picks, dataset, metric, seed, cv, reuse, jobs, scheduler)
        done = [outcome for outcome in outcomes if not isinstance(outcome, str)]
        if record and done:
            from mile_meta.evaluate import record_local_runs

            record_local_runs(kb, dataset, done)
    probes: list[EvaluationResult] = []
    failed: list[tuple[str, str]] = []
    observed: dict[str, float] = {}
    observed_std: dict[str, float] = {}
    for recommendation, outcome in zip(picks, outcomes, strict=True):
        if isinstance(outcome, str):  # a pipeline that fails on this data is skipped
            failed.append((recommendation.pipeline_id, outcome))
            continue
        result = outcome
        probes.append(result)
        observed[result.pipeline_id] = result.mean
        # the interval of a cross-validated mean, not of one fold
        observed_std[result.pipeline_id] = result.std / max(result.n_folds, 1) ** 0.5
    reranked = recommend_from_metafeatures(
        report.meta_features,
        dataset.task_type,
        kb=kb,
        metric=metric.name,
        top=len(report.recommendations),
        exclude_datasets=exclude_datasets,
        observed=observed,
        observed_std=observed_std,
        dataset_name=dataset.name,
        use_local=use_local,
        target_spread=spread,
        own_dataset_id=dataset.dataset_id,
    )
    return replace(reranked, failed_probes=tuple(failed)), probes


def _probe_here(
    picks: Sequence[Recommendation],
    dataset: Dataset,
    kb: KnowledgeBase,
    metric: Metric,
    seed: int,
    cv: int,
    record: bool,
    reuse: bool,
) -> list[EvaluationResult | str]:
    """The probes one after the other in this process: each result, or its error's first line."""
    from mile_meta.evaluate import evaluate_pipeline
    from mile_meta.reuse import default_store

    cache = default_store(reuse)
    outcomes: list[EvaluationResult | str] = []
    for recommendation in picks:
        try:
            outcomes.append(
                evaluate_pipeline(
                    recommendation.spec,
                    dataset,
                    metric=metric.name,
                    cv=cv,
                    seed=seed,
                    kb=kb,
                    record=record,
                    cache=cache,
                )
            )
        except MileMetaError as error:
            outcomes.append(str(error).splitlines()[0])
    return outcomes


# Probes have no time limit (in this process neither); a day stands for none on the workers.
_PROBE_DEADLINE_SECONDS = 24 * 3600.0


def _probe_on_workers(
    picks: Sequence[Recommendation],
    dataset: Dataset,
    metric: Metric,
    seed: int,
    cv: int,
    reuse: bool,
    jobs: int,
    scheduler: Any,
) -> list[EvaluationResult | str]:
    """The probes on the search's executors (``jobs`` local worker processes or a Dask
    cluster): the data go to the workers once, each probe is one task, the knowledge base
    stays here (the caller records). Each result, or the first line of why it failed."""
    from mile_meta.search._executor import open_executor
    from mile_meta.search._worker import EvaluateTask, WorkerSettings

    tasks = [EvaluateTask(spec=pick.spec, metric=metric.name, cv=cv, seed=seed) for pick in picks]
    with open_executor(
        dataset, WorkerSettings(reuse=reuse), jobs=jobs, scheduler=scheduler
    ) as executor:
        replies = executor.run_all(tasks, timeout_seconds=_PROBE_DEADLINE_SECONDS)
    outcomes: list[EvaluationResult | str] = []
    for reply in replies:
        if reply.status == "ok":
            outcomes.append(reply.value.result)
        else:  # the worker names the error's type first: a MileMetaError says enough alone
            message = reply.message or reply.status
            outcomes.append(message.removeprefix(f"{MileMetaError.__name__}: "))
    return outcomes


def recommend_from_metafeatures(
    meta_features: Mapping[str, float],
    task_type: str,
    *,
    kb: KnowledgeBase,
    metric: str | None = None,
    top: int = 10,
    exclude_datasets: Sequence[str | int] = (),
    observed: Mapping[str, float] | None = None,
    observed_std: Mapping[str, float] | None = None,
    dataset_name: str = "dataset",
    evidence_per_pipeline: int = 3,
    use_local: bool = True,
    target_spread: TargetSpread | None = None,
    own_dataset_id: str | None = None,
) -> RecommendationReport:
    """Rank from meta-features alone (what the HTTP service and the priors use).

    ``observed`` maps pipeline ids to scores measured on the user's data (metric unit).
    Regression pipelines are ranked on r2; RMSE and MAE are stated in the target's unit from
    ``target_spread`` (without it, relative to the target's standard deviation / mean
    absolute deviation, which the report's evidence note says). ``use_local=False`` ignores
    the user's recorded runs; ``own_dataset_id`` is the user's ``local:<content hash>``.
    """
    from mile_meta.ranking import rank_pipelines

    started = time.perf_counter()
    chosen = resolve_metric(metric) if metric else default_metric(task_type)
    excluded = resolve_exclusions(kb, exclude_datasets)
    view = kb.without(excluded, local=use_local)
    relative = False
    if task_type == "regression" and chosen.name != "r2" and target_spread is None:
        target_spread, relative = TargetSpread(1.0, 1.0), True
    ranked = rank_pipelines(
        view,
        chosen,
        task_type,
        meta_features,
        observed=observed,
        observed_std=observed_std,
        own_dataset_id=own_dataset_id if own_dataset_id not in excluded else None,
        target_spread=target_spread,
        evidence_per_pipeline=evidence_per_pipeline,
    )
    recommendations = ranked.recommendations[:top]
    notes = _evidence_note(ranked, task_type, chosen, relative)
    return RecommendationReport(
        dataset_name=dataset_name,
        task_type=task_type,
        metric=chosen.name,
        higher_is_better=chosen.higher_is_better,
        knowledge_base_metric=ranked.knowledge_base_metric,
        meta_features=dict(meta_features),
        recommendations=recommendations,
        meta_learner=ranked.meta_learner,
        seconds=time.perf_counter() - started,
        excluded_datasets=excluded,
        ranking_metric=ranked.ranking_metric,
        order_note=(
            f"in the order to try them, by the expected best {chosen.name.replace('_', ' ')} "
            "of the first # tried (the 'best of 1..#' column, which only improves down the "
            "list): #1 is the best single bet, each next one adds the most to the first #, so "
            "a later pipeline may predict better on its own; intervals are 10-90 %"
        ),
        evidence_note=notes,
        warnings=_warnings(recommendations),
        used_local_runs=use_local,
    )


def _evidence_note(ranked: RankedList, task_type: str, metric: Metric, relative: bool) -> str:
    """How much evidence stands behind the ranking, in one sentence."""
    note = (
        f"{ranked.meta_learner} learned from {ranked.n_datasets} knowledge-base datasets x "
        f"{ranked.n_pipelines} pipelines ({ranked.knowledge_base_metric})"
    )
    if ranked.n_local_runs:
        note += f", plus {ranked.n_local_runs} of your runs on other datasets as evidence"
    if ranked.missing_libraries:
        missing = ", ".join(ranked.missing_libraries)
        note += (
            f"; {missing} pipelines are left out, not being installed "
            f"(pip install 'mile-meta[{','.join(ranked.missing_libraries)}]')"
        )
    if task_type == "regression":
        note += (
            "; regression is ranked on r2 (scale-free) and its evidence is thin: only "
            "pipelines measured on 3+ datasets can be ranked (the defaults corpus' default "
            "pipelines); auto-sklearn's regression results are one configuration per dataset "
            "and stay out"
        )
        if metric.name != "r2":
            if relative:
                note += (
                    f"; {metric.name} is stated relative to the target's spread (1 = predicting "
                    "a constant): pass the data for the target's unit"
                )
            else:
                note += f"; {metric.name} = spread of your target x sqrt(1 - r2)"
    return note + "."


def _warnings(recommendations: Sequence[Recommendation]) -> tuple[str, ...]:
    """A pick that did poorly on a dataset looking identical to the user's is flagged."""
    if not recommendations:
        return ()
    best = recommendations[0]
    warnings = []
    for evidence in best.evidence:
        if evidence.distance is not None and evidence.distance < TWIN_DISTANCE:
            if evidence.rank_on_dataset > LOW_RANK_ON_TWIN:
                warnings.append(
                    f"the first pick ranked only #{evidence.rank_on_dataset} on "
                    f"{evidence.dataset_name}, which looks identical to your data (distance 0); "
                    "try the pipelines that did best there too (mile-meta kb show dataset "
                    f"{evidence.dataset_id})"
                )
            break
    return tuple(warnings)


@dataclass(frozen=True)
class NearestBest:
    """The knowledge base's best pipeline on one of the nearest datasets (ranking metric)."""

    dataset_id: str
    dataset_name: str
    distance: float
    pipeline: str
    score: float


@dataclass(frozen=True)
class EvaluationComparison:
    """How one measured result compares with what ``recommend`` predicted for that pipeline
    on this data (metric unit; None when no corpus measured the pipeline) and with the
    knowledge base's best on the nearest datasets (on ``ranking_metric``: r2 for regression,
    where ``measured_on_ranking_metric`` converts the result with the target's spread)."""

    metric: str
    measured: float
    predicted: float | None
    lower: float | None
    upper: float | None
    rank: int | None  # in the recommendation list for this data
    n_ranked: int
    ranking_metric: str
    measured_on_ranking_metric: float | None
    nearest_best: tuple[NearestBest, ...]

    @property
    def verdict(self) -> str:
        if self.predicted is None or self.lower is None or self.upper is None:
            return "no corpus has measured this pipeline: nothing was predicted for it"
        metric = resolve_metric(self.metric)
        if self.lower <= self.measured <= self.upper:
            return "inside the predicted 10-90 % interval"
        better = (self.measured > self.upper) == metric.higher_is_better
        return (
            "better than the predicted 10-90 % interval"
            if better
            else "worse than the predicted 10-90 % interval"
        )


def compare_evaluation(
    result: EvaluationResult, dataset: Dataset, kb: KnowledgeBase, *, nearest: int = 3
) -> EvaluationComparison:
    """Compare an ``evaluate`` result with the recommendation for ``dataset`` (ranked
    without that result: the dataset's own runs are hidden) and with the knowledge base's
    best pipelines on the ``nearest`` most similar datasets."""
    from mile_meta.metafeatures import compute_metafeatures
    from mile_meta.ranking import (
        KNOWLEDGE_BASE_METRICS,
        knowledge_base_metric,
        nearest_datasets,
        ranking_metric,
    )

    metric = resolve_metric(result.metric)
    meta_features = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=2.0
    ).values
    spread = TargetSpread.of(dataset.target) if dataset.task_type == "regression" else None
    report = recommend_from_metafeatures(
        meta_features,
        dataset.task_type,
        kb=kb,
        metric=metric.name,
        top=1_000_000,
        exclude_datasets=[dataset.dataset_id],
        target_spread=spread,
        evidence_per_pipeline=0,
    )
    match = next((r for r in report.recommendations if r.pipeline_id == result.pipeline_id), None)
    chosen = ranking_metric(metric)
    measured_ranking: float | None = result.mean
    if chosen.name != metric.name:
        measured_ranking = spread.from_metric(metric, result.mean) if spread else None
    stored = knowledge_base_metric(kb, metric)
    flip = any(
        name == stored and how == "one_minus"
        for name, how in KNOWLEDGE_BASE_METRICS.get(chosen.name, ())
    )
    view = kb.without([dataset.dataset_id])
    best = []
    for near in nearest_datasets(view, meta_features, metric, k=nearest):
        top = kb.best_pipelines(near.dataset_id, stored, limit=1)
        if not top:
            continue
        value = 1.0 - top[0].value if flip else top[0].value
        best.append(
            NearestBest(
                near.dataset_id,
                near.dataset_name,
                near.distance,
                _describe(kb, top[0].pipeline_id, top[0].origin_key),
                value,
            )
        )
    return EvaluationComparison(
        metric=metric.name,
        measured=result.mean,
        predicted=None if match is None else match.predicted_score,
        lower=None if match is None else match.lower,
        upper=None if match is None else match.upper,
        rank=None if match is None else match.rank,
        n_ranked=len(report.recommendations),
        ranking_metric=chosen.name,
        measured_on_ranking_metric=measured_ranking,
        nearest_best=tuple(best),
    )


def _describe(kb: KnowledgeBase, pipeline_id: str, fallback: str) -> str:
    """A pipeline as people read it (its spec), else the corpus' name for it."""
    from mile_meta.pipelines import PipelineSpec

    spec_json = kb.pipeline_descriptors([pipeline_id]).loc[pipeline_id, "spec_json"]
    try:
        return PipelineSpec.from_json(str(spec_json)).describe()
    except (ValueError, KeyError, TypeError):
        return fallback or pipeline_id
