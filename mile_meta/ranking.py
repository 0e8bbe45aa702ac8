"""From meta-features to ranked, runnable pipelines with scores, intervals and evidence.

Three steps, each in one place:

1. **The corpus prior.** A meta-learner fitted on the corpora (never on the user's runs)
   ranks every pipeline it knows: the committed default model when it was trained on this
   knowledge base's corpora and nothing is hidden, otherwise the default learner fitted on
   the visible corpora (a view: ``kb.without(datasets)``), cached per view.
2. **Local runs as evidence** (:func:`apply_local_evidence`). A run the user recorded on the
   *same data* (same content hash) is an observation of this dataset and is used as one
   (like a probe). A run on another dataset ``d`` is one observation of one pipeline,
   weighted by similarity ``w_d = exp(-½ (distance / LOCAL_BANDWIDTH)²)`` (≤ 1) and shrunk
   toward the corpus prior, which counts as ``PRIOR_STRENGTH`` observations::

       predicted = (PRIOR_STRENGTH · prior + Σ_d w_d · score_d) / (PRIOR_STRENGTH + Σ_d w_d)

   so a prediction always lies between the prior and what the runs scored, and moves by at
   most ``W / (PRIOR_STRENGTH + W) · max_d |score_d − prior|`` with ``W = Σ_d w_d`` (the
   bound the property test checks). Repeated runs of one pipeline on one dataset are one
   observation (their mean); near-identical configurations (same steps, other
   hyperparameters) recorded by a search count once: only the best-supported of them is
   ranked. A pipeline only the user ran starts from the *typical* pipeline for this dataset
   (the median corpus prediction, with the 10–90 % spread of predictions as its interval).
3. **Units and order.** Regression is ranked on ``r2`` (scale-free: the share of the
   target's variance explained) and predicted in the user's unit from their target's spread
   (RMSE = std · √(1 − R²); MAE ≈ mean absolute deviation · √(1 − R²)). The list keeps the
   learner's try-order, with the expected best score of the first k alongside.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mile_meta._memo import RecentlyUsed
from mile_meta.errors import KnowledgeBaseError, MileMetaError, ModelError
from mile_meta.metalearners import Evidence
from mile_meta.metrics import Metric, resolve_metric
from mile_meta.pipelines import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd

    from mile_meta.kb import KnowledgeBase
    from mile_meta.metalearners import MetaLearner, RankedPipeline

__all__ = [
    "KNOWLEDGE_BASE_METRICS",
    "LOCAL_BANDWIDTH",
    "PRIOR_STRENGTH",
    "REGRESSION_RANKING_METRIC",
    "NearDataset",
    "RankedList",
    "Recommendation",
    "TargetSpread",
    "apply_local_evidence",
    "knowledge_base_metric",
    "local_weight",
    "meta_learner_for",
    "nearest_datasets",
    "rank_pipelines",
    "ranking_metric",
]

PRIOR_STRENGTH = 3.0
"""Observations the corpus prior is worth against one local run on an identical dataset."""

LOCAL_BANDWIDTH = 0.5
"""Meta-feature distance (the evidence distance) at which a local run's weight is e^-½ ≈ 0.61;
at distance 1 it is 0.14, at 1.5 it is 0.011."""

REGRESSION_RANKING_METRIC = "r2"

# Split-conformal calibration of the learners' 10-90 % intervals (scripts/calibrate_intervals.py):
# on held-out datasets (every 4th of each matrix), the 10th and 90th percentiles of
# (true score − predicted) / (upper − lower), view orientation. The printed interval is
# [predicted + q10 · width, predicted + q90 · width]; docs/benchmarks-recommenders.md measures
# its coverage on the other datasets and on real data.
INTERVAL_CALIBRATION: dict[str, tuple[float, float]] = {
    # held-out datasets, the first 10 of each ranking (what `recommend` prints)
    "balanced_accuracy": (-1.269, 1.171),  # 112 datasets, 882 results (defaults + Oboe)
    "predictive_accuracy": (-1.741, 0.931),  # 72 datasets, 547 results (defaults + LCDB)
    "r2": (-2.818, 2.183),  # 17 datasets, 136 results (defaults; AverageRank)
}
# The first pick is the pipeline chosen for looking best, so its prediction is optimistic
# (the winner's curse) and the offsets above under-cover it; it gets its own, measured on
# the same held-out datasets for the first pick alone.
FIRST_PICK_CALIBRATION: dict[str, tuple[float, float]] = {
    "balanced_accuracy": (-1.893, 1.444),
    "predictive_accuracy": (-5.656, 2.534),
    "r2": (-6.167, 4.941),
}
Z_10_90 = 1.2815515655446004
# the nearest datasets: what a fit time is read from, and what the questions draw on
NEAREST_DATASETS = 15


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


def ranking_metric(metric: Metric) -> Metric:
    """The metric pipelines are ranked on: ``r2`` for every regression metric (scale-free,
    comparable across targets), the metric itself for classification."""
    if "regression" in metric.task_types:
        return resolve_metric(REGRESSION_RANKING_METRIC)
    return metric


def knowledge_base_metric(kb: KnowledgeBase, metric: Metric) -> str:
    """The stored metric with the most results among those that serve ``metric``."""
    chosen = ranking_metric(metric)
    best, most = chosen.name, -1
    for stored, _ in KNOWLEDGE_BASE_METRICS.get(chosen.name, ((chosen.name, "same"),)):
        count = kb.result_count(stored)
        if count > most:
            best, most = stored, count
    return best


@dataclass(frozen=True)
class TargetSpread:
    """A regression target's spread, to state ``r2`` predictions in the target's unit."""

    std: float
    mean_absolute_deviation: float

    @classmethod
    def of(cls, target: Any) -> TargetSpread:
        values = np.asarray(target, dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return cls(float("nan"), float("nan"))
        return cls(float(np.std(values)), float(np.mean(np.abs(values - np.median(values)))))

    def to_metric(self, metric: Metric, r2: float) -> float:
        """An ``r2`` value as ``metric`` on this target."""
        if metric.name == "r2":
            return r2
        relative = math.sqrt(max(0.0, 1.0 - r2))
        if metric.name == "mean_absolute_error":
            return self.mean_absolute_deviation * relative
        return self.std * relative

    def from_metric(self, metric: Metric, value: float) -> float | None:
        """A value of ``metric`` on this target as ``r2`` (None where it cannot be)."""
        if metric.name == "r2":
            return value
        scale = self.mean_absolute_deviation if metric.name == "mean_absolute_error" else self.std
        if not scale or not math.isfinite(scale) or scale <= 0:
            return None
        return 1.0 - (value / scale) ** 2


@dataclass(frozen=True)
class Recommendation:
    """One ranked pipeline: the one record the ranking, ``recommend``, the questions and the
    priors share. Scores are in the user's metric unit; ``lower``/``upper`` bound the 10–90 %
    interval (``lower <= predicted_score <= upper`` numerically, whatever the direction);
    ``evidence`` is on the ranking metric (``r2`` for regression). ``local_weight`` is the
    weight of the user's own runs of this pipeline on other datasets (0: corpus only);
    ``observed_score`` is set when it ran on this very dataset."""

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
    observed_score: float | None = None
    local_weight: float = 0.0
    # the expected score of the best of the first ``rank`` pipelines on datasets like the
    # user's: what the order optimizes, so it improves (or stays) down the list
    expected_best_so_far: float | None = None

    @property
    def interval(self) -> tuple[float, float]:
        return (self.lower, self.upper)


@dataclass(frozen=True)
class RankedList:
    """Runnable pipelines best first, with what they were ranked on and by whom."""

    recommendations: tuple[Recommendation, ...]
    metric: str  # the user's metric
    knowledge_base_metric: str  # the stored metric the learner was fitted on
    ranking_metric: str  # the metric the order and the evidence are on
    meta_learner: str
    n_datasets: int  # knowledge-base datasets behind the learner
    n_pipelines: int  # pipelines the learner knows
    n_local_runs: int  # local observations used as evidence
    # optional libraries (the extra of each) whose pipelines were left out: not installed
    missing_libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class NearDataset:
    """A knowledge-base dataset near the user's, by distance between scaled meta-features."""

    dataset_id: str
    dataset_name: str
    distance: float


