"""``similar_datasets``: the knowledge-base datasets nearest to the user's, and what won there."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mile_meta.pipelines import PipelineSpec
from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import dataset_label, family_label, listing, number

__all__ = ["SimilarDataset", "SimilarDatasets"]


@dataclass(frozen=True)
class SimilarDataset:
    """A nearby knowledge-base dataset (recommender distance, 0 = identical meta-features)
    and its best pipeline there, scored in the user's metric."""

    dataset_id: str
    name: str | None
    distance: float
    n_rows: int | None
    n_features: int | None
    n_classes: int | None
    best_pipeline_id: str
    best_family: str
    best_description: str
    best_score: float
    n_pipelines: int


class SimilarDatasets(Question):
    id = "similar_datasets"
    title = "Which knowledge-base datasets are most like this one, and what worked there?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        stored = report.knowledge_base_metric
        nearest = context.nearest_datasets()
        ids = [d.dataset_id for d in nearest]
        frame = context.evaluations(stored)
        frame = frame[frame["dataset_id"].isin(ids)]
        if frame.empty:
            raise CannotAnswer(f"the nearest datasets hold no {stored} results")
        shape = context.kb.dataset_shapes(ids)
        rows = []
        for dataset in nearest:
            results = frame[frame["dataset_id"] == dataset.dataset_id]
            if results.empty:
                continue
            higher = bool(results["higher_is_better"].iloc[0])
            best = results.loc[results["value"].idxmax() if higher else results["value"].idxmin()]
            n_features, n_classes = shape.get(dataset.dataset_id, (None, None))
            rows.append(
                SimilarDataset(
                    dataset_id=dataset.dataset_id,
                    name=dataset.name,
                    distance=float(dataset.distance or 0.0),
                    n_rows=dataset.n_rows,
                    n_features=n_features,
                    n_classes=n_classes,
                    best_pipeline_id=str(best["pipeline_id"]),
                    best_family=str(best["family"]),
                    best_description=PipelineSpec.from_json(str(best["spec_json"])).describe(),
                    best_score=float(context.to_user_metric(float(best["value"]), stored)),
                    n_pipelines=int(results["pipeline_id"].nunique()),
                )
            )
        winners = pd.Series([row.best_family for row in rows]).value_counts()
        winner_text = listing(
            f"{family_label(str(family))} on {count}" for family, count in winners.items()
        )
        listed = "; ".join(
            f"{dataset_label(d)}: d = {number(d.distance, 2)}"
            + (f", {d.n_rows:,} rows" if d.n_rows else "")
            for d in nearest[:5]
        )
        size_only = sum(1 for row in rows if row.n_features is None)
        sentences = [
            f"The {len(rows)} knowledge-base datasets nearest to {context.describe_dataset()} "
            f"by the recommender's meta-feature distance start with {listed}.",
            f"The best pipeline ({report.metric.replace('_', ' ')}) is {winner_text} of them.",
        ]
        if size_only:
            sentences.append(
                f"{size_only} of them have no OpenML qualities in the knowledge base, only a "
                "row count, so their nearness rests on size alone."
            )
        evidence = AnswerEvidence(
            datasets=nearest,
            pipelines=tuple(dict.fromkeys(row.best_pipeline_id for row in rows)),
            sources=context.sources_of(stored, ids),
            metric=stored,
        )
        method = (
            "The nearest datasets are those the recommender cites as evidence (its distance "
            "over z-scored size and shape meta-features); the best pipeline is the best mean "
            f"{stored} result among the pipelines evaluated there."
        )
        return self.answered(" ".join(sentences), tuple(rows), evidence, method)
