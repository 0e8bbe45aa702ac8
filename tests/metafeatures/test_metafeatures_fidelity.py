"""Our qualities of anneal against the values OpenML published for the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mile_meta.metafeatures.fidelity import (
    anneal_cases,
    check_case,
    matches,
    read_openml_qualities,
)

SHARED = Path(__file__).parents[2].parent / "shared"
OPENML_RESPONSES = SHARED / "openml-responses"


@pytest.fixture(scope="module")
def shared() -> Path:
    if not OPENML_RESPONSES.exists():
        pytest.skip(
            f"../shared/openml-responses not found: {OPENML_RESPONSES} holds OpenML's anneal "
            "files next to the repository checkout"
        )
    return SHARED


def test_matching_rule() -> None:
    assert matches(1.0, 1.0099)
    assert not matches(1.0, 1.0102)
    assert matches(0.0, 0.0)
    assert matches(-0.0, 0.0)
    assert not matches(1e-13, 0.0)


def test_anneal_matches_the_current_openml_engine(shared: Path) -> None:
    current, _ = anneal_cases(shared)
    report = check_case(current)

    assert report.compared >= 60  # every quality of the core set, landmarkers included
    assert report.share_matched >= 0.90, [
        (miss.name, miss.ours, miss.openml) for miss in report.misses
    ]
    compared = {comparison.name for comparison in report.comparisons}
    assert {"DecisionStumpAUC", "NaiveBayesKappa", "kNN1NErrRate"} <= compared


def test_anneal_differs_from_the_legacy_engine_only_where_explained(shared: Path) -> None:
    _, legacy = anneal_cases(shared)
    report = check_case(legacy, landmarkers=False)
    assert {miss.name for miss in report.misses} == set(legacy.reasons)


def test_qualities_reader_skips_empty_values(tmp_path: Path) -> None:
    answer = tmp_path / "qualities.xml"
    answer.write_text(
        '<oml:data_qualities xmlns:oml="http://openml.org/openml">'
        "<oml:quality><oml:name>NumberOfInstances</oml:name><oml:value>898.0</oml:value>"
        "</oml:quality><oml:quality><oml:name>Broken</oml:name><oml:value></oml:value>"
        "</oml:quality></oml:data_qualities>"
    )
    assert read_openml_qualities(answer) == {"NumberOfInstances": 898.0}
