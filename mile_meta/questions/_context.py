"""What the questions share about one dataset: its recommendations and nearest KB datasets.

Every question needs the user's meta-features and most need the recommender's ranking or its
nearest datasets; computing them once per dataset keeps a pattern with three questions as
fast as one question. Similarity is the recommender's (``mile_meta.recommend``): the nearest
datasets are the ones it cites as evidence, with its distances.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from mile_meta.questions._base import CannotAnswer, EvidenceDataset
from mile_meta.ranking import NEAREST_DATASETS

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.kb import KnowledgeBase
    from mile_meta.recommend import Recommendation, RecommendationReport

__all__ = ["CURVE_METRIC", "CURVE_SOURCE", "QuestionContext"]

T = TypeVar("T")

NEIGHBOURS = NEAREST_DATASETS
"""Nearest knowledge-base datasets a question draws on (the recommender's neighbourhood)."""

SHORTLIST = 5
"""Recommendations the questions about "the top candidates" look at."""

FAMILIES = 3
"""Learner families compared at least: the top recommendations' families, topped up from
further down the ranking when the top is all one family (it often is)."""

CURVE_SOURCE = "lcdb"
CURVE_METRIC = "predictive_accuracy"


class QuestionContext:
    """The user's dataset and knowledge base, with what the questions share computed once.

    Everything is computed on first use and kept, failures included (a recommender that
    cannot rank this dataset fails once, and every question depending on it says why).

    Example::

        context = QuestionContext(load_dataset("data.csv", "y"), kb)
        context.report.best().family
        [d.dataset_id for d in context.nearest_datasets()]
    """

    def __init__(
        self,
        dataset: Dataset,
        kb: KnowledgeBase,
        *,
        exclude_datasets: Sequence[str | int] = (),
    ) -> None:
        self.dataset = dataset
        self.kb = kb
        self.exclude_datasets = tuple(exclude_datasets)
        self._memo: dict[Any, tuple[bool, Any]] = {}

    def _remember(self, key: Any, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            try:
                self._memo[key] = (True, compute())
            except Exception as error:  # kept so that every question sees the same failure
                self._memo[key] = (False, error)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    # -- the dataset ----------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return len(self.dataset.frame)

    @property
    def is_classification(self) -> bool:
        return self.dataset.task_type != "regression"

    def describe_dataset(self) -> str:
        """``credit-g (1,000 rows, 20 features, binary)``."""
        return (
            f"{self.dataset.name} ({self.n_rows:,} rows, {self.dataset.frame.shape[1]:,} "
            f"features, {self.dataset.task_type})"
        )

    # -- the recommender ------------------------------------------------------------------
    @property
    def report(self) -> RecommendationReport:
        """``recommend(dataset, kb=kb, top=SHORTLIST)`` for the task's default metric."""

        def compute() -> RecommendationReport:
            from mile_meta.recommend import recommend

            return recommend(
                self.dataset, kb=self.kb, top=SHORTLIST, exclude_datasets=self.exclude_datasets
            )

        return self._remember("report", compute)

    @property
    def meta_features(self) -> Mapping[str, float]:
        return self.report.meta_features

    def ranking(self, metric: str | None = None) -> RecommendationReport:
        """Every runnable pipeline ranked for ``metric`` (default: the report's), with up to
        :data:`NEIGHBOURS` evidence datasets per pipeline."""

        def compute() -> RecommendationReport:
            from mile_meta.recommend import recommend_from_metafeatures

            report = self.report
            return recommend_from_metafeatures(
                report.meta_features,
                report.task_type,
                kb=self.kb,
                metric=metric or report.metric,
                top=1_000_000,
                exclude_datasets=report.excluded_datasets,
                dataset_name=report.dataset_name,
                evidence_per_pipeline=NEIGHBOURS,
            )

        return self._remember(("ranking", metric), compute)

    def nearest_datasets(self, metric: str | None = None) -> tuple[EvidenceDataset, ...]:
        """The recommender's nearest knowledge-base datasets for ``metric``, nearest first."""

        def compute() -> tuple[EvidenceDataset, ...]:
            from mile_meta.metrics import resolve_metric
            from mile_meta.ranking import nearest_datasets

            report = self.report
            near = nearest_datasets(
                self.kb,
                report.meta_features,
                resolve_metric(metric or report.metric),
                exclude=(*report.excluded_datasets, self.dataset.dataset_id),
                k=NEIGHBOURS,
            )
            if not near:
                raise CannotAnswer("the recommender found no similar dataset in the knowledge base")
            rows = self.dataset_rows([d.dataset_id for d in near])
            return tuple(
                EvidenceDataset(d.dataset_id, d.dataset_name, d.distance, rows.get(d.dataset_id))
                for d in near
            )

        return self._remember(("nearest", metric), compute)

    def shortlist(self) -> tuple[Recommendation, ...]:
        """The top recommendations."""
        return self.report.recommendations[:SHORTLIST]

    def families(self) -> tuple[str, ...]:
        """The shortlist's learner families, topped up to :data:`FAMILIES` from the ranking."""
        families = list(dict.fromkeys(r.family for r in self.shortlist()))
        for recommendation in self.ranking().recommendations:
            if len(families) >= FAMILIES:
                break
            if recommendation.family not in families:
                families.append(recommendation.family)
        return tuple(families)

    def candidates(self) -> tuple[Recommendation, ...]:
        """The shortlist plus the best-ranked pipeline of each other family in :meth:`families`."""
        chosen = list(self.shortlist())
        seen = {r.family for r in chosen}
        families = self.families()
        for recommendation in self.ranking().recommendations:
            if recommendation.family in families and recommendation.family not in seen:
                chosen.append(recommendation)
                seen.add(recommendation.family)
        return tuple(chosen)

    def to_user_metric(self, values: T, stored_metric: str) -> T:
        """Stored values of ``stored_metric`` in the unit of the report's metric."""
        from mile_meta.ranking import KNOWLEDGE_BASE_METRICS

        for stored, transform in KNOWLEDGE_BASE_METRICS.get(self.report.metric, ()):
            if stored == stored_metric and transform == "one_minus":
                return 1 - values  # type: ignore[operator, return-value]
        return values

    # -- knowledge-base look-ups ----------------------------------------------------------
    def dataset_rows(self, dataset_ids: Sequence[str]) -> dict[str, int]:
        """Rows of each knowledge-base dataset (its record, else its NumberOfInstances)."""
        return self.kb.dataset_rows(list(dataset_ids))

    def evaluations(self, metric: str) -> pd.DataFrame:
        """``kb.evaluations_frame(metric)`` with each row's source and pipeline family.

        Columns: dataset_id, pipeline_id, source, family, value, runtime_seconds,
        higher_is_better (learning curves reduced to their largest training size).
        """

        def compute() -> pd.DataFrame:
            parts = []
            for source in self.kb.source_names():
                frame = self.kb.evaluations_frame(metric, sources=[source])
                if not frame.empty:
                    parts.append(frame.assign(source=source))
            if not parts:
                return pd.DataFrame(
                    columns=[
                        "dataset_id",
                        "pipeline_id",
                        "source",
                        "family",
                        "value",
                        "runtime_seconds",
                        "higher_is_better",
                    ]
                )
            frame = pd.concat(parts, ignore_index=True)
            return frame.join(self.kb.pipeline_families(), on="pipeline_id")

        return self._remember(("evaluations", metric), compute)

    def learning_curves(self) -> pd.DataFrame:
        """LCDB curves: dataset_id, pipeline_id, learner, family, train_size, value (accuracy,
        a fraction), runtime_seconds; one row per training size (repeats averaged)."""

        def compute() -> pd.DataFrame:
            frame = self.kb.learning_curves(CURVE_METRIC, CURVE_SOURCE)
            learner = frame["learner"].fillna(frame["pipeline_id"]).astype(str)
            return frame.assign(learner=learner.str.rsplit(".", n=1).str[-1])

        return self._remember("curves", compute)

    def require_learning_curves(self) -> pd.DataFrame:
        """The LCDB curves, or :class:`CannotAnswer` saying why there are none to use."""
        if not self.is_classification:
            raise CannotAnswer(
                "LCDB's learning curves are for classification only and this is a regression task"
            )
        curves = self.learning_curves()
        if curves.empty:
            raise CannotAnswer(
                "the knowledge base holds no LCDB learning curves; add them with "
                "`mile-meta kb build --source lcdb`"
            )
        return curves

    def nearest_curve_datasets(self) -> tuple[EvidenceDataset, ...]:
        """The nearest datasets that have LCDB learning curves (ranked for accuracy)."""
        curves = self.require_learning_curves()
        with_curves = set(curves["dataset_id"])
        nearest = tuple(
            d for d in self.nearest_datasets(CURVE_METRIC) if d.dataset_id in with_curves
        )
        if not nearest:
            raise CannotAnswer("no dataset similar to this one has LCDB learning curves")
        return nearest

    def sources_of(self, metric: str | None, dataset_ids: Sequence[str]) -> tuple[str, ...]:
        """The sources holding evaluations (in ``metric``, if given) of these datasets."""
        return self.kb.sources_of_datasets(dataset_ids, metric)
