"""``how_candidates_compare``: the top candidates side by side on the nearest datasets.

On each nearest dataset a candidate's normalized regret is ``(best − score) / (best − worst)``
over every pipeline the knowledge base evaluated there (0 = the best of them, 1 = the worst);
a candidate wins a dataset when no other candidate scored better there (ties all win).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import family_label, number

__all__ = ["CandidateComparison", "CandidateOnDataset", "HowCandidatesCompare"]


@dataclass(frozen=True)
class CandidateComparison:
    """One candidate over the nearest datasets: wins among the candidates, mean normalized
    regret against all pipelines (0 = best), mean score in the user's metric."""

    rank: int
    pipeline_id: str
    family: str
    description: str
    wins: int
    n_datasets: int
    mean_normalized_regret: float
    mean_score: float


@dataclass(frozen=True)
class CandidateOnDataset:
    """A candidate's score (user's metric) and normalized regret on one nearest dataset."""

    pipeline_id: str
    dataset_id: str
    score: float
    normalized_regret: float
    won: bool


class HowCandidatesCompare(Question):
    id = "how_candidates_compare"
    title = "How do the top candidates compare on datasets like this one?"

    def _answer(self, context: QuestionContext) -> Answer:
        report = context.report
        stored = report.knowledge_base_metric
        candidates = context.candidates()
        nearest = context.nearest_datasets()
        frame = context.evaluations(stored)
        frame = frame[frame["dataset_id"].isin([d.dataset_id for d in nearest])]
        if frame.empty:
            raise CannotAnswer(f"the nearest datasets hold no {stored} results")
        higher = bool(frame["higher_is_better"].iloc[0])
        oriented = frame.pivot_table(
            index="dataset_id", columns="pipeline_id", values="value", aggfunc="mean"
        )
        if not higher:
            oriented = -oriented
        best, worst = oriented.max(axis=1), oriented.min(axis=1)
        regret = oriented.rsub(best, axis=0).div((best - worst).replace(0, np.nan), axis=0)
        regret = regret.where(oriented.isna(), regret.fillna(0.0))  # all tied: nobody regrets
        ids = [c.pipeline_id for c in candidates if c.pipeline_id in oriented.columns]
        if not ids:
            raise CannotAnswer("none of the candidates was evaluated on the nearest datasets")
        among = oriented[ids]
        winners = among.eq(among.max(axis=1), axis=0) & among.notna()
        rows, points = [], []
        for candidate in candidates:
            if candidate.pipeline_id not in ids:
                continue
            column = among[candidate.pipeline_id].dropna()
            scores = context.to_user_metric(
                (column if higher else -column).to_numpy(dtype=float), stored
            )
            for dataset_id, score in zip(column.index, scores, strict=True):
                points.append(
                    CandidateOnDataset(
                        candidate.pipeline_id,
                        str(dataset_id),
                        float(score),
                        float(regret.at[dataset_id, candidate.pipeline_id]),
                        bool(winners.at[dataset_id, candidate.pipeline_id]),
                    )
                )
            rows.append(
                CandidateComparison(
                    rank=candidate.rank,
                    pipeline_id=candidate.pipeline_id,
                    family=candidate.family,
                    description=candidate.spec.describe(),
                    wins=int(winners[candidate.pipeline_id].sum()),
                    n_datasets=len(column),
                    mean_normalized_regret=float(
                        regret.loc[column.index, candidate.pipeline_id].mean()
                    ),
                    mean_score=float(np.mean(scores)),
                )
            )
        n_pipelines = oriented.shape[1]
        described = "; ".join(
            f"#{row.rank} {family_label(row.family)} wins {row.wins} of {row.n_datasets}, "
            f"mean regret {number(row.mean_normalized_regret, 2)}"
            for row in rows
        )
        by_regret = sorted(rows, key=lambda row: row.mean_normalized_regret)
        sentences = [
            f"On the {oriented.shape[0]} datasets nearest to {context.dataset.name}, "
            f"{len(rows)} candidates (the top {len(context.shortlist())} and the best of "
            f"each other leading family): {described}.",
            "Regret is normalized per dataset against all "
            f"{n_pipelines} pipelines evaluated there (0 = best, 1 = worst).",
        ]
        if len(rows) >= 2:
            first, second = rows[0], rows[1]
            both = among[[first.pipeline_id, second.pipeline_id]].dropna()
            ahead = int((both[first.pipeline_id] > both[second.pipeline_id]).sum())
            sentences.append(
                f"Head to head, #{first.rank} beats #{second.rank} on {ahead} of {len(both)} "
                f"datasets; lowest mean regret: #{by_regret[0].rank} "
                f"({family_label(by_regret[0].family)})."
            )
        evidence = AnswerEvidence(
            datasets=tuple(d for d in nearest if d.dataset_id in oriented.index),
            pipelines=tuple(ids),
            sources=context.sources_of(stored, list(oriented.index)),
            metric=stored,
            points=tuple(points),
        )
        method = (
            "Scores of the candidates (top recommendations plus the best-ranked pipeline of "
            "each other leading family) on the recommender's nearest datasets; normalized "
            "regret (best − score) / (best − worst) over all pipelines evaluated on the "
            "dataset; a win = best among the candidates there (ties all win)."
        )
        return self.answered(" ".join(sentences), tuple(rows), evidence, method)
