"""The contract every question keeps, run on credit-g against the real knowledge base."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from mile_meta.errors import MileMetaError
from mile_meta.patterns import KNOWN_QUESTIONS, load_corpus, pattern_graph
from mile_meta.questions import QUESTIONS, Answer, Question, answer_question


def test_registry_holds_exactly_the_known_questions():
    assert list(QUESTIONS) == list(KNOWN_QUESTIONS)
    for question_id, question in QUESTIONS.items():
        assert isinstance(question, Question)
        assert question.id == question_id
        assert question.title.endswith("?")


def test_pattern_graph_question_nodes_are_registry_ids():
    graph = pattern_graph(load_corpus())
    nodes = {node for node, kind in graph.nodes(data="kind") if kind == "question"}
    assert nodes == {f"question:{question_id}" for question_id in QUESTIONS}
    answered_by = {target for _, target, kind in graph.edges(keys=True) if kind == "answered-by"}
    assert answered_by <= nodes
    # every corpus pattern's questions can be run
    assert all(q in QUESTIONS for pattern in load_corpus() for q in pattern.questions)


@pytest.mark.parametrize("question_id", list(KNOWN_QUESTIONS))
def test_every_question_answers_credit_g_with_numbers_and_evidence(credit_answers, question_id):
    answer = credit_answers[question_id]
    assert isinstance(answer, Answer)
    assert answer.question == question_id
    assert answer.answered, answer.summary
    assert re.search(r"\d", answer.summary)
    assert "\n" not in answer.summary  # one paragraph
    assert answer.table
    assert answer.method
    assert len(answer.frame()) == len(answer.table)
    for row in answer.table:
        assert dataclasses.is_dataclass(row)
        field = dataclasses.fields(row)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(row, field, None)
    assert answer.evidence.datasets
    assert answer.evidence.sources
    assert set(answer.evidence.sources) <= {"oboe", "lcdb"}
    assert answer.seconds > 0
    json.dumps(answer.to_dict(), allow_nan=False)


def test_unknown_question_is_a_one_line_error_with_a_suggestion(credit_g, corpus_kb):
    with pytest.raises(MileMetaError, match="did you mean what_to_try_first") as caught:
        answer_question("what_to_try_frist", credit_g, corpus_kb)
    assert "\n" not in str(caught.value)


def test_a_regression_dataset_gets_reasons_not_crashes(credit_g, corpus_kb):
    """The knowledge base holds classification results only: every question says why."""
    from mile_meta.data import dataset_from_frame
    from mile_meta.questions import QuestionContext

    frame = credit_g.frame.assign(label=credit_g.target)
    regression = dataset_from_frame(frame, "credit_amount", task_type="regression")
    context = QuestionContext(regression, corpus_kb)
    for question_id in QUESTIONS:
        answer = answer_question(question_id, regression, corpus_kb, context=context)
        assert not answer.answered
        assert answer.summary.startswith("Cannot answer: ")
        assert "computation failed" not in answer.summary, answer.summary
        assert answer.table == ()
    curves = answer_question("how_much_more_data_helps", regression, corpus_kb, context=context)
    assert "classification only" in curves.summary