# -- the corpus prior --------------------------------------------------------------------
_LEARNERS: RecentlyUsed[MetaLearner] = RecentlyUsed(8)


def meta_learner_for(kb: KnowledgeBase, metric: Metric) -> MetaLearner:
    """The fitted corpus meta-learner ranking pipelines for ``metric`` on this view of the
    knowledge base (local runs never enter it: they are evidence, see the module docstring)."""
    from mile_meta.metalearners._default import learner_sources

    chosen = ranking_metric(metric)
    hidden = kb.existing_datasets(kb.hidden_datasets)
    corpus = learner_sources(kb, chosen.name)
    key = (str(kb.path), kb.checksum(corpus), chosen.name, hidden)
    return _LEARNERS.get(key, lambda: _corpus_learner(kb, chosen, bool(hidden), corpus))


def _corpus_learner(
    kb: KnowledgeBase, chosen: Metric, hidden: bool, corpus: tuple[str, ...]
) -> MetaLearner:
    """The saved default model's learner when it fits this knowledge base and nothing is
    hidden, else the default learner fitted now on the visible corpora."""
    from mile_meta.metalearners import fit_default_learner, load_default_model
    from mile_meta.metalearners._default import corpus_sources, learner_sources, model_sources

    learner: MetaLearner | None = None
    if not hidden:
        try:
            model = load_default_model(kb)
            if chosen.name in model.metrics:
                learner = model.learner(chosen.name)
        except (ModelError, KnowledgeBaseError):
            learner = None  # trained on other corpus data, or absent: fit below
    if learner is None:
        for sources in (
            learner_sources(kb, chosen.name, model_sources(kb)),
            corpus,
            corpus_sources(kb),
        ):
            if not sources:
                continue
            try:
                learner = fit_default_learner(kb, chosen.name, sources=sources)
                break
            except (KnowledgeBaseError, ModelError):
                continue
        if learner is None:
            raise MileMetaError(
                f"the knowledge base holds no results for {chosen.name}; pick another --metric "
                "or add a source that measured it (mile-meta kb build / crawl)"
            )
    return learner


