"""Durations, sizes and pins as the CLI and the API accept them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mile_meta.search import SearchError, parse_duration, parse_pins, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("5m", 300), ("1h", 3600), ("90", 90), ("1.5m", 90), ("250ms", 0.25), (12, 12)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "-5s", "0", "5 parsecs"])
def test_bad_durations_name_the_format(text: str) -> None:
    with pytest.raises(SearchError, match=r"60s|positive"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["s", "m", "h", ""]))
def test_duration_units_scale(value: int, unit: str) -> None:
    factor = {"s": 1, "m": 60, "h": 3600, "": 1}[unit]
    assert parse_duration(f"{value}{unit}") == value * factor


def test_sizes() -> None:
    assert parse_size("50MB") == 50_000_000
    assert parse_size("2GiB") == 2 * 1024**3
    assert parse_size("512kb") == 512_000
    assert parse_size(1000) == 1000
    with pytest.raises(SearchError, match="50MB"):
        parse_size("big")


def test_pins_read_json_values() -> None:
    pins = parse_pins(
        [
            "RandomForestClassifier.n_estimators=500",
            "scaling=robust",
            "max_features=null",
            "bootstrap=false",
        ]
    )
    assert pins == (
        ("RandomForestClassifier.n_estimators", 500),
        ("scaling", "robust"),
        ("max_features", None),
        ("bootstrap", False),
    )
    with pytest.raises(SearchError, match=r"Component\.parameter=value"):
        parse_pins(["n_estimators"])
