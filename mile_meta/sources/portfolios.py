"""The anchors' portfolios as a warm start: what AutoGluon, FLAML and auto-sklearn 2.0 try first.

:func:`portfolio_configurations` answers "in which order would those tools start on this
task?" with runnable :class:`~mile_meta.pipelines.PipelineSpec` objects, one list merged
from the three portfolios:

- AutoGluon: its zero-shot portfolio in fit order for the task type;
- FLAML: the order FLAML keeps for the training dataset nearest to this one, by FLAML's own
  rule (its four meta-features, centred on the median and divided by the interquartile
  range of its training datasets, one nearest neighbour); without meta-features, the
  configurations by their mean rank over all its training datasets;
- auto-sklearn 2.0 (classification): the portfolio for the metric (balanced accuracy, ROC
  AUC or log loss; balanced accuracy for any other) and the evaluation policy closest to a
  mile-meta search (successive halving with 5-fold CV up to 1000 rows, 3-fold above;
  auto-sklearn picks the policy with a learned selector instead).

The lists take turns (AutoGluon's first, FLAML's first, auto-sklearn's first, AutoGluon's
second, ...), each pipeline once, skipping configurations that do not translate or whose
library (xgboost, catboost) is not installed. Positions are read from the knowledge base when
it holds the portfolio sources, else from the bundled snapshot.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mile_meta.errors import MileMetaError
from mile_meta.kb._portfolios import PortfolioPosition, portfolio_positions
from mile_meta.pipelines.components import COMPONENTS
from mile_meta.pipelines.spec import PipelineSpec
from mile_meta.sources._portfolio import PortfolioSource
from mile_meta.sources.flaml_portfolio import META_FEATURES as FLAML_META_FEATURES

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "PORTFOLIO_SOURCES",
    "PortfolioCandidate",
    "portfolio_candidates",
    "portfolio_configurations",
]

PORTFOLIO_SOURCES = ("autogluon_portfolio", "flaml_portfolio", "autosklearn2_portfolio")
# our metric names -> the auto-sklearn 2.0 portfolio built for it
_ASKL2_METRICS = {
    "balanced_accuracy": "balanced_accuracy",
    "roc_auc": "roc_auc",
    "area_under_roc_curve": "roc_auc",
    "log_loss": "log_loss",
}
_TASK_TYPES = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class PortfolioCandidate:
    """A configuration to try, with where it comes from: ``rank`` in ``source``'s list
    ``portfolio`` (a mean rank where several lists were merged), the tool's name for it."""

    spec: PipelineSpec
    source: str
    portfolio: str
    rank: float
    origin_key: str

    def describe(self) -> str:
        tool = {
            "autogluon_portfolio": "AutoGluon zero-shot portfolio",
            "flaml_portfolio": "FLAML zero-shot portfolio",
            "autosklearn2_portfolio": "auto-sklearn 2.0 portfolio",
        }.get(self.source, self.source)
        return f"{tool} #{self.rank:g} ({self.origin_key})"


def _positions(
    source: str, task_type: str, kb: KnowledgeBase | None
) -> tuple[list[PortfolioPosition], dict[str, dict[str, float]]]:
    """The source's positions for the task, and the meta-features of its portfolio datasets."""
    if kb is not None and source in kb.source_names():
        positions = portfolio_positions(kb, sources=[source], task_type=task_type)
        qualities: dict[str, dict[str, float]] = {}
        if source == "flaml_portfolio":
            wide = kb.qualities_frame(sources=[source])
            for dataset_id, row in wide.iterrows():
                qualities[str(dataset_id).split(":", 1)[1]] = {
                    name: float(value) for name, value in row.items() if value == value
                }
        return positions, qualities
    return _positions_from_snapshot(source, task_type)


@functools.cache
def _snapshot(
    source: str, folder: str
) -> tuple[tuple[PortfolioPosition, ...], dict[str, dict[str, float]]]:
    """A bundled portfolio's positions and qualities, read once per process and folder."""
    from mile_meta.sources import make_source

    made = make_source(source, Path(folder))
    assert isinstance(made, PortfolioSource)
    positions = []
    for slot in made.slots():
        spec = slot.translation.spec
        positions.append(
            PortfolioPosition(
                source,
                slot.portfolio,
                slot.task_type,
                slot.rank,
                spec.pipeline_id if spec is not None else "",
                spec.to_json() if spec is not None else slot.raw,
                spec is not None,
                slot.origin_key,
            )
        )
    return tuple(positions), made.qualities()