# -- local runs as evidence ----------------------------------------------------------------
def local_weight(distance: float | None) -> float:
    """Weight of one local run on a dataset at this meta-feature distance (0 if unknown)."""
    if distance is None or not math.isfinite(distance):
        return 0.0
    return math.exp(-0.5 * (distance / LOCAL_BANDWIDTH) ** 2)


@dataclass(frozen=True)
class _Prediction:
    """A pipeline's prediction in view orientation (higher is better), before units."""

    pipeline_id: str
    family: str
    predicted: float
    lower: float
    upper: float
    seconds: float | None
    evidence: tuple[Evidence, ...]
    observed: bool = False
    local_weight: float = 0.0


def apply_local_evidence(
    predictions: dict[str, _Prediction],
    local: pd.DataFrame,
    distances: Mapping[str, float | None],
    names: Mapping[str, str],
    families: Mapping[str, str],
    duplicates: Mapping[str, str],
) -> dict[str, _Prediction]:
    """Shrink each prediction toward the user's runs on other datasets (module docstring).

    ``local`` holds one row per (dataset, pipeline) — dataset_id, pipeline_id, value (view
    orientation), std, n, runtime_seconds — for datasets other than the user's;
    ``distances`` maps those datasets to their distance from the user's; ``duplicates`` maps
    each pipeline to its near-duplicate group. Pipelines known only from local runs are
    added (one per group: the one with the most weight, then the best score).
    """
    if local.empty:
        return predictions
    known = [p for p in predictions.values() if not p.observed]
    if known:
        typical = float(np.median([p.predicted for p in known]))
        typical_low = float(np.quantile([p.predicted for p in known], 0.1))
        typical_high = float(np.quantile([p.predicted for p in known], 0.9))
    else:
        values = local["value"].to_numpy(dtype=float)
        typical, typical_low, typical_high = (
            float(np.median(values)),
            float(np.min(values)),
            float(np.max(values)),
        )
    local = local.assign(weight=[local_weight(distances.get(d)) for d in local["dataset_id"]])
    ranks = local.groupby("dataset_id")["value"].rank(ascending=False, method="min")
    local = local.assign(rank_there=ranks.astype(int))

    # near-duplicates only the user ran: keep one per group
    unknown = local[~local["pipeline_id"].isin(predictions)]
    keep_unknown: set[str] = set()
    if not unknown.empty:
        support = unknown.groupby("pipeline_id").agg(
            weight=("weight", "sum"), value=("value", "mean")
        )
        support["group"] = [duplicates.get(p, p) for p in support.index]
        support = support.sort_values(["weight", "value"], ascending=False)
        keep_unknown = set(support.drop_duplicates("group").index)

    result = dict(predictions)
    for pipeline_id, rows in local.groupby("pipeline_id"):
        pipeline_id = str(pipeline_id)
        prior = predictions.get(pipeline_id)
        if prior is not None and prior.observed:
            continue  # measured on the user's data: that observation wins
        if prior is None and pipeline_id not in keep_unknown:
            continue
        weights = rows["weight"].to_numpy(dtype=float)
        values = rows["value"].to_numpy(dtype=float)
        total = float(weights.sum())
        if prior is None:
            prior = _Prediction(
                pipeline_id,
                families.get(pipeline_id, "unknown"),
                typical,
                typical_low,
                typical_high,
                _weighted_seconds(rows),
                (),
            )
        if total <= 0:
            if pipeline_id in predictions:
                continue
            shrink, mean = 0.0, prior.predicted
        else:
            shrink = total / (PRIOR_STRENGTH + total)
            mean = float(np.sum(weights * values) / total)
        # the evidence's own spread: between datasets and within each (folds)
        fold_std = np.nan_to_num(rows["std"].to_numpy(dtype=float))
        between = float(np.sqrt(np.sum(weights * (values - mean) ** 2) / total)) if total else 0.0
        spread = Z_10_90 * (between + float(np.sum(weights * fold_std) / total) if total else 0.0)
        predicted = (1 - shrink) * prior.predicted + shrink * mean
        lower = (1 - shrink) * prior.lower + shrink * (mean - spread)
        upper = (1 - shrink) * prior.upper + shrink * (mean + spread)
        cited = tuple(
            Evidence(
                str(row.dataset_id),
                names.get(str(row.dataset_id), str(row.dataset_id)) + " (your run)",
                distances.get(str(row.dataset_id)),
                float(row.value),
                int(row.rank_there),
            )
            for row in rows.sort_values("weight", ascending=False).head(2).itertuples()
        )
        result[pipeline_id] = _Prediction(
            pipeline_id,
            prior.family,
            predicted,
            min(lower, predicted),
            max(upper, predicted),
            prior.seconds if prior.seconds is not None else _weighted_seconds(rows),
            cited + prior.evidence,
            local_weight=total,
        )
    return result


