"""Landmarkers: Weka's folds, the three learners, and the time budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mile_meta.metafeatures import LANDMARKER_NAMES, compute_metafeatures
from mile_meta.metafeatures._java_random import JavaRandom
from mile_meta.metafeatures._landmarkers import weka_folds


def test_java_random_reproduces_javas_sequence() -> None:
    # new java.util.Random(42).nextInt(10), five times, as printed by a JVM.
    generator = JavaRandom(42)
    assert [generator.next_int(10) for _ in range(5)] == [0, 3, 8, 4, 0]
    # new Random(1).nextInt(): the 32 raw bits, read as a signed int.
    raw = JavaRandom(1)._next_bits(32)
    assert raw - (1 << 32) == -1155869325


def test_weka_folds_partition_the_rows_and_stratify() -> None:
    classes = np.array([0] * 30 + [1] * 10 + [2] * 7)
    folds = weka_folds(classes)

    assert len(folds) == 2
    assert sorted(np.concatenate(folds).tolist()) == list(range(classes.size))
    assert [len(fold) for fold in folds] == [24, 23]  # the first fold takes the odd row
    for fold in folds:
        counts = np.bincount(classes[fold], minlength=3)
        assert np.all(np.abs(counts - np.bincount(classes) / 2) <= 1)


def test_separable_data_gives_perfect_landmarkers() -> None:
    n = 60
    x = np.arange(n, dtype=float)
    frame = pd.DataFrame({"x": x, "colour": np.where(x < 30, "red", "blue")})
    target = pd.Series(np.where(x < 30, "low", "high"))
    values = compute_metafeatures(frame, target).values

    for name in LANDMARKER_NAMES:
        assert values[f"{name}ErrRate"] == 0.0
        assert values[f"{name}AUC"] == pytest.approx(1.0)
        assert values[f"{name}Kappa"] == pytest.approx(1.0)


def test_uninformative_feature_gives_chance_level_landmarkers() -> None:
    generator = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"noise": generator.normal(size=n)})
    target = pd.Series(generator.choice(["a", "b"], size=n))
    values = compute_metafeatures(frame, target).values

    for name in LANDMARKER_NAMES:
        assert 0.3 <= values[f"{name}AUC"] <= 0.7
        assert abs(values[f"{name}Kappa"]) < 0.25


def test_zero_budget_leaves_landmarkers_out_and_says_so() -> None:
    frame = pd.DataFrame({"x": np.arange(40.0)})
    meta = compute_metafeatures(frame, pd.Series(["a", "b"] * 20), time_budget_seconds=0.0)

    assert set(meta.skipped_landmarkers) == set(LANDMARKER_NAMES)
    assert not any(name.startswith(LANDMARKER_NAMES) for name in meta.values)
    assert "ClassEntropy" in meta.values  # the other qualities do not depend on the budget


def test_landmarkers_can_be_switched_off() -> None:
    frame = pd.DataFrame({"x": np.arange(40.0)})
    meta = compute_metafeatures(frame, pd.Series(["a", "b"] * 20), landmarkers=False)
    assert not any(name.startswith(LANDMARKER_NAMES) for name in meta.values)
    assert meta.skipped_landmarkers == ()


def test_single_class_has_no_landmarkers() -> None:
    meta = compute_metafeatures(pd.DataFrame({"x": np.arange(10.0)}), pd.Series(["a"] * 10))
    assert not any(name.startswith(LANDMARKER_NAMES) for name in meta.values)


def test_missing_values_everywhere_do_not_break_the_learners() -> None:
    generator = np.random.default_rng(1)
    n = 120
    numeric = generator.normal(size=n)
    numeric[generator.random(n) < 0.3] = np.nan
    nominal = pd.Series(generator.choice(["u", "v", "w"], size=n), dtype=object)
    nominal[generator.random(n) < 0.3] = None
    frame = pd.DataFrame({"numeric": numeric, "nominal": nominal, "empty": [np.nan] * n})
    target = pd.Series(generator.choice(["a", "b", "c"], size=n))
    values = compute_metafeatures(frame, target).values

    for name in LANDMARKER_NAMES:
        assert 0.0 <= values[f"{name}ErrRate"] <= 1.0
        assert 0.0 <= values[f"{name}AUC"] <= 1.0
