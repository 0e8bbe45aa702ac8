"""The fast evaluation-list reader against recorded OpenML pages and openml's own parser."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
import xmltodict
from conftest import require_recorded
from hypothesis import given, settings
from hypothesis import strategies as st
from replay import RECORDED

from mile_meta.sources.openml import ListedEvaluation, OpenMLCrawlError, parse_evaluation_list

STUDY_PAGE = (
    "mock_responses/studies/publish_study/"
    "get_evaluation_list_function_predictive_accuracy_limit_10000_offset_0_study_157.xml"
)


def _openml_reading(text: str) -> list[tuple[int, int, int, int, str, int, float]]:
    """What openml 0.15.1 reads from the same page (its xmltodict path, without users)."""
    parsed = xmltodict.parse(text, force_list=("oml:evaluation",))["oml:evaluations"][
        "oml:evaluation"
    ]
    return [
        (
            int(e["oml:run_id"]),
            int(e["oml:task_id"]),
            int(e["oml:setup_id"]),
            int(e["oml:flow_id"]),
            e["oml:flow_name"],
            int(e["oml:data_id"]),
            float(e["oml:value"]),
        )
        for e in parsed
    ]


@pytest.mark.parametrize(
    "relative", ["mock_responses/evaluations/evaluation_list_run12.xml", STUDY_PAGE]
)
def test_recorded_pages_read_like_openml_reads_them(relative: str) -> None:
    require_recorded()
    text = (RECORDED / relative).read_text(encoding="utf-8")
    rows = parse_evaluation_list(text)
    assert [
        (r.run_id, r.task_id, r.setup_id, r.flow_id, r.flow_name, r.data_id, r.value) for r in rows
    ] == _openml_reading(text)
    assert all(r.function == "predictive_accuracy" for r in rows)


def test_recorded_run_12() -> None:
    require_recorded()
    (row,) = parse_evaluation_list(
        (RECORDED / "mock_responses/evaluations/evaluation_list_run12.xml").read_bytes()
    )
    assert row == ListedEvaluation(
        run_id=12,
        task_id=1,
        setup_id=1,
        flow_id=100,
        flow_name="sklearn.ensemble.RandomForestClassifier",
        data_id=1,
        data_name="anneal",
        function="predictive_accuracy",
        upload_time="2014-10-06T23:38:13",
        uploader=1,
        value=0.9876,
    )


def test_truncated_page_is_refused_whole() -> None:
    require_recorded()
    text = (RECORDED / STUDY_PAGE).read_text(encoding="utf-8")
    with pytest.raises(OpenMLCrawlError, match="malformed evaluation list"):
        parse_evaluation_list(text[: len(text) // 2])


def test_other_documents_are_refused() -> None:
    with pytest.raises(OpenMLCrawlError, match="not an <oml:evaluations> document"):
        parse_evaluation_list("<html><body>502 Bad Gateway</body></html>")


def test_missing_value_and_escaped_names() -> None:
    page = (
        '<oml:evaluations xmlns:oml="http://openml.org/openml"><oml:evaluation>'
        "<oml:run_id>5</oml:run_id><oml:task_id>3</oml:task_id><oml:setup_id>7</oml:setup_id>"
        "<oml:flow_id>9</oml:flow_id><oml:flow_name>a&amp;b &lt;c&gt;</oml:flow_name>"
        "<oml:data_id>3</oml:data_id><oml:data_name>kr-vs-kp</oml:data_name>"
        "<oml:function>area_under_roc_curve</oml:function><oml:uploader>1</oml:uploader>"
        "<oml:array_data>[0.5,0.5]</oml:array_data></oml:evaluation></oml:evaluations>"
    )
    (row,) = parse_evaluation_list(page)
    assert row.flow_name == "a&b <c>"
    assert row.value is None


_names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_rows = st.lists(
    st.tuples(
        st.integers(1, 10**9),
        st.integers(1, 10**6),
        st.integers(1, 10**7),
        _names,
        st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_round_trip(rows: list[tuple[int, int, int, str, float]]) -> None:
    page = '<oml:evaluations xmlns:oml="http://openml.org/openml">\n'
    for run_id, task_id, setup_id, name, value in rows:
        page += (
            f"<oml:evaluation><oml:run_id>{run_id}</oml:run_id><oml:task_id>{task_id}</oml:task_id>"
            f"<oml:setup_id>{setup_id}</oml:setup_id><oml:flow_id>1</oml:flow_id>"
            f"<oml:flow_name>{escape(name)}</oml:flow_name><oml:data_id>2</oml:data_id>"
            f"<oml:data_name>d</oml:data_name><oml:function>predictive_accuracy</oml:function>"
            f"<oml:value>{value!r}</oml:value></oml:evaluation>\n"
        )
    page += "</oml:evaluations>"
    parsed = parse_evaluation_list(page)
    assert [(r.run_id, r.task_id, r.setup_id, r.flow_name, r.value) for r in parsed] == rows
