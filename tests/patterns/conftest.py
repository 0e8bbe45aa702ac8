"""Fixtures for the pattern tests: a valid pattern text and knowledge bases holding the corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pattern_samples import GOOD_PATTERN

from mile_meta.patterns import write_pattern


@pytest.fixture
def good_text() -> str:
    return write_pattern(GOOD_PATTERN)


@pytest.fixture
def write_file(tmp_path: Path):
    """Write ``text`` to ``tmp_path/<name>.md`` and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def patterns_kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge-base file holding only the pattern corpus, built once per session."""
    from mile_meta.kb import KnowledgeBase
    from mile_meta.patterns import ingest_corpus

    path = tmp_path_factory.mktemp("patterns-kb") / "kb.sqlite"
    with KnowledgeBase.open(path) as kb:
        ingest_corpus(kb)
    return path


@pytest.fixture
def corpus_kb(patterns_kb_file: Path):
    """The session's corpus knowledge base, opened read-only by convention (do not write)."""
    from mile_meta.kb import KnowledgeBase

    with KnowledgeBase.open(patterns_kb_file, must_exist=True) as kb:
        yield kb


@pytest.fixture
def writable_kb(patterns_kb_file: Path, tmp_path: Path):
    """A private copy of the corpus knowledge base that a test may change."""
    from mile_meta.kb import KnowledgeBase

    copy = tmp_path / "kb.sqlite"
    with KnowledgeBase.open(patterns_kb_file, must_exist=True) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(patterns_kb_file, copy)
    with KnowledgeBase.open(copy, must_exist=True) as kb:
        yield kb