def _weighted_seconds(rows: pd.DataFrame) -> float | None:
    seconds = rows["runtime_seconds"].to_numpy(dtype=float)
    seconds = seconds[np.isfinite(seconds) & (seconds > 0)]
    return float(np.exp(np.mean(np.log(seconds)))) if seconds.size else None


def _near_duplicate_key(spec_json: str) -> str:
    """Same steps and components, any hyperparameters: a search's near-identical configs."""
    try:
        spec = PipelineSpec.from_json(spec_json)
    except (ValueError, KeyError, TypeError):
        return spec_json
    return "|".join(step.component for step in spec.steps)


# -- the ranking -------------------------------------------------------------------------
def rank_pipelines(
    kb: KnowledgeBase,
    metric: Metric,
    task_type: str,
    meta_features: Mapping[str, float],
    *,
    observed: Mapping[str, float] | None = None,
    observed_std: Mapping[str, float] | None = None,
    own_dataset_id: str | None = None,
    target_spread: TargetSpread | None = None,
    evidence_per_pipeline: int = 3,
) -> RankedList:
    """Rank the runnable pipelines of this view of ``kb`` for ``metric`` on data like this.

    ``observed`` maps pipeline ids to scores measured on the user's data (``metric`` unit);
    ``own_dataset_id`` (``local:<content hash>``) makes the user's recorded runs on the same
    data count as such observations. Regression needs ``target_spread`` unless ``metric`` is
    ``r2``. Hide datasets or local runs with a view: ``kb.without(...)``.
    """
    chosen = ranking_metric(metric)
    regression = chosen.name != metric.name
    if (
        regression
        and metric.name != "r2"
        and (
            target_spread is None or not math.isfinite(target_spread.std) or target_spread.std <= 0
        )
    ):
        raise MileMetaError(
            f"{metric.name} is predicted from the target's spread (pipelines are ranked on r2); "
            "pass the data, or target_spread=TargetSpread(std, mean_absolute_deviation), or "
            "use --metric r2"
        )
    learner = meta_learner_for(kb, metric)
    sign = 1.0 if chosen.higher_is_better else -1.0

    def to_ranking_unit(value: float) -> float | None:
        if not regression:
            return value
        assert target_spread is not None or metric.name == "r2"
        spread = target_spread or TargetSpread(1.0, 1.0)
        return spread.from_metric(metric, value)

    # observations on this very dataset: given, and recorded earlier with the same content
    seen: dict[str, float] = {}
    seen_std: dict[str, float] = {}
    local = kb.local_results(_local_metrics(chosen, metric))
    if own_dataset_id is not None and not local.empty:
        own = local[local["dataset_id"] == own_dataset_id]
        for row in own.itertuples():
            value = _local_value(row.metric, float(row.value), chosen, metric, to_ranking_unit)
            if value is not None:
                seen[str(row.pipeline_id)] = value
                seen_std[str(row.pipeline_id)] = float(row.std) if row.std == row.std else 0.0
        local = local[local["dataset_id"] != own_dataset_id]
    for pipeline_id, value in (observed or {}).items():
        converted = to_ranking_unit(float(value))
        if converted is not None:
            seen[str(pipeline_id)] = converted
            seen_std[str(pipeline_id)] = float((observed_std or {}).get(pipeline_id, 0.0))

    known = set(learner.pipeline_ids_)
    ranking = learner.rank(
        meta_features,
        {key: value for key, value in seen.items() if key in known},
        evidence=evidence_per_pipeline,
    )
    names = kb.dataset_names(set(learner.dataset_ids_) | set(local["dataset_id"]))
    predictions = {
        item.pipeline_id: _from_learner(item, sign, names, seen_std) for item in ranking.pipelines
    }
    first_pick = next(
        (item.pipeline_id for item in ranking.pipelines if item.observed_score is None), None
    )
    for pid, p in list(predictions.items()):
        if not p.observed:
            low, high = calibrated_interval(
                chosen.name, p.predicted, p.lower, p.upper, first_pick=pid == first_pick
            )
            predictions[pid] = replace(p, lower=low, upper=high)
    predictions = _widen_thin_intervals(predictions, learner)
    # observed pipelines the learner does not know (only the user ran them)
    runnable, missing = _installed(kb.runnable_pipelines(task_type))
    for pipeline_id, value in seen.items():
        if pipeline_id not in predictions and pipeline_id in runnable:
            width = Z_10_90 * seen_std.get(pipeline_id, 0.0)
            predictions[pipeline_id] = _Prediction(
                pipeline_id,
                runnable[pipeline_id][1],
                sign * value,
                sign * value - width,
                sign * value + width,
                None,
                (),
                observed=True,
            )

    n_local = 0
    if not local.empty:
        local = local.assign(
            value=[
                _local_value(m, float(v), chosen, metric, None)
                for m, v in zip(local["metric"], local["value"], strict=True)
            ]
        ).dropna(subset=["value"])
        local = local.assign(value=sign * local["value"].astype(float))
        local = local[local["pipeline_id"].isin(runnable) | local["pipeline_id"].isin(known)]
        n_local = len(local)
        qualities = kb.local_qualities(sorted(set(local["dataset_id"])))
        query = learner.feature_space_.transform_mapping(meta_features)
        distances: dict[str, float | None] = {}
        for dataset_id, values in qualities.items():
            row = learner.feature_space_.transform_mapping(values)
            distance = float(learner.feature_space_.distances(query, row[None, :])[0])
            distances[dataset_id] = distance if math.isfinite(distance) else None
        families = {p: info[1] for p, info in runnable.items()}
        duplicates = {p: _near_duplicate_key(info[0]) for p, info in runnable.items()}
        predictions = apply_local_evidence(
            predictions, local, distances, names, families, duplicates
        )

    order = _try_order([item.pipeline_id for item in ranking.pipelines], predictions)
    order = [pid for pid in order if pid in runnable]
    if not order:
        raise MileMetaError(
            f"no runnable pipeline in the knowledge base serves {metric.name} on {task_type} data"
        )
    best_so_far = _expected_best_so_far(learner, meta_features, order, predictions)
    fit_seconds = _fit_seconds(kb, learner, meta_features, order, predictions)
    predictions = {
        pid: replace(p, seconds=fit_seconds.get(pid, p.seconds)) for pid, p in predictions.items()
    }
    recommendations = tuple(
        _recommendation(
            rank,
            predictions[pid],
            runnable[pid][0],
            runnable[pid][2],
            sign,
            metric,
            target_spread,
            regression,
            best,
        )
        for rank, (pid, best) in enumerate(zip(order, best_so_far, strict=True), start=1)
    )
    return RankedList(
        recommendations=recommendations,
        metric=metric.name,
        knowledge_base_metric=knowledge_base_metric(kb, metric),
        ranking_metric=chosen.name,
        meta_learner=ranking.learner,
        n_datasets=len(learner.dataset_ids_),
        n_pipelines=len(learner.pipeline_ids_),
        n_local_runs=n_local,
        missing_libraries=missing,
    )


