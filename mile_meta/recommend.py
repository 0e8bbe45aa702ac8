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
from mile_meta.pipelines import PipelineSpec

if TYPE_CHECKING:
    from mile_meta.evaluate import EvaluationResult
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "Evidence",
    "Recommendation",
    "RecommendationReport",
    "recommend",
    "recommend_from_metafeatures",
]


@dataclass(frozen=True)
class Recommendation:
    """One pipeline to try, with its predicted score (metric unit) and an interval."""

    rank: int
    pipeline_id: str
    spec: PipelineSpec
    family: str
    origin_key: str
    predicted_score: float
    lower: float
    upper: float
    expected_fit_seconds: float | None
    evidence: tuple[Evidence, ...]
    observed_score: float | None = None  # from a probe on the user's data


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
) -> RecommendationReport:
    """Rank the pipelines to try first on ``data`` (a file, a frame or a :class:`Dataset`).

    ``probe=N`` cross-validates the N best on the data and re-ranks with the results
    (recorded in the knowledge base as local runs unless ``record_probes`` is False;
    ``reuse`` False keeps them out of the reuse store, :func:`mile_meta.reuse.default_store`).
    ``exclude_datasets`` (OpenML ids or knowledge-base ids) are ignored, for leakage-free
    experiments on data the knowledge base already holds.
    """
    from mile_meta.kb import KnowledgeBase
    from mile_meta.metafeatures import compute_metafeatures

    started = time.perf_counter()
    dataset = as_dataset(data, target, task_type)
    chosen = resolve_metric(metric) if metric else default_metric(dataset.task_type)
    if dataset.task_type not in chosen.task_types:
        raise MileMetaError(f"metric {chosen.name} does not apply to a {dataset.task_type} task")
    meta_features = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=2.0
    ).values
    owned = kb is None
    knowledge_base = kb if kb is not None else KnowledgeBase.open(must_exist=True)
    try:
        report = recommend_from_metafeatures(
            meta_features,
            dataset.task_type,
            kb=knowledge_base,
            metric=chosen.name,
            top=max(top, probe),
            exclude_datasets=(*exclude_datasets, dataset.dataset_id),
            dataset_name=dataset.name,
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
                (*exclude_datasets, dataset.dataset_id),
                reuse,
            )
    finally:
        if owned:
            knowledge_base.close()
    return RecommendationReport(
        dataset_name=dataset.name,
        task_type=dataset.task_type,
        metric=report.metric,
        higher_is_better=report.higher_is_better,
        knowledge_base_metric=report.knowledge_base_metric,
        meta_features=dict(meta_features),
        recommendations=report.recommendations[:top],
        meta_learner=report.meta_learner,
        seconds=time.perf_counter() - started,
        excluded_datasets=tuple(d for d in report.excluded_datasets if d != dataset.dataset_id),
        probes=tuple(probes),
        failed_probes=report.failed_probes,
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
    reuse: bool = True,
) -> tuple[RecommendationReport, list[EvaluationResult]]:
    from mile_meta.evaluate import evaluate_pipeline
    from mile_meta.reuse import default_store

    cache = default_store(reuse)
    probes: list[EvaluationResult] = []
    failed: list[tuple[str, str]] = []
    observed: dict[str, float] = {}
    for recommendation in report.recommendations[:probe]:
        try:
            result = evaluate_pipeline(
                recommendation.spec,
                dataset,
                metric=metric.name,
                cv=cv,
                seed=seed,
                kb=kb,
                record=record,
                cache=cache,
            )
        except MileMetaError as error:  # a pipeline that fails on this data is skipped
            failed.append((recommendation.pipeline_id, str(error).splitlines()[0]))
            continue
        probes.append(result)
        observed[result.pipeline_id] = result.mean
    reranked = recommend_from_metafeatures(
        report.meta_features,
        dataset.task_type,
        kb=kb,
        metric=metric.name,
        top=len(report.recommendations),
        exclude_datasets=exclude_datasets,
        observed=observed,
        dataset_name=dataset.name,
    )
    return replace(reranked, failed_probes=tuple(failed)), probes


def recommend_from_metafeatures(
    meta_features: Mapping[str, float],
    task_type: str,
    *,
    kb: KnowledgeBase,
    metric: str | None = None,
    top: int = 10,
    exclude_datasets: Sequence[str | int] = (),
    observed: Mapping[str, float] | None = None,
    dataset_name: str = "dataset",
    evidence_per_pipeline: int = 3,
) -> RecommendationReport:
    """Rank from meta-features alone (what the HTTP service and the priors use).

    ``observed`` maps pipeline ids to scores measured on the user's data (metric unit).
    """
    from mile_meta.ranking import rank_pipelines

    started = time.perf_counter()
    chosen = resolve_metric(metric) if metric else default_metric(task_type)
    excluded = resolve_exclusions(kb, exclude_datasets)
    ranked = rank_pipelines(
        kb,
        chosen,
        task_type,
        meta_features,
        exclude=excluded,
        observed=observed,
        evidence_per_pipeline=evidence_per_pipeline,
    )
    recommendations = tuple(
        Recommendation(
            rank=index,
            pipeline_id=item.pipeline_id,
            spec=item.spec,
            family=item.family,
            origin_key=item.origin_key,
            predicted_score=item.predicted_score,
            lower=item.lower,
            upper=item.upper,
            expected_fit_seconds=item.expected_fit_seconds,
            evidence=item.evidence,
            observed_score=None if observed is None else observed.get(item.pipeline_id),
        )
        for index, item in enumerate(ranked.items[:top], start=1)
    )
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
    )
