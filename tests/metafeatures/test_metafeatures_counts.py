"""Counting qualities on frames small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mile_meta.metafeatures import compute_metafeatures


def _qualities(frame: pd.DataFrame, target: pd.Series, **options) -> dict[str, float]:
    return dict(compute_metafeatures(frame, target, landmarkers=False, **options).values)


def test_feature_counts_include_the_target_as_openml_does() -> None:
    frame = pd.DataFrame(
        {
            "size": [1.0, 2.0, 3.0, 4.0],
            "colour": ["red", "blue", "red", "blue"],
            "shape": pd.Categorical(["a", "a", "b", "b"], categories=["a", "b", "c"]),
        }
    )
    target = pd.Series(["yes", "no", "yes", "no"])
    values = _qualities(frame, target)

    assert values["NumberOfInstances"] == 4
    assert values["NumberOfFeatures"] == 4  # three features + the target
    assert values["NumberOfNumericFeatures"] == 1
    assert values["NumberOfSymbolicFeatures"] == 3  # colour, shape and the nominal target
    # colour (2 values) and the target are binary; shape declares 3 values, one unused.
    assert values["NumberOfBinaryFeatures"] == 2
    assert values["PercentageOfSymbolicFeatures"] == pytest.approx(75.0)
    assert values["PercentageOfBinaryFeatures"] == pytest.approx(50.0)
    assert values["Dimensionality"] == pytest.approx(1.0)
    # One column per numeric feature, one per declared value of a nominal one.
    assert values["NumberOfFeaturesAfterBinarization"] == 1 + 2 + 3


def test_missing_values_are_counted_over_all_attributes_and_rows() -> None:
    frame = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0, np.nan, 5.0],
            "b": ["x", None, "y", "y", "x"],
            "c": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    target = pd.Series(["p", "q", "p", "q", None])
    values = _qualities(frame, target, task_type="binary")

    assert values["NumberOfMissingValues"] == 2 + 1 + 0 + 1
    assert values["NumberOfInstancesWithMissingValues"] == 3  # rows 1, 3 and 4
    assert values["PercentageOfMissingValues"] == pytest.approx(4 / (5 * 4) * 100)
    assert values["PercentageOfInstancesWithMissingValues"] == pytest.approx(60.0)


def test_class_sizes_and_default_accuracy() -> None:
    target = pd.Series(["a"] * 6 + ["b"] * 3 + ["c"])
    values = _qualities(pd.DataFrame({"x": np.arange(10.0)}), target)

    assert values["NumberOfClasses"] == 3
    assert values["MajorityClassSize"] == 6
    assert values["MinorityClassSize"] == 1
    assert values["MajorityClassPercentage"] == pytest.approx(60.0)
    assert values["MinorityClassPercentage"] == pytest.approx(10.0)
    assert values["DefaultAccuracy"] == pytest.approx(0.6)


def test_declared_but_absent_class_is_not_a_class() -> None:
    target = pd.Series(pd.Categorical(["a", "b", "a", "b"], categories=["a", "b", "never"]))
    values = _qualities(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), target)

    assert values["NumberOfClasses"] == 2
    assert values["MinorityClassSize"] == 2
    # ...but it is declared, so the target is not a binary attribute.
    assert values["NumberOfBinaryFeatures"] == 0


def test_autocorrelation_is_the_share_of_unchanged_consecutive_classes() -> None:
    # a a b b b a: pairs aa, ab, bb, bb, ba -> 3 of 5 unchanged.
    target = pd.Series(list("aabbba"))
    values = _qualities(pd.DataFrame({"x": np.arange(6.0)}), target)
    assert values["AutoCorrelation"] == pytest.approx(3 / 5)


def test_autocorrelation_of_a_numeric_target_follows_openml_formula() -> None:
    # OpenML sums previous - current, which telescopes to first - last = 1 - 9 = -8.
    target = pd.Series([1.0, 5.0, 2.0, 7.0, 9.0])
    values = _qualities(pd.DataFrame({"x": np.arange(5.0)}), target, task_type="regression")
    assert values["AutoCorrelation"] == pytest.approx((4 - (-8)) / 4)


def test_regression_has_no_class_qualities_and_counts_a_numeric_target() -> None:
    generator = np.random.default_rng(3)
    frame = pd.DataFrame({"x": generator.normal(size=50), "kind": generator.choice(["u", "v"], 50)})
    target = pd.Series(generator.normal(size=50))
    meta = compute_metafeatures(frame, target, task_type="regression")
    values = meta.values

    assert meta.task_type == "regression"
    assert values["NumberOfClasses"] == 0  # what OpenML stores for a numeric target
    assert values["NumberOfNumericFeatures"] == 2  # x and the target
    for absent in (
        "ClassEntropy",
        "MajorityClassSize",
        "MinorityClassPercentage",
        "MeanMutualInformation",
        "MeanAttributeEntropy",
        "NaiveBayesErrRate",
        "DecisionStumpAUC",
        "kNN1NKappa",
    ):
        assert absent not in values
    # The numeric target is one of OpenML's numeric attributes for the moments.
    assert "MeanSkewnessOfNumericAtts" in values


def test_nominal_distinct_values_count_values_that_occur_including_the_target() -> None:
    frame = pd.DataFrame(
        {
            "declared_four": pd.Categorical(["a", "b", "a", None], categories=list("abcd")),
            "all_missing": pd.Series([None] * 4, dtype=object),
        }
    )
    target = pd.Series(["x", "y", "z", "x"])
    values = _qualities(frame, target)

    # Occurring values: 2, 0 and the target's 3.
    assert values["MaxNominalAttDistinctValues"] == 3
    assert values["MinNominalAttDistinctValues"] == 0
    assert values["MeanNominalAttDistinctValues"] == pytest.approx(5 / 3)
    assert values["StdvNominalAttDistinctValues"] == pytest.approx(np.std([2, 0, 3], ddof=1))


def test_empty_frame_still_describes_the_target() -> None:
    values = _qualities(pd.DataFrame(index=range(4)), pd.Series(["a", "b", "a", "b"]))

    assert values["NumberOfFeatures"] == 1
    assert values["NumberOfSymbolicFeatures"] == 1
    assert values["ClassEntropy"] == pytest.approx(1.0)
    assert "MeanMeansOfNumericAtts" not in values
    assert "MeanAttributeEntropy" not in values


def test_zero_rows_give_counts_and_nothing_that_needs_data() -> None:
    values = _qualities(pd.DataFrame({"x": pd.Series([], dtype=float)}), pd.Series([], dtype=str))

    assert values["NumberOfInstances"] == 0
    assert values["Dimensionality"] == 0  # OpenML's convention for an empty dataset
    assert "PercentageOfMissingValues" not in values
    assert "AutoCorrelation" not in values
    assert "ClassEntropy" not in values
