"""The registry of questions and the two entry points: one question, or a pattern's questions."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from mile_meta.errors import MileMetaError
from mile_meta.questions._base import Answer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._expected_fit_time import ExpectedFitTime
from mile_meta.questions._how_candidates_compare import HowCandidatesCompare
from mile_meta.questions._how_much_more_data_helps import HowMuchMoreDataHelps
from mile_meta.questions._similar_datasets import SimilarDatasets
from mile_meta.questions._small_sample_reliability import SmallSampleReliability
from mile_meta.questions._what_to_try_first import WhatToTryFirst
from mile_meta.questions._which_hyperparameters_matter import WhichHyperparametersMatter

if TYPE_CHECKING:
    from mile_meta.data import Dataset
    from mile_meta.kb import KnowledgeBase

__all__ = ["QUESTIONS", "answer_pattern", "answer_question", "get_question"]

QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        question.id: question
        for question in (
            WhatToTryFirst(),
            WhichHyperparametersMatter(),
            HowMuchMoreDataHelps(),
            ExpectedFitTime(),
            SmallSampleReliability(),
            SimilarDatasets(),
            HowCandidatesCompare(),
        )
    }
)
"""Every question, keyed by its id (the ids of :data:`mile_meta.patterns.KNOWN_QUESTIONS`)."""


def get_question(question_id: str) -> Question:
    """The registered question called ``question_id``; a one-line error with suggestions if none."""
    if question_id not in QUESTIONS:
        close = difflib.get_close_matches(question_id, list(QUESTIONS), n=2, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise MileMetaError(
            f"unknown question {question_id!r}; {hint}known questions: {', '.join(QUESTIONS)}",
            usage=True,
        )
    return QUESTIONS[question_id]


def answer_question(
    question_id: str,
    dataset: Dataset,
    kb: KnowledgeBase,
    *,
    exclude_datasets: Sequence[str | int] = (),
    context: QuestionContext | None = None,
) -> Answer:
    """Answer one question for ``dataset`` from ``kb``.

    A question the data or the knowledge base cannot serve returns an Answer with
    ``answered=False`` saying why. Pass a shared ``context`` to answer several questions
    about the same dataset without recomputing its meta-features and neighbours.
    ``exclude_datasets`` (OpenML ids or knowledge-base ids) are ignored, e.g. the user's own
    dataset when the knowledge base already holds it.
    """
    question = get_question(question_id)
    if context is None:
        context = QuestionContext(dataset, kb, exclude_datasets=exclude_datasets)
    elif context.dataset is not dataset or context.kb is not kb:
        raise MileMetaError("the context was made for another dataset or knowledge base")
    return _safely(question, context)


def answer_pattern(
    pattern_name: str,
    dataset: Dataset,
    kb: KnowledgeBase,
    *,
    exclude_datasets: Sequence[str | int] = (),
    on_question: Callable[[str], None] | None = None,
) -> list[Answer]:
    """Answer the questions the stored pattern ``pattern_name`` names, in its order.

    The questions share one :class:`QuestionContext`, so the dataset's meta-features and
    neighbours are computed once. ``on_question(question_id)`` is called before each
    question (for progress displays). Raises :class:`~mile_meta.errors.PatternError` if no
    such pattern is stored (call :func:`mile_meta.patterns.ensure_corpus` first for the
    bundled ones).
    """
    from mile_meta.patterns import get_pattern

    pattern = get_pattern(kb, pattern_name)
    context = QuestionContext(dataset, kb, exclude_datasets=exclude_datasets)
    answers = []
    for question_id in pattern.questions:
        if on_question is not None:
            on_question(question_id)
        answers.append(_safely(get_question(question_id), context))
    return answers


def _safely(question: Question, context: QuestionContext) -> Answer:
    """The question's answer; an unexpected failure is reported, not raised, so one broken
    question never hides the other answers of a pattern."""
    try:
        return question.answer(context)
    except Exception as error:
        first_line = (str(error).splitlines() or [""])[0]
        return question.unanswered(
            f"the computation failed ({type(error).__name__}: {first_line}); "
            "please report this with the dataset's shape"
        )