def _installed(
    runnable: dict[str, tuple[str, str, str]],
) -> tuple[dict[str, tuple[str, str, str]], tuple[str, ...]]:
    """The pipelines whose libraries are installed here, and the missing libraries."""
    from mile_meta.pipelines._boosting import missing_library

    absent: dict[str, bool] = {}
    kept: dict[str, tuple[str, str, str]] = {}
    missing: set[str] = set()
    for pipeline_id, info in runnable.items():
        needs = [lib for lib in _libraries(info[0]) if absent.setdefault(lib, missing_library(lib))]
        if needs:
            missing.update(needs)
        else:
            kept[pipeline_id] = info
    return kept, tuple(sorted(missing))


@functools.lru_cache(maxsize=8192)
def _libraries(spec_json: str) -> tuple[str, ...]:
    """The optional libraries a pipeline needs (installed or not)."""
    from mile_meta.pipelines.components import COMPONENTS

    try:
        steps = PipelineSpec.from_json(spec_json).steps
    except (ValueError, KeyError, TypeError):
        return ()
    return tuple(
        info.library
        for info in (COMPONENTS.get(step.component) for step in steps)
        if info is not None and info.library is not None
    )


def calibrated_interval(
    metric: str, predicted: float, lower: float, upper: float, *, first_pick: bool = False
) -> tuple[float, float]:
    """The printed 10-90 % interval (view orientation) from a learner's: see
    :data:`INTERVAL_CALIBRATION` and :data:`FIRST_PICK_CALIBRATION` (unchanged for a metric
    without calibration)."""
    table = FIRST_PICK_CALIBRATION if first_pick else INTERVAL_CALIBRATION
    offsets = table.get(metric, INTERVAL_CALIBRATION.get(metric))
    width = upper - lower
    if offsets is None or not width > 0:
        return lower, upper
    low, high = predicted + offsets[0] * width, predicted + offsets[1] * width
    return min(low, predicted), max(high, predicted)


