"""``KnowledgeBaseView``: what a meta-learner learns from, read once from the knowledge base.

A view is the dataset × pipeline matrix of one metric (higher is better, NaN where a pipeline
was not evaluated), the matching runtimes in seconds, the datasets' meta-features (OpenML
qualities) and the pipelines' descriptors. It is held in memory so leave-one-dataset-out
experiments (:meth:`KnowledgeBaseView.without`) cost no database reads.

Metric equivalences used to fill a view (same quantity, another unit):

* ``balanced_accuracy`` = 1 − ``balanced_error_rate`` (Oboe's measure), and the reverse.

Meta-feature equivalences:

* Oboe's ``OboeEncodedFeatures`` (columns after Oboe's one-hot encoding) stands in for OpenML's
  ``NumberOfFeaturesAfterBinarization`` where OpenML's value is unknown (on the 96 datasets
  with both, the two differ by a median of 3.5 %), so a new dataset's computed qualities can
  be compared with every Oboe dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mile_meta.errors import KnowledgeBaseError
from mile_meta.metrics import resolve_metric

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = ["METRIC_EQUIVALENCES", "KnowledgeBaseView", "canonical_dataset_id"]

# requested metric -> [(metric stored in the knowledge base, conversion to the requested one)]
METRIC_EQUIVALENCES: dict[str, tuple[tuple[str, Callable[[np.ndarray], np.ndarray]], ...]] = {
    "balanced_accuracy": (("balanced_error_rate", lambda value: 1.0 - value),),
    "balanced_error_rate": (("balanced_accuracy", lambda value: 1.0 - value),),
}

# quality name -> stand-in used where it is missing
QUALITY_STAND_INS: dict[str, str] = {
    "NumberOfFeaturesAfterBinarization": "OboeEncodedFeatures",
}

# Corpus qualities come from OpenML; Oboe's two size columns are the weakest, and
# auto-sklearn computed its same-named meta-features on a training split without the target,
# so both lose any tie with another source's value of the same quality.
# mile-meta's own computations (the defaults corpus, the user's datasets) lose to OpenML's.
_LAST_QUALITY_SOURCES = ("autosklearn", "defaults", "local", "oboe")


def canonical_dataset_id(key: str | int) -> str:
    """``31``, ``"31"`` and ``"openml:31"`` all name ``openml:31``; other ids pass unchanged."""
    text = str(key).strip()
    return f"openml:{int(text)}" if text.isdigit() else text


def apply_quality_stand_ins(values: dict[str, float]) -> dict[str, float]:
    """Fill a missing quality from its stand-in (see the module docstring) and drop the stand-in."""
    filled = dict(values)
    for quality, stand_in in QUALITY_STAND_INS.items():
        if stand_in in filled:
            stand_in_value = filled.pop(stand_in)
            current = filled.get(quality)
            if current is None or not np.isfinite(current):
                filled[quality] = stand_in_value
    return filled


@dataclass(frozen=True, eq=False)
class KnowledgeBaseView:
    """One metric's performance matrix with meta-features and pipeline descriptors.

    ``scores`` and ``runtime_seconds`` are read-only arrays of shape
    ``(len(dataset_ids), len(pipeline_ids))``; ``scores`` is oriented so higher is better
    (a lower-is-better metric is negated: ``-log_loss``); :meth:`to_metric` and
    :meth:`from_metric` convert. ``meta_features`` is indexed by ``dataset_ids`` (NaN where
    unknown); ``pipelines`` is indexed by ``pipeline_ids`` with columns ``family``,
    ``spec_json``, ``origin_key`` and ``source``.
    """

    metric: str
    higher_is_better: bool
    dataset_ids: tuple[str, ...]
    dataset_names: tuple[str, ...]
    pipeline_ids: tuple[str, ...]
    scores: np.ndarray
    runtime_seconds: np.ndarray
    meta_features: pd.DataFrame
    pipelines: pd.DataFrame
    sources: tuple[str, ...]
    quality_sources: tuple[str, ...]
    metric_sources: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        shape = (len(self.dataset_ids), len(self.pipeline_ids))
        for name in ("scores", "runtime_seconds"):
            array = np.array(getattr(self, name), dtype=float)
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    # -- building ------------------------------------------------------------------------
    @classmethod
    def from_kb(
        cls,
        kb: KnowledgeBase,
        metric: str,
        *,
        exclude_datasets: Iterable[str | int] = (),
        sources: Iterable[str] | None = None,
        quality_sources: Iterable[str] | None = None,
    ) -> KnowledgeBaseView:
        """Read the view of ``metric`` (an alias such as ``accuracy`` works) from ``kb``.

        ``sources`` limits the evaluations to those corpora (default: every source with
        results for the metric or an equivalent one); ``quality_sources`` limits where
        meta-features come from (default: the same as ``sources``, so a model's inputs are
        covered by ``kb.checksum(sources)``). ``exclude_datasets`` takes OpenML ids or dataset
        ids and removes those datasets entirely (leakage-safe experiments).
        """
        requested = resolve_metric(metric)
        chosen_sources = None if sources is None else list(sources)
        stored = [(requested.name, None), *METRIC_EQUIVALENCES.get(requested.name, ())]
        frames = []
        metric_sources = []
        for stored_metric, convert in stored:
            frame = kb.evaluations_frame(stored_metric, sources=chosen_sources)
            if frame.empty:
                continue
            metric_sources.append(stored_metric)
            values = frame["value"].to_numpy(dtype=float)
            if convert is not None:
                values = convert(values)
            frames.append(frame.assign(value=values))
        if not frames:
            where = f" from sources {', '.join(chosen_sources)}" if chosen_sources else ""
            raise KnowledgeBaseError(
                f"no evaluations of {requested.name}{where} in {kb.path}; build the knowledge base "
                "with `mile-meta kb build` or choose another --metric"
            )
        # The requested metric itself wins over an equivalent one for the same cell.
        long = pd.concat(frames, ignore_index=True).drop_duplicates(
            ["dataset_id", "pipeline_id"], keep="first"
        )
        excluded = {canonical_dataset_id(key) for key in exclude_datasets}
        long = long[~long["dataset_id"].isin(excluded)]
        if long.empty:
            raise KnowledgeBaseError(
                f"every dataset with {requested.name} results was excluded; exclude fewer datasets"
            )
        sign = 1.0 if requested.higher_is_better else -1.0
        scores = long.pivot(index="dataset_id", columns="pipeline_id", values="value")
        runtimes = long.pivot(index="dataset_id", columns="pipeline_id", values="runtime_seconds")
        runtimes = runtimes.reindex(index=scores.index, columns=scores.columns)
        dataset_ids = tuple(str(key) for key in scores.index)
        pipeline_ids = tuple(str(key) for key in scores.columns)

        used_sources = sorted(
            name
            for name in kb.sources_with_metrics(metric_sources)
            if chosen_sources is None or name in chosen_sources
        )
        chosen_quality_sources = (
            list(quality_sources) if quality_sources is not None else list(used_sources)
        )
        meta_features = _meta_features(kb, dataset_ids, chosen_quality_sources)
        return cls(
            metric=requested.name,
            higher_is_better=requested.higher_is_better,
            dataset_ids=dataset_ids,
            dataset_names=tuple(kb.dataset_names(dataset_ids)[d] for d in dataset_ids),
            pipeline_ids=pipeline_ids,
            scores=sign * scores.to_numpy(dtype=float),
            runtime_seconds=runtimes.to_numpy(dtype=float),
            meta_features=meta_features,
            pipelines=kb.pipeline_descriptors(pipeline_ids),
            sources=tuple(used_sources),
            quality_sources=tuple(chosen_quality_sources),
            metric_sources=tuple(metric_sources),
        )

    def without(self, dataset_ids: Iterable[str | int]) -> KnowledgeBaseView:
        """The same view minus some datasets (pipelines left with no result are kept)."""
        drop = {canonical_dataset_id(key) for key in dataset_ids}
        keep = np.array([dataset_id not in drop for dataset_id in self.dataset_ids])
        return self._subset(keep)

    def with_pipelines_measured_on(self, min_datasets: int) -> KnowledgeBaseView:
        """The same view keeping the pipelines with results on at least ``min_datasets``
        datasets (and the datasets left with a result)."""
        keep = np.isfinite(self.scores).sum(axis=0) >= min_datasets
        if keep.all():
            return self
        rows = np.isfinite(self.scores[:, keep]).any(axis=1)
        return self._subset(rows, keep)

    def only(self, dataset_ids: Iterable[str | int]) -> KnowledgeBaseView:
        """The same view restricted to some datasets, in the view's order."""
        wanted = {canonical_dataset_id(key) for key in dataset_ids}
        keep = np.array([dataset_id in wanted for dataset_id in self.dataset_ids])
        return self._subset(keep)

    def _subset(self, rows: np.ndarray, columns: np.ndarray | None = None) -> KnowledgeBaseView:
        """The datasets of ``rows`` and the pipelines of ``columns`` (boolean masks; all
        pipelines when None)."""
        if columns is None:
            columns = np.ones(len(self.pipeline_ids), dtype=bool)
        kept_ids = tuple(d for d, k in zip(self.dataset_ids, rows, strict=True) if k)
        pipeline_ids = tuple(p for p, k in zip(self.pipeline_ids, columns, strict=True) if k)
        return KnowledgeBaseView(
            metric=self.metric,
            higher_is_better=self.higher_is_better,
            dataset_ids=kept_ids,
            dataset_names=tuple(n for n, k in zip(self.dataset_names, rows, strict=True) if k),
            pipeline_ids=pipeline_ids,
            scores=self.scores[rows][:, columns],
            runtime_seconds=self.runtime_seconds[rows][:, columns],
            meta_features=self.meta_features.loc[list(kept_ids)],
            pipelines=self.pipelines.loc[list(pipeline_ids)],
            sources=self.sources,
            quality_sources=self.quality_sources,
            metric_sources=self.metric_sources,
        )

    # -- reading -------------------------------------------------------------------------
    @property
    def n_datasets(self) -> int:
        return len(self.dataset_ids)

    @property
    def n_pipelines(self) -> int:
        return len(self.pipeline_ids)

    @property
    def density(self) -> float:
        """Fraction of dataset × pipeline cells with a result."""
        return float(np.isfinite(self.scores).mean()) if self.scores.size else 0.0

    @cached_property
    def normalized_regret(self) -> np.ndarray:
        """Per dataset, ``(best − score) / (best − worst)`` over its evaluated pipelines.

        0 is the dataset's best pipeline, 1 its worst; NaN where not evaluated. A dataset
        whose pipelines all score the same gets 0 everywhere it was evaluated.
        """
        return normalized_regret(self.scores)

    def to_metric(self, scores: np.ndarray | float) -> np.ndarray | float:
        """View-oriented scores (higher is better) in the metric's own unit."""
        if self.higher_is_better:
            return scores
        return -np.asarray(scores) if np.ndim(scores) else -float(scores)

    def from_metric(self, values: np.ndarray | float) -> np.ndarray | float:
        """Metric values oriented like the view (higher is better)."""
        return self.to_metric(values)

    def __repr__(self) -> str:
        return (
            f"KnowledgeBaseView(metric={self.metric!r}, datasets={self.n_datasets}, "
            f"pipelines={self.n_pipelines}, density={self.density:.2f}, sources={self.sources})"
        )


