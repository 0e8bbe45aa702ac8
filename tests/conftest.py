"""Shared fixtures: real knowledge bases built from the committed corpus snapshot."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLE_CSV = REPO / "corpora" / "examples" / "credit-g.csv"


def pytest_configure(config: pytest.Config) -> None:
    # the reuse store and downloaded corpora go to a throwaway folder, not the user's cache
    os.environ.setdefault("MILE_META_CACHE", tempfile.mkdtemp(prefix="mile-meta-test-cache-"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared test data sits next to the repository checkout")
    return path


@pytest.fixture(scope="session")
def corpus_kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base with the Oboe and LCDB corpora (built once per session, ~12 s).

    Tests must not write to it: copy it with ``writable_kb_path`` instead.
    """
    from mile_meta.kb import build_knowledge_base

    path = tmp_path_factory.mktemp("kb") / "corpus.sqlite"
    build_knowledge_base(path, ["oboe", "lcdb"])
    return path


@pytest.fixture
def writable_kb_path(corpus_kb_path: Path, tmp_path: Path) -> Path:
    """A private copy of the corpus knowledge base that a test may change."""
    from mile_meta.kb import KnowledgeBase

    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path / "kb.sqlite"
    shutil.copy(corpus_kb_path, target)
    return target