def _positions_from_snapshot(
    source: str, task_type: str
) -> tuple[list[PortfolioPosition], dict[str, dict[str, float]]]:
    from mile_meta.corpora import default_snapshot_dir

    positions, qualities = _snapshot(source, str(default_snapshot_dir()))
    accepted = {task_type, "classification"} if task_type != "regression" else {task_type}
    return [p for p in positions if p.task_type in accepted], qualities


def _by_portfolio(positions: Iterable[PortfolioPosition]) -> dict[str, list[PortfolioPosition]]:
    grouped: dict[str, list[PortfolioPosition]] = {}
    for position in positions:
        grouped.setdefault(position.portfolio, []).append(position)
    for ranked in grouped.values():
        ranked.sort(key=lambda p: p.rank)
    return grouped


def _mean_rank(
    lists: Sequence[list[PortfolioPosition]], portfolio: str
) -> list[tuple[PortfolioPosition, float]]:
    """Merge ranked lists by mean rank; a configuration missing from a list ranks last there."""
    first: dict[str, PortfolioPosition] = {}
    for ranked in lists:
        for position in ranked:
            first.setdefault(position.origin_key, position)
    ranks = [({p.origin_key: p.rank for p in ranked}, len(ranked) + 1) for ranked in lists]
    mean = {
        key: float(np.mean([found.get(key, missing) for found, missing in ranks])) for key in first
    }
    merged = sorted(first.values(), key=lambda p: (mean[p.origin_key], p.origin_key))
    return [(dataclasses.replace(p, portfolio=portfolio), mean[p.origin_key]) for p in merged]


def _askl2_policy(n_rows: float | None) -> str:
    """The auto-sklearn 2.0 policy closest to how a mile-meta search evaluates: successive
    halving, 5-fold CV up to 1000 rows and 3-fold above (holdout when the size is unknown,
    the policy auto-sklearn's selector prefers on ties)."""
    if n_rows is None or n_rows != n_rows:
        return "RF_SH-eta4-i_holdout_iterative_es_if"
    return f"RF_SH-eta4-i_{5 if n_rows <= 1000 else 3}CV_iterative_es_if"


def _flaml_vector(values: Mapping[str, float]) -> list[float | None]:
    vector: list[float | None] = []
    for name in FLAML_META_FEATURES:  # FLAML's order
        value = values.get(name)
        if value is not None and name == "PercentageOfNumericFeatures":
            value = value / 100.0  # OpenML's percent; FLAML uses a fraction
        vector.append(None if value is None or value != value else float(value))
    return vector


def _nearest_flaml_portfolio(
    grouped: Mapping[str, list[PortfolioPosition]],
    qualities: Mapping[str, Mapping[str, float]],
    meta_features: Mapping[str, float],
) -> str | None:
    """FLAML's rule: robust-scale the meta-features over its training datasets, take the
    nearest one (Euclidean) among those given; None when no meta-feature is given."""
    names = sorted(grouped)
    query = _flaml_vector(meta_features)
    used = [index for index, value in enumerate(query) if value is not None]
    if not used or not names:
        return None
    table = np.array(
        [
            [v if v is not None else np.nan for v in _flaml_vector(qualities.get(n, {}))]
            for n in names
        ]
    )
    center = np.median(table, axis=0)
    scale = np.percentile(table, 75, axis=0) - np.percentile(table, 25, axis=0)
    scale[~(scale > 0)] = 1.0  # FLAML: a constant meta-feature is not rescaled
    point = np.array([v if v is not None else np.nan for v in query])
    normalised = (table - center) / scale
    distances = np.sqrt(np.nansum(((normalised - (point - center) / scale)[:, used]) ** 2, axis=1))
    return names[int(np.argmin(distances))]


