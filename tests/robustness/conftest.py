"""Fixtures of the robustness battery: a read-only-by-contract knowledge base and a checker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def battery_kb(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the corpus knowledge base with the patterns corpus in, so that no
    command of the battery has a reason to write to it."""
    from mile_meta.kb import KnowledgeBase
    from mile_meta.patterns import ensure_corpus

    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path_factory.mktemp("battery") / "kb.sqlite"
    shutil.copy(corpus_kb_path, path)
    with KnowledgeBase.open(path) as kb:
        ensure_corpus(kb)
    return path
