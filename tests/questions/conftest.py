"""Fixtures for the question tests: credit-g against the real Oboe + LCDB knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"


@pytest.fixture(scope="session")
def credit_g():
    from mile_meta.data import load_dataset

    return load_dataset(EXAMPLE_CSV, "class")


@pytest.fixture(scope="session")
def corpus_kb(corpus_kb_path: Path):
    """The session's Oboe + LCDB knowledge base, opened for reading (do not write)."""
    from mile_meta.kb import KnowledgeBase

    with KnowledgeBase.open(corpus_kb_path, must_exist=True) as kb:
        yield kb


@pytest.fixture(scope="session")
def credit_context(credit_g, corpus_kb):
    """One shared context: the meta-features and neighbours are computed once per session."""
    from mile_meta.questions import QuestionContext

    return QuestionContext(credit_g, corpus_kb)


@pytest.fixture(scope="session")
def credit_answers(credit_g, corpus_kb, credit_context):
    """Every question answered for credit-g, keyed by question id."""
    from mile_meta.questions import QUESTIONS, answer_question

    return {
        question_id: answer_question(question_id, credit_g, corpus_kb, context=credit_context)
        for question_id in QUESTIONS
    }


@pytest.fixture(scope="module")
def module_kb_path(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus knowledge base this test module may write to (patterns, deletions)."""
    from mile_meta.kb import KnowledgeBase

    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path_factory.mktemp("questions-kb") / "kb.sqlite"
    shutil.copy(corpus_kb_path, target)
    return target
