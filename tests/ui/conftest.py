"""Fixtures of the workbench tests: a private knowledge base and data folder per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the workbench needs the ui extra: pip install -e '.[ui]'")
pytest.importorskip("plotly", reason="the workbench needs the ui extra: pip install -e '.[ui]'")


@pytest.fixture
def client(writable_kb_path: Path, tmp_path: Path) -> Iterator[Any]:
    """A test client of a workbench on a copy of the corpus knowledge base."""
    from fastapi.testclient import TestClient

    from mile_meta.ui import create_app

    app = create_app(writable_kb_path, data_dir=tmp_path / "data", max_upload_bytes=2_000_000)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    app.state.workbench.close()
