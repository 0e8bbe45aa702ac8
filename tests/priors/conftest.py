"""Fixtures for the prior tests: one real prior for the bundled credit-g example."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from prior_helpers import EXAMPLE


@pytest.fixture(scope="session")
def credit_prior(corpus_kb_path: Path):
    """The prior for credit-g, its OpenML id (31) excluded from the knowledge base."""
    from mile_meta.kb import KnowledgeBase
    from mile_meta.priors import build_prior

    with KnowledgeBase.open(corpus_kb_path) as kb:
        return build_prior(EXAMPLE, "class", kb=kb, exclude_datasets=[31], top=6)


@pytest.fixture(scope="session")
def small_data() -> tuple[pd.DataFrame, pd.Series]:
    """240 rows of credit-g: enough for a real fit in well under a second."""
    frame = pd.read_csv(EXAMPLE).sample(240, random_state=0).reset_index(drop=True)
    return frame.drop(columns=["class"]), frame["class"]
