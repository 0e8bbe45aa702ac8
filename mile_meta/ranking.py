"""From a metric and meta-features to a ranked list of runnable pipelines with evidence.

Which knowledge-base results serve a user's metric: the metric itself where the knowledge base
has it, else an equivalent one (Oboe's balanced error rate is 1 − balanced accuracy).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mile_meta.errors import MileMetaError
from mile_meta.metrics import Metric
from mile_meta.pipelines import PipelineSpec

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase
    from mile_meta.recommend import Evidence

__all__ = [
    "KNOWLEDGE_BASE_METRICS",
    "RankedItem",
    "RankedList",
    "knowledge_base_metric",
    "rank_pipelines",
]

# user metric -> knowledge-base metrics that measure it, in order of preference, with the
# transformation from the stored value to the user's metric
KNOWLEDGE_BASE_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "balanced_accuracy": (("balanced_error_rate", "one_minus"), ("balanced_accuracy", "same")),
    "balanced_error_rate": (("balanced_error_rate", "same"),),
    "predictive_accuracy": (("predictive_accuracy", "same"),),
    "area_under_roc_curve": (("area_under_roc_curve", "same"),),
    "f_measure": (("f_measure", "same"),),
    "log_loss": (("log_loss", "same"),),
    "root_mean_squared_error": (("root_mean_squared_error", "same"),),
    "mean_absolute_error": (("mean_absolute_error", "same"),),
    "r2": (("r2", "same"),),
}


# OpenML's own qualities first; auto-sklearn's meta-features share some names but not always
# the definitions, so they fill gaps only.
QUALITY_SOURCE_PREFERENCE = ("openml", "lcdb", "local", "oboe", "autosklearn")


@dataclass(frozen=True)
class RankedItem:
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
    items: tuple[RankedItem, ...]
    knowledge_base_metric: str
    meta_learner: str


def knowledge_base_metric(kb: KnowledgeBase, metric: Metric, task_type: str) -> tuple[str, str]:
    """The stored metric that serves ``metric`` and how to convert it (``same``/``one_minus``)."""
    for stored, transform in KNOWLEDGE_BASE_METRICS.get(metric.name, ()):
        row = kb.db.execute(
            "SELECT 1 FROM evaluations e JOIN pipelines p ON p.pipeline_id = e.pipeline_id"
            " WHERE e.metric = ? AND p.runnable = 1 AND p.task_type IN (?, 'classification', '')"
            " LIMIT 1",
            [stored, task_type if task_type == "regression" else "classification"],
        ).fetchone()
        if row:
            return stored, transform
    raise MileMetaError(
        f"the knowledge base holds no runnable results for {metric.name} on {task_type} tasks; "
        "pick another --metric or add a source that measured it (mile-meta kb build / crawl)"
    )


_CACHE: OrderedDict[tuple[object, ...], object] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _cached_ranker(
    kb: KnowledgeBase, stored: str, task_type: str, exclude: tuple[str, ...]
) -> _NeighbourRanker:
    """Fitted rankers are kept per (file, version of its content, metric, exclusions)."""
    stamp = kb.db.execute("SELECT max(ingested_at), count(*) FROM sources").fetchone()
    key = (str(kb.path), tuple(stamp), stored, task_type, exclude)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]  # type: ignore[return-value]
    ranker = _NeighbourRanker.from_kb(kb, stored, task_type, exclude)
    with _CACHE_LOCK:
        _CACHE[key] = ranker
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return ranker


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
    """Rank every runnable pipeline of the knowledge base for ``metric`` on data like this."""
    stored, transform = knowledge_base_metric(kb, metric, task_type)
    ranker = _cached_ranker(kb, stored, task_type, tuple(sorted(exclude)))
    return ranker.rank(
        meta_features,
        metric=metric,
        transform=transform,
        stored=stored,
        observed=observed,
        evidence_per_pipeline=evidence_per_pipeline,
    )


# Meta-features that exist for most knowledge-base datasets and describe size and shape.
_DISTANCE_FEATURES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "PercentageOfSymbolicFeatures",
    "PercentageOfMissingValues",
    "ClassEntropy",
    "MajorityClassPercentage",
    "MeanMutualInformation",
    "Dimensionality",
)
_LOG_FEATURES = {"NumberOfInstances", "NumberOfFeatures", "Dimensionality"}


def _feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    columns = {}
    for name in _DISTANCE_FEATURES:
        values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        values = values.astype(float)
        columns[name] = np.log1p(values.clip(lower=0)) if name in _LOG_FEATURES else values
    return pd.DataFrame(columns, index=frame.index)


@dataclass
class _NeighbourRanker:
    """k-nearest knowledge-base datasets, blended with the pipelines' average standing."""

    scores: pd.DataFrame  # datasets x pipelines, stored metric, NaN = not evaluated
    normalised: pd.DataFrame  # per-dataset min-max, 1 = best
    runtimes: pd.DataFrame
    features: pd.DataFrame  # datasets x distance features (z-scored)
    centre: pd.Series
    spread: pd.Series
    higher_is_better: bool
    pipelines: pd.DataFrame  # pipeline_id -> spec_json, family, origin_key
    names: dict[str, str | None]
    neighbours: int = 15

    @classmethod
    def from_kb(
        cls, kb: KnowledgeBase, stored: str, task_type: str, exclude: tuple[str, ...]
    ) -> _NeighbourRanker:
        frame = kb.evaluations_frame(stored)
        runnable = pd.read_sql_query(
            "SELECT p.pipeline_id, p.spec_json, p.family, p.task_type,"
            " (SELECT origin_key FROM pipeline_origins o WHERE o.pipeline_id = p.pipeline_id"
            "  ORDER BY o.source = 'local', o.source LIMIT 1) AS origin_key"
            " FROM pipelines p WHERE p.runnable = 1",
            kb.db.conn,
        ).set_index("pipeline_id")
        frame = frame[
            frame["pipeline_id"].isin(runnable.index) & ~frame["dataset_id"].isin(exclude)
        ]
        if frame.empty:
            raise MileMetaError(f"no runnable results for {stored} once the exclusions are applied")
        higher = bool(frame["higher_is_better"].iloc[0])
        scores = frame.pivot(index="dataset_id", columns="pipeline_id", values="value")
        runtimes = frame.pivot(index="dataset_id", columns="pipeline_id", values="runtime_seconds")
        oriented = scores if higher else -scores
        low = oriented.min(axis=1)
        high = oriented.max(axis=1)
        normalised = oriented.sub(low, axis=0).div((high - low).replace(0, np.nan), axis=0)
        qualities = kb.qualities_frame(sources=QUALITY_SOURCE_PREFERENCE)
        qualities = qualities.reindex(scores.index)
        features = _feature_matrix(qualities)
        centre = features.mean()
        spread = features.std().replace(0, 1).fillna(1)
        names = dict(kb.db.execute("SELECT dataset_id, name FROM datasets").fetchall())
        return cls(
            scores=scores,
            normalised=normalised,
            runtimes=runtimes,
            features=(features - centre) / spread,
            centre=centre,
            spread=spread,
            higher_is_better=higher,
            pipelines=runnable.loc[scores.columns],
            names=names,
        )

    def _distances(self, meta_features: Mapping[str, float]) -> pd.Series:
        query = _feature_matrix(pd.DataFrame([dict(meta_features)], dtype=float)).iloc[0]
        query = (query - self.centre) / self.spread
        difference = self.features.sub(query, axis=1)
        counted = difference.notna().sum(axis=1)
        distance = np.sqrt((difference**2).sum(axis=1) / counted.replace(0, np.nan))
        # a dataset sharing few known features with the query is less trustworthy
        distance = distance * (1 + 1 / counted.replace(0, np.nan))
        return distance.fillna(distance.max() * 2 if distance.notna().any() else 1.0)

    def rank(
        self,
        meta_features: Mapping[str, float],
        *,
        metric: Metric,
        transform: str,
        stored: str,
        observed: Mapping[str, float] | None,
        evidence_per_pipeline: int,
    ) -> RankedList:
        from mile_meta.recommend import Evidence

        def to_user(values: np.ndarray | float) -> np.ndarray | float:
            return 1 - values if transform == "one_minus" else values

        distances = self._distances(meta_features).sort_values()
        weights = pd.Series(1.0 / (distances + 0.05), index=distances.index)
        if observed:
            weights = weights * self._agreement(observed, to_user)
        nearest = weights.sort_values(ascending=False).index[: self.neighbours]
        local = self.normalised.loc[nearest]
        local_weights = weights.loc[nearest]
        available = local.notna()
        weighted = (local.fillna(0).mul(local_weights, axis=0)).sum() / (
            available.mul(local_weights, axis=0).sum().replace(0, np.nan)
        )
        overall = self.normalised.mean()
        blended = (0.7 * weighted.fillna(overall) + 0.3 * overall).fillna(0)
        if observed:
            # what was measured on the user's data outranks any prediction, best first
            ceiling = float(blended.max()) + 1.0
            for pipeline_id, value in observed.items():
                if pipeline_id in blended.index:
                    blended[pipeline_id] = ceiling + (value if metric.higher_is_better else -value)
        order = blended.sort_values(ascending=False).index
        raw_local = self.scores.loc[nearest]
        items = []
        for pipeline_id in order:
            column = raw_local[pipeline_id].dropna()
            if column.empty:
                column = self.scores[pipeline_id].dropna()
            values = np.asarray(to_user(column.to_numpy()), dtype=float)
            column_weights = (
                local_weights.reindex(column.index).fillna(local_weights.min()).to_numpy()
            )
            predicted = (
                float(np.average(values, weights=column_weights)) if len(values) else float("nan")
            )
            lower, upper = (
                (float(np.quantile(values, 0.1)), float(np.quantile(values, 0.9)))
                if len(values)
                else (predicted, predicted)
            )
            lower, upper = min(lower, predicted), max(upper, predicted)
            if observed and pipeline_id in observed:
                predicted = lower = upper = float(observed[pipeline_id])
            runtime = self.runtimes.loc[nearest, pipeline_id].dropna()
            evidence = []
            for dataset_id in column.index[:evidence_per_pipeline]:
                row = self.scores.loc[dataset_id]
                value = row[pipeline_id]
                better = (row > value).sum() if self.higher_is_better else (row < value).sum()
                evidence.append(
                    Evidence(
                        dataset_id=dataset_id,
                        dataset_name=self.names.get(dataset_id),
                        distance=float(distances[dataset_id]),
                        score=float(to_user(value)),
                        rank_on_dataset=int(better) + 1,
                    )
                )
            description = self.pipelines.loc[pipeline_id]
            items.append(
                RankedItem(
                    pipeline_id=pipeline_id,
                    spec=PipelineSpec.from_json(description["spec_json"]),
                    family=str(description["family"]),
                    origin_key=str(description["origin_key"] or ""),
                    predicted_score=predicted,
                    lower=lower,
                    upper=upper,
                    expected_fit_seconds=float(runtime.median()) if len(runtime) else None,
                    evidence=tuple(evidence),
                )
            )
        return RankedList(tuple(items), stored, "nearest-datasets")

    def _agreement(self, observed: Mapping[str, float], to_user: object) -> pd.Series:
        """Up-weight datasets on which the probed pipelines did as they did on the user's data."""
        known = [p for p in observed if p in self.scores.columns]
        if not known:
            return pd.Series(1.0, index=self.scores.index)
        values = self.scores[known]
        user = pd.Series({p: observed[p] for p in known})
        converted = values.apply(lambda column: to_user(column))  # type: ignore[operator]
        gap = (converted - user).abs().mean(axis=1)
        scale = float(gap.median()) or 1.0
        return np.exp(-gap / scale).fillna(0.05)
