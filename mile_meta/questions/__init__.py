"""Knowledge-base questions that answer a practitioner pattern's information need.

Each question (one module each, registered in :data:`QUESTIONS` under the ids of
:data:`mile_meta.patterns.KNOWN_QUESTIONS`) is computed for the user's dataset from the
knowledge base and returns a frozen :class:`Answer`: a plain-language summary with numbers,
a table of frozen rows and the evidence (datasets, pipelines, sources, raw points).

Example::

    from mile_meta.data import load_dataset
    from mile_meta.kb import KnowledgeBase
    from mile_meta.questions import answer_pattern, answer_question

    dataset = load_dataset("credit-g.csv", "class")
    with KnowledgeBase.open("kb.sqlite", must_exist=True) as kb:
        print(answer_question("how_much_more_data_helps", dataset, kb).summary)
        for answer in answer_pattern("will-more-data-help", dataset, kb):
            print(answer.title, answer.frame(), sep="\\n")
"""

from __future__ import annotations

from mile_meta.questions._base import (
    Answer,
    AnswerEvidence,
    CannotAnswer,
    EvidenceDataset,
    Question,
)
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._expected_fit_time import (
    ExpectedFitTime,
    FitTimeEstimate,
    ScaledRuntime,
    growth_exponents,
    one_hot_width,
    width_exponent,
)
from mile_meta.questions._how_candidates_compare import (
    CandidateComparison,
    CandidateOnDataset,
    HowCandidatesCompare,
)
from mile_meta.questions._how_much_more_data_helps import (
    CurvePoint,
    DataGrowthGain,
    HowMuchMoreDataHelps,
    accuracy_at,
    doubling_gain,
)
from mile_meta.questions._registry import QUESTIONS, answer_pattern, answer_question, get_question
from mile_meta.questions._similar_datasets import SimilarDataset, SimilarDatasets
from mile_meta.questions._small_sample_reliability import (
    FRACTIONS,
    DatasetRankAgreement,
    RankAgreement,
    SmallSampleReliability,
    rank_agreements,
    spearman,
)
from mile_meta.questions._what_to_try_first import (
    RecommendedPipeline,
    ScoreOnDataset,
    WhatToTryFirst,
)
from mile_meta.questions._which_hyperparameters_matter import (
    ConfigurationScore,
    HyperparameterImportance,
    WhichHyperparametersMatter,
    hyperparameters_of,
)

__all__ = [
    "FRACTIONS",
    "QUESTIONS",
    "Answer",
    "AnswerEvidence",
    "CandidateComparison",
    "CandidateOnDataset",
    "CannotAnswer",
    "ConfigurationScore",
    "CurvePoint",
    "DataGrowthGain",
    "DatasetRankAgreement",
    "EvidenceDataset",
    "ExpectedFitTime",
    "FitTimeEstimate",
    "HowCandidatesCompare",
    "HowMuchMoreDataHelps",
    "HyperparameterImportance",
    "Question",
    "QuestionContext",
    "RankAgreement",
    "RecommendedPipeline",
    "ScaledRuntime",
    "ScoreOnDataset",
    "SimilarDataset",
    "SimilarDatasets",
    "SmallSampleReliability",
    "WhatToTryFirst",
    "WhichHyperparametersMatter",
    "accuracy_at",
    "answer_pattern",
    "answer_question",
    "doubling_gain",
    "get_question",
    "growth_exponents",
    "hyperparameters_of",
    "one_hot_width",
    "rank_agreements",
    "spearman",
    "width_exponent",
]
