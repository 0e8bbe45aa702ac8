"""Property tests: any small mixed frame gives finite qualities that ignore column order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mile_meta.metafeatures import compute_metafeatures

_NUMBERS = st.one_of(
    st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(-5, 5)
)
_WORDS = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"]))


@st.composite
def frames(draw) -> tuple[pd.DataFrame, pd.Series]:
    n_rows = draw(st.integers(min_value=0, max_value=25))
    n_numeric = draw(st.integers(min_value=0, max_value=3))
    n_nominal = draw(st.integers(min_value=0, max_value=3))
    columns: dict[str, pd.Series] = {}
    for index in range(n_numeric):
        values = draw(st.lists(_NUMBERS, min_size=n_rows, max_size=n_rows))
        columns[f"n{index}"] = pd.Series(
            [np.nan if value is None else float(value) for value in values], dtype=float
        )
    for index in range(n_nominal):
        columns[f"c{index}"] = pd.Series(
            draw(st.lists(_WORDS, min_size=n_rows, max_size=n_rows)), dtype=object
        )
    labels = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n_rows, max_size=n_rows))
    frame = pd.DataFrame(columns, index=range(n_rows))
    return frame, pd.Series(labels, dtype=object)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_qualities_are_finite_and_landmarkers_are_probabilities(data) -> None:
    frame, target = data
    values = compute_metafeatures(frame, target, time_budget_seconds=5.0).values
    assert values["NumberOfInstances"] == len(frame)
    assert values["NumberOfFeatures"] == frame.shape[1] + 1
    assert values["NumberOfMissingValues"] == int(frame.isna().sum().sum())
    for name, value in values.items():
        if name.endswith(("AUC", "ErrRate")) or name.startswith("Percentage"):
            assert -1e-9 <= value <= (100 + 1e-9 if name.startswith("Percentage") else 1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(frames(), st.randoms(use_true_random=False))
def test_qualities_do_not_depend_on_column_order(data, random) -> None:
    frame, target = data
    shuffled_columns = list(frame.columns)
    random.shuffle(shuffled_columns)
    original = compute_metafeatures(frame, target, landmarkers=False).values
    shuffled = compute_metafeatures(frame[shuffled_columns], target, landmarkers=False).values

    assert original.keys() == shuffled.keys()
    for name, value in original.items():
        assert math.isclose(value, shuffled[name], rel_tol=1e-9, abs_tol=1e-12), name