def _widen_thin_intervals(
    predictions: dict[str, _Prediction], learner: MetaLearner
) -> dict[str, _Prediction]:
    """A pipeline measured on few datasets has an interval no narrower than its evidence
    allows: its own interval blended with the spread of all predictions, the latter weighted
    as ``PRIOR_STRENGTH`` datasets against its ``n`` (a pipeline seen once — an auto-sklearn
    incumbent — would otherwise get a zero-width interval from the learner's filled cells)."""
    unobserved = [p.predicted for p in predictions.values() if not p.observed]
    if len(unobserved) < 2:
        return predictions
    typical_low, typical_high = np.quantile(unobserved, [0.1, 0.9])
    counts = dict(
        zip(learner.pipeline_ids_, np.isfinite(learner.scores_).sum(axis=0).tolist(), strict=True)
    )
    widened = {}
    for pipeline_id, p in predictions.items():
        n = counts.get(pipeline_id, 0)
        if p.observed:
            widened[pipeline_id] = p
            continue
        share = PRIOR_STRENGTH / (n + PRIOR_STRENGTH)
        low = (1 - share) * p.lower + share * min(typical_low, p.predicted)
        high = (1 - share) * p.upper + share * max(typical_high, p.predicted)
        widened[pipeline_id] = replace(
            p, lower=min(p.lower, low, p.predicted), upper=max(p.upper, high, p.predicted)
        )
    return widened


