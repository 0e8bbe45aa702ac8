"""The knowledge-base prior of one search: the exported :class:`mile_meta.priors.Prior`, built
from the meta-learner's ranking, with what only the search reads besides.

"Where the good values are" is computed once, by :func:`mile_meta.priors.prior_from_report`:
the warm start takes its first candidates from the prior's starting configurations and the
pruning narrows ranges to its fitted distributions, exactly what the exporters hand to Optuna,
SMAC or FLAML. The search adds the ranking report itself (each pipeline's rank on the nearest
knowledge-base datasets, which the pruning reads to drop families) and, when the knowledge
base holds no results for the user's metric, the metric that stands in for it (R² for RMSE:
on the same data, a lower RMSE is a higher R²).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mile_meta.errors import MileMetaError
from mile_meta.metrics import resolve_metric

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.kb import KnowledgeBase
    from mile_meta.priors import Prior
    from mile_meta.recommend import RecommendationReport

__all__ = ["RANKING_PROXIES", "SearchPrior", "load_prior"]

# user metric -> metrics whose knowledge-base results rank pipelines (nearly) the same way
RANKING_PROXIES: dict[str, tuple[str, ...]] = {
    "root_mean_squared_error": ("r2", "mean_absolute_error"),
    "mean_absolute_error": ("root_mean_squared_error", "r2"),
    "r2": ("root_mean_squared_error", "mean_absolute_error"),
    "balanced_accuracy": ("predictive_accuracy", "area_under_roc_curve"),
    "balanced_error_rate": ("balanced_accuracy", "predictive_accuracy"),
    "predictive_accuracy": ("balanced_accuracy", "area_under_roc_curve"),
    "f_measure": ("balanced_accuracy", "predictive_accuracy"),
    "area_under_roc_curve": ("balanced_accuracy", "predictive_accuracy"),
    "log_loss": ("area_under_roc_curve", "balanced_accuracy"),
}


@dataclass(frozen=True)
class SearchPrior:
    """What a search knows before it evaluates anything.

    ``prior`` is the exportable :class:`mile_meta.priors.Prior` (starting configurations of
    every distinct ranked pipeline the space holds, family weights, fitted distributions);
    ``report`` the ranking it was built from, in ``ranking_metric``'s unit, whose evidence the
    pruning reads. ``proxy_for`` names the user's metric when another metric's results did the
    ranking; ``seconds`` is what reading it all took.
    """

    prior: Prior
    report: RecommendationReport
    ranking_metric: str
    proxy_for: str | None
    seconds: float

    @property
    def meta_features(self) -> Mapping[str, float]:
        return dict(self.prior.meta_features)

    @property
    def note(self) -> str:
        used = f"{self.report.meta_learner} over {self.report.knowledge_base_metric}"
        if self.proxy_for:
            return f"ranked by {self.ranking_metric} ({used}), standing in for {self.proxy_for}"
        return f"ranked by {used}"


def load_prior(
    kb: KnowledgeBase,
    dataset: Dataset,
    metric: str,
    *,
    exclude_datasets: Sequence[str | int] = (),
    evidence_per_pipeline: int = 5,
    meta_feature_seconds: float = 1.0,
    use_local: bool = True,
) -> tuple[SearchPrior | None, str]:
    """The prior for ``dataset`` and a one-line note of what was used (or why there is none);
    ``use_local`` False ranks from the corpora alone."""
    from mile_meta.metafeatures import compute_metafeatures
    from mile_meta.priors import prior_from_report
    from mile_meta.ranking import TargetSpread
    from mile_meta.recommend import recommend_from_metafeatures

    started = time.perf_counter()
    meta_features = compute_metafeatures(
        dataset.frame,
        dataset.target,
        task_type=dataset.task_type,
        time_budget_seconds=meta_feature_seconds,
    ).values
    excluded = (*exclude_datasets, dataset.dataset_id)
    candidates = (metric, *RANKING_PROXIES.get(metric, ()))
    failures = []
    for ranking_metric in candidates:
        if dataset.task_type not in resolve_metric(ranking_metric).task_types:
            continue
        try:
            report = recommend_from_metafeatures(
                meta_features,
                dataset.task_type,
                kb=kb,
                metric=ranking_metric,
                top=100_000,
                exclude_datasets=excluded,
                dataset_name=dataset.name,
                evidence_per_pipeline=evidence_per_pipeline,
                use_local=use_local,
                # regression scores in the user's own units
                target_spread=TargetSpread.of(dataset.target)
                if dataset.task_type == "regression"
                else None,
            )
        except MileMetaError as error:
            failures.append(str(error))
            continue
        if not report.recommendations:
            continue
        # every distinct configuration: the warm start chooses among the top of the ranking
        # by family and fit time, so it needs more of it than an exported prior's first ten
        exported = prior_from_report(report, kb, top=len(report.recommendations))
        prior = SearchPrior(
            prior=exported,
            report=report,
            ranking_metric=ranking_metric,
            proxy_for=None if ranking_metric == metric else metric,
            seconds=time.perf_counter() - started,
        )
        return prior, prior.note
    if failures:
        return None, f"no prior ({failures[0]}); searching from default configurations"
    return None, (
        f"no prior: the knowledge base holds no {dataset.task_type} results for {metric}"
        + (" or a metric that ranks like it" if len(candidates) > 1 else "")
        + "; searching from default configurations"
    )
