"""``what_to_try_first``: the recommender's shortlist for this dataset."""

from __future__ import annotations

from dataclasses import dataclass

from mile_meta.questions._base import Answer, AnswerEvidence, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import dataset_label, family_label, listing, number

__all__ = ["RecommendedPipeline", "ScoreOnDataset", "WhatToTryFirst"]


@dataclass(frozen=True)
class RecommendedPipeline:
    """One recommended pipeline; scores in the user's metric, time in seconds."""

    rank: int
    pipeline_id: str
    family: str
    description: str
    predicted_score: float
    lower: float
    upper: float
    expected_fit_seconds: float | None


@dataclass(frozen=True)
class ScoreOnDataset:
    """A pipeline's result on one knowledge-base dataset (user's metric; rank 1 = best)."""

    pipeline_id: str
    dataset_id: str
    score: float | None
    rank_on_dataset: int | None


class WhatToTryFirst(Question):
    id = "what_to_try_first"
    title = "Which pipelines should I try first on this data?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        shortlist = context.shortlist()
        rows = tuple(
            RecommendedPipeline(
                rank=r.rank,
                pipeline_id=r.pipeline_id,
                family=r.family,
                description=r.spec.describe(),
                predicted_score=r.predicted_score,
                lower=r.lower,
                upper=r.upper,
                expected_fit_seconds=r.expected_fit_seconds,
            )
            for r in shortlist
        )
        best = shortlist[0]
        nearest = context.nearest_datasets()
        families = [family_label(f) for f in dict.fromkeys(r.family for r in shortlist)]
        sentences = [
            f"For {context.describe_dataset()}, try {family_label(best.family)} first: "
            f"{best.spec.describe()} is predicted to reach a {report.metric.replace('_', ' ')} "
            f"of {number(best.predicted_score)} ({number(best.lower)}–{number(best.upper)} "
            "on the most similar datasets)."
        ]
        if len(families) == 1:
            other = next(
                (r for r in context.ranking().recommendations if r.family != best.family), None
            )
            sentences.append(f"All {len(shortlist)} best-ranked pipelines are {families[0]}")
            if other is not None:
                sentences[-1] += (
                    f"; the best of another family is {family_label(other.family)} at rank "
                    f"{other.rank} ({number(other.predicted_score)})"
                )
            sentences[-1] += "."
        else:
            sentences.append(f"The {len(shortlist)} best-ranked pipelines are {listing(families)}.")
        sentences.append(
            f"The ranking weighs the {len(nearest)} nearest knowledge-base datasets "
            f"(nearest: {listing(dataset_label(d) for d in nearest[:3])}) against how each "
            "pipeline does on all of them."
        )
        points = tuple(
            ScoreOnDataset(r.pipeline_id, e.dataset_id, e.observed_score, e.rank_on_dataset)
            for r in shortlist
            for e in r.evidence
        )
        dataset_ids = [d.dataset_id for d in nearest]
        evidence = AnswerEvidence(
            datasets=nearest,
            pipelines=tuple(r.pipeline_id for r in shortlist),
            sources=context.sources_of(report.knowledge_base_metric, dataset_ids),
            metric=report.knowledge_base_metric,
            points=points,
        )
        method = (
            f"mile_meta.recommend.recommend(dataset, kb=kb, top={len(shortlist)}) with the "
            f"'{report.meta_learner}' meta-learner on the knowledge base's "
            f"{report.knowledge_base_metric} results; the interval is the 10th–90th percentile "
            "of the pipeline's results on the nearest datasets."
        )
        return self.answered(" ".join(sentences), rows, evidence, method)