def _try_order(learner_order: list[str], predictions: Mapping[str, _Prediction]) -> list[str]:
    """The learner's order (its first pick is its best single bet, the next ones add most to
    the best of the first k), with the pipelines it does not know — only the user ran them —
    placed where their predicted score ranks among all predictions."""
    known = set(learner_order)
    extras = [pid for pid in predictions if pid not in known]
    if not extras:
        return list(learner_order)
    by_score = sorted(predictions, key=lambda pid: -predictions[pid].predicted)
    position = {pid: index for index, pid in enumerate(by_score)}
    order = list(learner_order)
    for pid in sorted(extras, key=lambda pid: position[pid]):
        order.insert(min(position[pid], len(order)), pid)
    return order


def _expected_best_so_far(
    learner: MetaLearner,
    meta_features: Mapping[str, float],
    order: list[str],
    predictions: Mapping[str, _Prediction],
) -> list[float]:
    """View orientation: for each k, the similarity-weighted mean over the knowledge-base
    datasets of the best (filled) score among the first k pipelines, on the level the
    predictions are on (a pipeline the learner does not know, or one measured on the user's
    data, contributes its prediction on every dataset). Non-decreasing by construction."""
    from mile_meta.metalearners._base import EVIDENCE_BANDWIDTH
    from mile_meta.metalearners._features import similarity_weights

    query = learner.feature_space_.transform_mapping(meta_features)
    weights = similarity_weights(
        learner.feature_space_.distances(query, learner.features_), EVIDENCE_BANDWIDTH
    )
    filled = learner.filled_scores_
    # each dataset's scores shifted to the level the predictions are on (the learner maps
    # neighbours' regrets to this dataset's best/worst), so the two kinds of column compare
    best_seen = np.full(filled.shape[0], -np.inf)
    result: list[float] = []
    offset = None
    for pid in order:
        prediction = predictions[pid]
        column = learner.pipeline_position_.get(pid)
        if column is not None and not prediction.observed:
            values = filled[:, column]
            if offset is None:
                offset = prediction.predicted - float(np.sum(weights * values))
            values = values + offset
        else:
            values = np.full(filled.shape[0], prediction.predicted)
        best_seen = np.maximum(best_seen, values)
        result.append(float(np.sum(weights * best_seen)))
    return result


def _local_metrics(chosen: Metric, metric: Metric) -> list[str]:
    names = [chosen.name, metric.name]
    names += [stored for stored, _ in KNOWLEDGE_BASE_METRICS.get(chosen.name, ())]
    return list(dict.fromkeys(names))


def _local_value(
    stored: str, value: float, chosen: Metric, metric: Metric, to_ranking_unit: Any
) -> float | None:
    """A local run's value in the ranking metric's unit (None if it cannot be converted)."""
    if stored == chosen.name:
        return value
    for name, transform in KNOWLEDGE_BASE_METRICS.get(chosen.name, ()):
        if name == stored:
            return 1.0 - value if transform == "one_minus" else value
    if stored == metric.name and to_ranking_unit is not None:
        # a regression run in the user's unit converts only on the user's own target
        converted: float | None = to_ranking_unit(value)
        return converted
    return None


