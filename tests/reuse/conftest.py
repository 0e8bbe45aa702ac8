"""Small real data for the reuse tests, and a private cache folder for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from mile_meta.data import Dataset, load_dataset

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the default store of every test in its own folder (never the user's)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MILE_META_CACHE", str(folder))
    monkeypatch.delenv("MILE_META_NO_CACHE", raising=False)
    return folder


@pytest.fixture(scope="session")
def credit() -> Dataset:
    """credit-g (UCI German credit): 1000 rows, numeric and categorical columns, binary."""
    return load_dataset(EXAMPLE, "class")


@pytest.fixture(scope="session")
def credit_small(credit: Dataset) -> Dataset:
    """The first 300 rows of credit-g, for the many fits of the property tests."""
    return Dataset(
        name="credit-g-300",
        frame=credit.frame.iloc[:300].reset_index(drop=True),
        target=credit.target.iloc[:300].reset_index(drop=True),
        task_type=credit.task_type,
    )
