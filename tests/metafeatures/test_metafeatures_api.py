"""The public API: task inference, input checks, dtype handling and the result record."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from mile_meta.errors import DataError
from mile_meta.metafeatures import MetaFeatures, compute_metafeatures, infer_task_type
from mile_meta.records import QualityRecord


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (pd.Series(["yes", "no", "yes"]), "binary"),
        (pd.Series(["a", "b", "c", "a"]), "multiclass"),
        (pd.Series([True, False, True]), "binary"),
        (pd.Series(pd.Categorical(["u", "v", "w"])), "multiclass"),
        (pd.Series([0, 1, 1, 0]), "binary"),
        (pd.Series([1, 2, 3, 1, 2, 3, 7]), "multiclass"),  # few whole numbers: labels
        (pd.Series(np.arange(100)), "regression"),  # many whole numbers: a count
        (pd.Series([0.5, 1.5, 2.25, 3.0]), "regression"),
        (pd.Series([1.0, np.nan, 2.0, 2.0]), "binary"),
    ],
)
def test_infer_task_type(target: pd.Series, expected: str) -> None:
    assert infer_task_type(target) == expected


def test_length_mismatch_is_a_data_error() -> None:
    with pytest.raises(DataError, match="rows"):
        compute_metafeatures(pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["a", "b", "a"]))


def test_unknown_task_type_is_a_data_error() -> None:
    with pytest.raises(DataError, match="task_type"):
        compute_metafeatures(pd.DataFrame({"x": [1.0]}), pd.Series(["a"]), task_type="ranking")


def test_regression_needs_a_numeric_target() -> None:
    with pytest.raises(DataError, match="numeric target"):
        compute_metafeatures(
            pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["a", "b"]), task_type="regression"
        )


def test_binary_with_three_classes_is_a_data_error() -> None:
    with pytest.raises(DataError, match="3 classes"):
        compute_metafeatures(
            pd.DataFrame({"x": [1.0, 2.0, 3.0]}), pd.Series(["a", "b", "c"]), task_type="binary"
        )


def test_mixed_dtypes_are_typed_like_openml() -> None:
    n = 12
    frame = pd.DataFrame(
        {
            "floats": np.linspace(0, 1, n),
            "nullable_ints": pd.array([1, 2, None] * 4, dtype="Int64"),
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "flags": [True, False] * 6,
            "nullable_flags": pd.array([True, None, False] * 4, dtype="boolean"),
            "text": ["a", "b", "c"] * 4,
            "mixed_objects": pd.Series([1, "one", 2.5, None] * 3, dtype=object),
            "category": pd.Categorical(["lo", "hi"] * 6, categories=["lo", "mid", "hi"]),
        }
    )
    values = compute_metafeatures(frame, pd.Series(["p", "q"] * 6), landmarkers=False).values

    assert values["NumberOfNumericFeatures"] == 3  # floats, nullable ints, datetimes
    assert values["NumberOfSymbolicFeatures"] == 5 + 1  # + the target
    assert values["NumberOfBinaryFeatures"] == 2 + 1  # both boolean columns + the target
    assert values["NumberOfMissingValues"] == 4 + 4 + 3


def test_infinite_numbers_count_as_missing_and_the_frame_is_untouched() -> None:
    frame = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf]})
    before = frame.copy()
    values = compute_metafeatures(frame, pd.Series(list("abab")), landmarkers=False).values
    assert values["NumberOfMissingValues"] == 2
    assert values["MeanMeansOfNumericAtts"] == pytest.approx(2.0)
    pd.testing.assert_frame_equal(frame, before)


def test_high_cardinality_identifier_column() -> None:
    n = 1_000
    frame = pd.DataFrame({"id": [f"row-{i}" for i in range(n)], "x": np.arange(n, dtype=float)})
    meta = compute_metafeatures(frame, pd.Series(["a", "b"] * (n // 2)), time_budget_seconds=10)
    values = meta.values

    assert values["MaxNominalAttDistinctValues"] == n
    assert values["NumberOfFeaturesAfterBinarization"] == n + 1
    assert values["MaxAttributeEntropy"] == pytest.approx(math.log2(n))
    assert all(math.isfinite(value) for value in values.values())


def test_result_is_frozen_and_read_only() -> None:
    meta = compute_metafeatures(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), pd.Series(list("aba")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.task_type = "regression"  # type: ignore[misc]
    with pytest.raises(TypeError):
        meta.values["NumberOfInstances"] = 0  # type: ignore[index]
    assert list(meta.values) == sorted(meta.values)


def test_as_series_and_as_records() -> None:
    meta = compute_metafeatures(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), pd.Series(list("aba")))
    series = meta.as_series()
    assert series.dtype == np.float64
    assert series["NumberOfInstances"] == 3
    records = meta.as_records("local:demo")
    assert records[0] == QualityRecord("local:demo", *meta.items[0])
    assert len(records) == len(meta.values)


def test_from_mapping_drops_what_could_not_be_computed() -> None:
    meta = MetaFeatures.from_mapping(
        "binary", {"b": 2.0, "a": 1.0, "nan": float("nan"), "none": None, "inf": math.inf}
    )
    assert meta.items == (("a", 1.0), ("b", 2.0))


def test_items_must_be_sorted_and_finite() -> None:
    with pytest.raises(ValueError, match="sorted"):
        MetaFeatures("binary", (("b", 1.0), ("a", 2.0)))
    with pytest.raises(ValueError, match="finite"):
        MetaFeatures("binary", (("a", float("nan")),))
