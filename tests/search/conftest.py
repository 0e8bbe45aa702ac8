"""Fixtures of the search tests: small real datasets and a prior read once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from mile_meta.data import Dataset, dataset_from_frame, load_dataset

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


@pytest.fixture(scope="session")
def credit_g() -> Dataset:
    return load_dataset(EXAMPLE, "class")


@pytest.fixture(scope="session")
def breast_cancer() -> Dataset:
    frame = load_breast_cancer(as_frame=True).frame
    return dataset_from_frame(frame, "target", name="breast_cancer")


@pytest.fixture(scope="session")
def diabetes() -> Dataset:
    frame = load_diabetes(as_frame=True).frame
    return dataset_from_frame(frame, "target", name="diabetes")


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searches cache the learning-curve agreement; keep it out of the user's cache folder."""
    monkeypatch.setenv("MILE_META_CACHE", str(tmp_path_factory.getbasetemp() / "search-cache"))
