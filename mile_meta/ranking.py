"""From a metric and meta-features to a ranked list of runnable pipelines with evidence.

The meta-learner is the committed default model (``models/``) when it was trained on this
knowledge base's corpora and nothing is excluded; otherwise the default learner for the
metric is fitted on the knowledge base minus the excluded datasets (kept in a small cache, so
only the first call of a session pays for it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mile_meta.errors import KnowledgeBaseError, MileMetaError, ModelError
from mile_meta.metrics import Metric
from mile_meta.pipelines import PipelineSpec

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase
    from mile_meta.metalearners import Evidence, MetaLearner

__all__ = [
    "KNOWLEDGE_BASE_METRICS",
    "NearDataset",
    "RankedItem",
    "RankedList",
    "knowledge_base_metric",
    "meta_learner_for",
    "nearest_datasets",
    "rank_pipelines",
]


def _stored_metrics() -> dict[str, tuple[tuple[str, str], ...]]:
    from mile_meta.metalearners import METRIC_EQUIVALENCES
    from mile_meta.metrics import METRICS

    return {
        name: (
            (name, "same"),
            *((stored, "one_minus") for stored, _ in METRIC_EQUIVALENCES.get(name, ())),
        )
        for name in METRICS
    }


# user metric -> the stored metrics that measure it and how (``same`` or ``one_minus``); the
# conversions themselves live with the meta-learners' view (METRIC_EQUIVALENCES)
KNOWLEDGE_BASE_METRICS: dict[str, tuple[tuple[str, str], ...]] = _stored_metrics()


def knowledge_base_metric(kb: KnowledgeBase, metric: Metric) -> str:
    """The stored metric with the most results among those that serve ``metric``."""
    best, most = metric.name, -1
    for stored, _ in KNOWLEDGE_BASE_METRICS.get(metric.name, ((metric.name, "same"),)):
        count = kb.db.execute(
            "SELECT count(*) FROM evaluations WHERE metric = ?", [stored]
        ).fetchone()[0]
        if count > most:
            best, most = stored, count
    return best


@dataclass(frozen=True)
class RankedItem:
    """A ranked pipeline: predicted score with a 10-90 % interval (the user's metric unit),
    expected fit seconds on data of this size, and the datasets behind the prediction."""

    pipeline_id: str
    spec: PipelineSpec
    family: str
    origin_key: str
    predicted_score: float  # in the user's metric unit
    lower: float
    upper: float
    expected_fit_seconds: float | None
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class RankedList:
    """Pipelines best first, with the stored metric they were ranked by and the learner."""

    items: tuple[RankedItem, ...]
    knowledge_base_metric: str
    meta_learner: str


@dataclass(frozen=True)
class NearDataset:
    """A knowledge-base dataset near the user's, by distance between scaled meta-features."""

    dataset_id: str
    dataset_name: str
    distance: float


_CACHE: OrderedDict[tuple[object, ...], MetaLearner] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _kb_stamp(kb: KnowledgeBase) -> tuple[object, ...]:
    return (
        str(kb.path),
        *kb.db.execute("SELECT max(ingested_at), count(*) FROM sources").fetchone(),
    )


def meta_learner_for(kb: KnowledgeBase, metric: Metric, exclude: Sequence[str] = ()) -> MetaLearner:
    """The fitted meta-learner that ranks pipelines for ``metric`` on this knowledge base.

    The saved default model serves when it matches the knowledge base's corpora, nothing is
    excluded and there are no local runs; otherwise the default learner is fitted on the spot
    (about a second, then cached) on the corpora plus the user's local runs, without the
    excluded datasets — so what users evaluated and searched feeds the next recommendation.
    """
    from mile_meta.metalearners import fit_default_learner, load_default_model
    from mile_meta.metalearners._default import corpus_sources

    present = _present_datasets(kb, exclude)
    has_local = "local" in kb.source_names()
    key = (*_kb_stamp(kb), metric.name, present, has_local)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    learner: MetaLearner | None = None
    if not present and not has_local:
        try:
            model = load_default_model(kb)
            if metric.name in model.metrics:
                learner = model.learner(metric.name)
        except (ModelError, KnowledgeBaseError):
            learner = None  # trained on other corpus data, or absent: fit below
    if learner is None:
        local = ("local",) if has_local else ()
        # the corpora the saved model learns from first (auto-sklearn's sparse results, one
        # configuration per dataset, blur a dense matrix), then every corpus
        for sources in ((*_model_sources(kb), *local), (*corpus_sources(kb), *local)):
            try:
                learner = fit_default_learner(
                    kb, metric.name, exclude_datasets=present, sources=sources
                )
                break
            except (KnowledgeBaseError, ModelError):
                continue
        if learner is None:
            raise MileMetaError(
                f"the knowledge base holds no results for {metric.name}; pick another --metric or "
                "add a source that measured it (mile-meta kb build / crawl)"
            )
    with _CACHE_LOCK:
        _CACHE[key] = learner
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return learner


def _model_sources(kb: KnowledgeBase) -> tuple[str, ...]:
    """The corpus sources the saved default model was trained on (those this KB holds)."""
    import json

    from mile_meta.metalearners import default_model_path

    metadata = default_model_path().with_suffix(".json")
    if not metadata.exists():
        return ()
    try:
        wanted = json.loads(metadata.read_text()).get("sources", [])
    except ValueError:
        return ()
    present = set(kb.source_names())
    return tuple(source for source in wanted if source in present)


def _present_datasets(kb: KnowledgeBase, exclude: Sequence[str]) -> tuple[str, ...]:
    """The excluded datasets the knowledge base actually holds (others change nothing)."""
    if not exclude:
        return ()
    wanted = sorted(set(exclude))
    rows = kb.db.execute(
        f"SELECT dataset_id FROM datasets WHERE dataset_id IN ({','.join('?' * len(wanted))})",
        wanted,
    ).fetchall()
    return tuple(sorted(row[0] for row in rows))


def rank_pipelines(
    kb: KnowledgeBase,
    metric: Metric,
    task_type: str,
    meta_features: Mapping[str, float],
    *,
    exclude: Sequence[str] = (),
    observed: Mapping[str, float] | None = None,
    evidence_per_pipeline: int = 3,
) -> RankedList:
    """Rank the runnable pipelines of the knowledge base for ``metric`` on data like this."""
    learner = meta_learner_for(kb, metric, exclude)
    known = set(learner.pipeline_ids_)
    ranking = learner.rank(
        meta_features,
        {key: value for key, value in (observed or {}).items() if key in known},
        evidence=evidence_per_pipeline,
    )
    descriptions = _runnable_pipelines(
        kb, [item.pipeline_id for item in ranking.pipelines], task_type
    )
    items = []
    for item in ranking.pipelines:
        description = descriptions.get(item.pipeline_id)
        if description is None:  # not runnable here (untranslated, or another task type)
            continue
        spec_json, origin_key = description
        items.append(
            RankedItem(
                pipeline_id=item.pipeline_id,
                spec=PipelineSpec.from_json(spec_json),
                family=item.family,
                origin_key=origin_key,
                predicted_score=item.predicted_score,
                lower=item.lower,
                upper=item.upper,
                expected_fit_seconds=item.expected_runtime_seconds,
                evidence=item.evidence,
            )
        )
    if not items:
        raise MileMetaError(
            f"no runnable pipeline in the knowledge base serves {metric.name} on {task_type} data"
        )
    return RankedList(tuple(items), knowledge_base_metric(kb, metric), ranking.learner)


def _runnable_pipelines(
    kb: KnowledgeBase, pipeline_ids: list[str], task_type: str
) -> dict[str, tuple[str, str]]:
    wanted_task = "regression" if task_type == "regression" else "classification"
    rows = kb.db.execute(
        "SELECT p.pipeline_id, p.spec_json, p.task_type,"
        " (SELECT origin_key FROM pipeline_origins o WHERE o.pipeline_id = p.pipeline_id"
        "  ORDER BY o.source = 'local', o.source LIMIT 1)"
        " FROM pipelines p WHERE p.runnable = 1"
    ).fetchall()
    wanted = set(pipeline_ids)
    result = {}
    for pipeline_id, spec_json, pipeline_task, origin_key in rows:
        if pipeline_id not in wanted:
            continue
        # Binary and multiclass pipelines serve each other: the same classifiers run on
        # both, and a corpus rarely says which one it evaluated them on.
        kind = "regression" if pipeline_task == "regression" else "classification"
        if pipeline_task and kind != wanted_task:
            continue
        result[pipeline_id] = (spec_json, origin_key or "")
    return result


def nearest_datasets(
    kb: KnowledgeBase,
    meta_features: Mapping[str, float],
    metric: Metric,
    *,
    exclude: Sequence[str] = (),
    k: int = 15,
) -> tuple[NearDataset, ...]:
    """The ``k`` knowledge-base datasets closest to ``meta_features`` (same distance as the
    meta-learner's evidence)."""
    learner = meta_learner_for(kb, metric, exclude)
    features = learner.feature_space_.transform_mapping(meta_features)
    distances = np.asarray(
        learner.feature_space_.distances(features, learner.features_), dtype=float
    )
    order = np.argsort(np.where(np.isfinite(distances), distances, np.inf), kind="stable")[:k]
    return tuple(
        NearDataset(learner.dataset_ids_[i], learner.dataset_names_[i], float(distances[i]))
        for i in order
    )
