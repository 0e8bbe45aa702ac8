"""Moments of numeric attributes and the entropy family, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mile_meta.metafeatures import compute_metafeatures


def _qualities(frame: pd.DataFrame, target: pd.Series, **options) -> dict[str, float]:
    return dict(compute_metafeatures(frame, target, landmarkers=False, **options).values)


# x = 1, 2, 3, 4, 10: mean 4, deviations -3 -2 -1 0 6.
# sums of powers: squares 50, cubes 180, fourth powers 1394; variance 50 / 4 = 12.5.
# skewness  = n / ((n-1)(n-2)) * 180 / 12.5**1.5                       = 1.697056...
# kurtosis  = n(n+1) / ((n-1)(n-2)(n-3)) * 1394 / 12.5**2 - 3(n-1)**2 / ((n-2)(n-3))
#           = 30 / 24 * 8.9216 - 8                                       = 3.152
KNOWN_VECTOR = [1.0, 2.0, 3.0, 4.0, 10.0]
KNOWN_SKEWNESS = 5 / 12 * 180 / 12.5**1.5
KNOWN_KURTOSIS = 30 / 24 * 1394 / 12.5**2 - 8


def test_moments_of_a_known_vector() -> None:
    values = _qualities(pd.DataFrame({"x": KNOWN_VECTOR}), pd.Series(list("ababa")))

    assert values["MeanMeansOfNumericAtts"] == pytest.approx(4.0)
    assert values["MeanStdDevOfNumericAtts"] == pytest.approx(math.sqrt(12.5))
    assert values["MeanSkewnessOfNumericAtts"] == pytest.approx(KNOWN_SKEWNESS)
    assert values["MeanKurtosisOfNumericAtts"] == pytest.approx(KNOWN_KURTOSIS)
    assert round(KNOWN_SKEWNESS, 6) == 1.697056
    assert round(KNOWN_KURTOSIS, 9) == 3.152


def test_missing_values_are_left_out_of_the_moments() -> None:
    with_gaps = [*KNOWN_VECTOR[:2], np.nan, *KNOWN_VECTOR[2:], np.nan]
    values = _qualities(pd.DataFrame({"x": with_gaps}), pd.Series(list("abababa")))
    assert values["MeanSkewnessOfNumericAtts"] == pytest.approx(KNOWN_SKEWNESS)
    assert values["MeanKurtosisOfNumericAtts"] == pytest.approx(KNOWN_KURTOSIS)


def test_constant_column_has_zero_spread_and_no_shape() -> None:
    # Commons Math gives 0/0 for the skewness and kurtosis of a constant: OpenML leaves them
    # out of the summaries (optdigits' published quartiles only match that way).
    frame = pd.DataFrame({"x": KNOWN_VECTOR, "constant": [7.0] * 5})
    values = _qualities(frame, pd.Series(list("ababa")))

    assert values["MinStdDevOfNumericAtts"] == 0.0
    assert values["MaxMeansOfNumericAtts"] == 7.0
    assert values["MeanSkewnessOfNumericAtts"] == pytest.approx(KNOWN_SKEWNESS)
    assert values["MinKurtosisOfNumericAtts"] == pytest.approx(KNOWN_KURTOSIS)


def test_all_missing_numeric_column_contributes_nothing() -> None:
    frame = pd.DataFrame({"empty": [np.nan] * 5})
    values = _qualities(frame, pd.Series(list("ababa")))
    assert values["NumberOfNumericFeatures"] == 1
    assert not any(name.endswith("OfNumericAtts") for name in values)


def test_quartiles_use_commons_math_positions() -> None:
    # Column means 1, 2, 3, 4: position p(n+1) -> Q1 at 1.25 (1.25), Q3 at 3.75 (3.75).
    frame = pd.DataFrame({f"c{m}": [m - 1.0, m + 0.0, m + 1.0] for m in (1, 2, 3, 4)})
    values = _qualities(frame, pd.Series(list("aba")))
    assert values["Quartile1MeansOfNumericAtts"] == pytest.approx(1.25)
    assert values["Quartile2MeansOfNumericAtts"] == pytest.approx(2.5)
    assert values["Quartile3MeansOfNumericAtts"] == pytest.approx(3.75)


def test_entropy_of_a_balanced_binary_column_is_one_bit() -> None:
    frame = pd.DataFrame({"coin": ["h", "t"] * 4})
    values = _qualities(frame, pd.Series(list("xxyyxxyy")))
    assert values["MeanAttributeEntropy"] == pytest.approx(1.0)
    assert values["ClassEntropy"] == pytest.approx(1.0)
    # coin and class are independent here: no information, so no ratio qualities.
    assert values["MeanMutualInformation"] == 0.0
    assert "EquivalentNumberOfAtts" not in values


def test_mutual_information_of_a_copy_of_the_class_is_the_class_entropy() -> None:
    labels = ["a", "b", "c", "a", "b", "c", "a", "a"]
    frame = pd.DataFrame({"copy": labels, "noise": ["u"] * 8})
    values = _qualities(frame, pd.Series(labels))

    class_entropy = -sum(p * math.log2(p) for p in (4 / 8, 2 / 8, 2 / 8))
    assert values["ClassEntropy"] == pytest.approx(class_entropy)
    assert values["MaxMutualInformation"] == pytest.approx(class_entropy)
    assert values["MinMutualInformation"] == 0.0
    mean_information = class_entropy / 2
    assert values["EquivalentNumberOfAtts"] == pytest.approx(class_entropy / mean_information)
    mean_entropy = (class_entropy + 0.0) / 2
    assert values["MeanNoiseToSignalRatio"] == pytest.approx(
        (mean_entropy - mean_information) / mean_information
    )


def test_missing_nominal_values_count_as_the_first_declared_value() -> None:
    # OpenML's Java code files a missing value under value index 0; with declared values
    # (a, b) the column below reads as a a a b: entropy of (3/4, 1/4), not of (1/2, 1/2).
    column = pd.Categorical(["a", None, None, "b"], categories=["a", "b"])
    values = _qualities(pd.DataFrame({"c": column}), pd.Series(list("xyxy")))
    expected = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert values["MeanAttributeEntropy"] == pytest.approx(expected)