def normalized_regret(scores: np.ndarray) -> np.ndarray:
    """Row-wise ``(row max − score) / (row max − row min)`` ignoring NaN (see the view)."""
    scores = np.asarray(scores, dtype=float)
    evaluated = np.isfinite(scores)
    has_any = evaluated.any(axis=1)
    best = np.full(scores.shape[0], np.nan)
    worst = np.full(scores.shape[0], np.nan)
    best[has_any] = np.nanmax(scores[has_any], axis=1)
    worst[has_any] = np.nanmin(scores[has_any], axis=1)
    spread = best - worst
    spread[~(spread > 0)] = 1.0  # all equal: every evaluated pipeline is "the best"
    return (best[:, None] - scores) / spread[:, None]


def _meta_features(
    kb: KnowledgeBase, dataset_ids: tuple[str, ...], sources: list[str]
) -> pd.DataFrame:
    ordered = sorted(sources, key=lambda name: (name in _LAST_QUALITY_SOURCES, name))
    wide = kb.qualities_frame(sources=ordered) if ordered else pd.DataFrame()
    wide = wide.reindex(index=list(dataset_ids))
    for quality, stand_in in QUALITY_STAND_INS.items():
        if stand_in in wide.columns:
            if quality in wide.columns:
                wide[quality] = wide[quality].fillna(wide[stand_in])
            else:
                wide[quality] = wide[stand_in]
            wide = wide.drop(columns=stand_in)
    wide = wide.astype(float)
    wide.index.name = "dataset_id"
    return wide[sorted(wide.columns)]