def _nearest_positions(
    learner: MetaLearner, meta_features: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The learner's training datasets nearest first (positions), and every distance: the
    distance the evidence and the fit times are read by."""
    features = learner.feature_space_.transform_mapping(meta_features)
    distances = np.asarray(
        learner.feature_space_.distances(features, learner.features_), dtype=float
    )
    order = np.argsort(np.where(np.isfinite(distances), distances, np.inf), kind="stable")
    return order, distances


def _fit_seconds(
    kb: KnowledgeBase,
    learner: MetaLearner,
    meta_features: Mapping[str, float],
    order: Sequence[str],
    predictions: Mapping[str, _Prediction],
) -> dict[str, float]:
    """Each known pipeline's fit time on the user's data, by :mod:`mile_meta.fit_time`: its
    times on the :data:`NEAREST_DATASETS` nearest datasets, scaled to the user's rows and
    one-hot width (pipelines it cannot estimate keep the learner's unscaled figure)."""
    from mile_meta.fit_time import FitTimeScaling, scale_times, width_exponents
    from mile_meta.metalearners._view import apply_quality_stand_ins

    known = apply_quality_stand_ins(
        {k: float(v) for k, v in meta_features.items() if v is not None and v == v}
    )
    rows = known.get("NumberOfInstances")
    if not rows or rows <= 0:
        return {}
    width = known.get("NumberOfFeaturesAfterBinarization")
    scaling = FitTimeScaling.of(kb)
    pids = [p for p in order if p in learner.pipeline_position_ and not predictions[p].observed]
    if not pids:
        return {}
    columns = [learner.pipeline_position_[p] for p in pids]
    nearest, _ = _nearest_positions(learner, meta_features)
    nearest = nearest[:NEAREST_DATASETS]
    sizes = scaling.sizes.reindex(list(learner.dataset_ids_))
    dataset_rows = sizes["rows"].to_numpy(dtype=float)
    dataset_width = sizes["width"].to_numpy(dtype=float)
    seconds = np.exp(learner.log_runtime_[:, columns])
    powers = (
        width_exponents(seconds, dataset_rows, dataset_width)
        if width
        else np.full(len(pids), np.nan)
    )
    scaled = scale_times(
        seconds[nearest],
        dataset_rows[nearest],
        dataset_width[nearest],
        int(rows),
        int(width) if width else None,
        np.array([scaling.rows_exponent(predictions[p].family) for p in pids]),
        powers,
    )
    estimates = {}
    for position, pid in enumerate(pids):
        values = scaled[:, position]
        values = values[np.isfinite(values)]
        if values.size:
            estimates[pid] = float(np.median(values))
    return estimates


def _from_learner(
    item: RankedPipeline, sign: float, names: Mapping[str, str], seen_std: Mapping[str, float]
) -> _Prediction:
    """A learner's ranked pipeline in view orientation, with readable evidence names."""
    predicted = sign * item.predicted_score
    low, high = sorted((sign * item.lower, sign * item.upper))
    if item.observed_score is not None:
        width = Z_10_90 * seen_std.get(item.pipeline_id, 0.0)
        low, high = predicted - width, predicted + width
    evidence = tuple(
        Evidence(
            e.dataset_id,
            names.get(e.dataset_id, e.dataset_name),
            e.distance,
            e.observed_score,
            e.rank_on_dataset,
        )
        for e in item.evidence
    )
    return _Prediction(
        item.pipeline_id,
        item.family,
        predicted,
        low,
        high,
        item.expected_runtime_seconds,
        evidence,
        observed=item.observed_score is not None,
    )


def _recommendation(
    rank: int,
    prediction: _Prediction,
    spec_json: str,
    origin_key: str,
    sign: float,
    metric: Metric,
    spread: TargetSpread | None,
    regression: bool,
    best_so_far: float,
) -> Recommendation:
    def unit(value: float) -> float:
        value = sign * value
        if regression and spread is not None:
            value = spread.to_metric(metric, value)
        return min(max(value, metric.bounds[0]), metric.bounds[1])

    ends = sorted((unit(prediction.lower), unit(prediction.upper)))
    predicted = unit(prediction.predicted)
    return Recommendation(
        rank=rank,
        pipeline_id=prediction.pipeline_id,
        spec=PipelineSpec.from_json(spec_json),
        family=prediction.family,
        origin_key=origin_key,
        predicted_score=predicted,
        lower=min(ends[0], predicted),
        upper=max(ends[1], predicted),
        expected_fit_seconds=prediction.seconds,
        evidence=prediction.evidence,
        observed_score=predicted if prediction.observed else None,
        local_weight=prediction.local_weight,
        expected_best_so_far=unit(best_so_far),
    )


def nearest_datasets(
    kb: KnowledgeBase,
    meta_features: Mapping[str, float],
    metric: Metric,
    *,
    k: int = NEAREST_DATASETS,
    exclude: Sequence[str] = (),
) -> tuple[NearDataset, ...]:
    """The ``k`` knowledge-base datasets closest to ``meta_features``, by the distance the
    recommender's evidence uses (``exclude``: shorthand for ``kb.without(exclude)``)."""
    view = kb.without(exclude) if exclude else kb
    learner = meta_learner_for(view, metric)
    order, distances = _nearest_positions(learner, meta_features)
    names = view.dataset_names([learner.dataset_ids_[i] for i in order[:k]])
    return tuple(
        NearDataset(learner.dataset_ids_[i], names[learner.dataset_ids_[i]], float(distances[i]))
        for i in order[:k]
        if learner.dataset_ids_[i] not in view.hidden_datasets
    )