def _ranked_lists(
    task_type: str,
    meta_features: Mapping[str, float],
    kb: KnowledgeBase | None,
    metric: str | None,
    sources: Sequence[str],
) -> list[list[tuple[PortfolioPosition, float]]]:
    lists = []
    for source in sources:
        if source == "autosklearn2_portfolio" and task_type == "regression":
            continue  # auto-sklearn 2.0 ships classification portfolios only
        positions, qualities = _positions(source, task_type, kb)
        grouped = _by_portfolio(positions)
        if source == "autogluon_portfolio":
            ranked = grouped.get(f"zeroshot_2023/{task_type}", [])
            lists.append([(p, float(p.rank)) for p in ranked])
        elif source == "flaml_portfolio":
            mine = {k: v for k, v in grouped.items() if k.startswith(f"all/{task_type}/")}
            nearest = _nearest_flaml_portfolio(mine, qualities, meta_features)
            if nearest is not None:
                lists.append([(p, float(p.rank)) for p in mine[nearest]])
            else:
                lists.append(_mean_rank(list(mine.values()), f"all/{task_type}"))
        elif source == "autosklearn2_portfolio":
            chosen = f"{_ASKL2_METRICS.get(metric or '', 'balanced_accuracy')}/"
            chosen += _askl2_policy(meta_features.get("NumberOfInstances"))
            lists.append([(p, float(p.rank)) for p in grouped.get(chosen, [])])
    return lists


def portfolio_candidates(
    task_type: str,
    meta_features: Mapping[str, float] | None = None,
    kb: KnowledgeBase | None = None,
    *,
    metric: str | None = None,
    sources: Sequence[str] | None = None,
    limit: int | None = None,
) -> tuple[PortfolioCandidate, ...]:
    """The portfolios' configurations for a task, merged in turns, with their provenance.

    ``task_type`` is binary, multiclass or regression; ``meta_features`` uses OpenML names
    (FLAML reads NumberOfInstances, NumberOfFeatures, NumberOfClasses and
    PercentageOfNumericFeatures, in percent); ``metric`` picks auto-sklearn 2.0's portfolio
    (balanced_accuracy by default); ``sources`` restricts and orders the tools.
    """
    if task_type not in _TASK_TYPES:
        raise MileMetaError(f"unknown task type {task_type!r}; use {', '.join(_TASK_TYPES)}")
    chosen = tuple(sources) if sources is not None else PORTFOLIO_SOURCES
    unknown = sorted(set(chosen) - set(PORTFOLIO_SOURCES))
    if unknown:
        raise MileMetaError(
            f"unknown portfolio source {', '.join(unknown)}; use {', '.join(PORTFOLIO_SOURCES)}"
        )
    wanted_kind = "regressor" if task_type == "regression" else "classifier"
    lists = _ranked_lists(task_type, meta_features or {}, kb, metric, chosen)
    result: list[PortfolioCandidate] = []
    seen: set[str] = set()
    for turn in range(max((len(ranked) for ranked in lists), default=0)):
        for ranked in lists:
            if turn >= len(ranked):
                continue
            position, rank = ranked[turn]
            if not position.runnable:
                continue
            spec = PipelineSpec.from_json(position.spec_json)
            info = COMPONENTS.get(spec.estimator.component)
            if info is None or info.kind != wanted_kind or not info.available:
                continue
            if spec.pipeline_id in seen:
                continue
            seen.add(spec.pipeline_id)
            result.append(
                PortfolioCandidate(
                    spec, position.source, position.portfolio, rank, position.origin_key
                )
            )
            if limit is not None and len(result) >= limit:
                return tuple(result)
    return tuple(result)


def portfolio_configurations(
    task_type: str,
    meta_features: Mapping[str, float] | None = None,
    kb: KnowledgeBase | None = None,
    *,
    metric: str | None = None,
    sources: Sequence[str] | None = None,
    limit: int | None = None,
) -> tuple[PipelineSpec, ...]:
    """The specs of :func:`portfolio_candidates`, in order (what a warm start runs first)."""
    candidates = portfolio_candidates(
        task_type, meta_features, kb, metric=metric, sources=sources, limit=limit
    )
    return tuple(candidate.spec for candidate in candidates)
