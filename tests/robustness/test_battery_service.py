"""The battery against the HTTP service (issue 18 items 2 and 6): hostile uploads and JSON.

Every request must get a typed answer: 200, or a 4xx whose ``detail`` is one line and shows
no server path; never a 5xx; the knowledge base unchanged.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_inputs import FileCase, generated_files, named_cases

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

GENERATED_EXAMPLES = 12


@pytest.fixture(scope="module")
def client(battery_kb: Path) -> TestClient:
    from mile_meta.service import create_app

    return TestClient(create_app(battery_kb), raise_server_exceptions=False)


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as connection:
        result = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("datasets", "pipelines", "evaluations", "sources")
        }
    connection.close()
    return result


def _check(response, battery_kb: Path, before: dict[str, int]) -> None:
    where = f"{response.status_code}: {response.text[:500]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail, where
        assert tempfile.gettempdir() not in detail, where  # no server paths
    assert _counts(battery_kb) == before


def _upload(client: TestClient, endpoint: str, case: FileCase, filename: str | None = None):
    return client.post(
        endpoint,
        files={"file": (filename or f"{case.name}{case.suffix}", case.content)},
        data={"target": case.target, "top": "3"},
    )


@pytest.mark.parametrize("endpoint", ["/recommend", "/priors"])
@pytest.mark.parametrize("case", named_cases(), ids=lambda case: case.name)
def test_named_uploads(endpoint: str, case: FileCase, client: TestClient, battery_kb: Path) -> None:
    before = _counts(battery_kb)
    response = _upload(client, endpoint, case)
    if response.status_code >= 500 or (
        response.status_code >= 400 and tempfile.gettempdir() in response.text
    ):
        pytest.fail(f"{response.status_code} {response.text[:200]}")
    _check(response, battery_kb, before)
    if case.codes == (0,):
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("name", "request_kwargs"),
    [
        (
            "nested-json",
            {"content": "[" * 5000 + "]" * 5000, "headers": {"content-type": "application/json"}},
        ),
        (
            "nan-metafeatures",
            {
                "content": '{"meta_features": {"NumberOfInstances": NaN}, "task_type": "binary"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        (
            "infinite-metafeatures",
            {
                "content": '{"meta_features": {"NumberOfInstances": Infinity}, "task_type": "binary"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        (
            "negative-count",
            {
                "json": {
                    "meta_features": {"NumberOfInstances": -5, "NumberOfFeatures": 3},
                    "task_type": "binary",
                }
            },
        ),
        ("not-json", {"content": b"\xff\xfe{", "headers": {"content-type": "application/json"}}),
        ("wrong-type", {"content": "x", "headers": {"content-type": "text/plain"}}),
        ("json-list", {"json": [1, 2, 3]}),
        ("empty-upload", {"files": {"file": ("data.csv", b"")}, "data": {"target": "y"}}),
        ("no-target", {"files": {"file": ("data.csv", b"a,y\n1,2\n")}}),
        (
            "long-suffix-chain",
            {"files": {"file": ("x" + ".csv" * 200, b"a,y\n1,2\n")}, "data": {"target": "y"}},
        ),
        (
            "path-in-filename",
            {"files": {"file": ("../../etc/passwd.csv", b"a,y\n1,2\n")}, "data": {"target": "y"}},
        ),
    ],
)
@pytest.mark.parametrize("endpoint", ["/recommend", "/priors"])
def test_hostile_requests(
    endpoint: str, name: str, request_kwargs: dict, client: TestClient, battery_kb: Path
) -> None:
    before = _counts(battery_kb)
    response = client.post(endpoint, **request_kwargs)
    bad = response.status_code >= 500 or (
        response.status_code >= 400 and tempfile.gettempdir() in response.text
    )
    accepted_nonsense = name in {"nan-metafeatures", "infinite-metafeatures", "negative-count"}
    if bad or (accepted_nonsense and response.status_code == 200):
        pytest.fail(f"{response.status_code} {response.text[:200]}")
    _check(response, battery_kb, before)
    assert 400 <= response.status_code < 500


def test_generated_uploads(client: TestClient, battery_kb: Path) -> None:
    failures: list[str] = []

    @settings(
        max_examples=GENERATED_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=generated_files(), endpoint=st.sampled_from(["/recommend", "/priors"]))
    def run(case: FileCase, endpoint: str) -> None:
        before = _counts(battery_kb)
        response = _upload(client, endpoint, case)
        if response.status_code >= 500:
            failures.append(f"{endpoint} {response.status_code} {response.text[:120]}")
            return
        _check(response, battery_kb, before)

    run()
    if failures:
        pytest.fail(f"{len(failures)} 5xx, e.g. {failures[0]}")


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def test_generated_json(client: TestClient, battery_kb: Path) -> None:
    failures: list[str] = []

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(
        payload=st.one_of(
            _JSON,
            st.fixed_dictionaries(
                {
                    "meta_features": st.dictionaries(
                        st.sampled_from(
                            ["NumberOfInstances", "NumberOfFeatures", "NumberOfClasses", "x"]
                        ),
                        st.floats(allow_nan=False) | st.integers(-(10**20), 10**20),
                    ),
                    "task_type": st.sampled_from(["binary", "multiclass", "regression", "nope"]),
                }
            ),
        ),
        endpoint=st.sampled_from(["/recommend", "/priors"]),
    )
    def run(payload: object, endpoint: str) -> None:
        before = _counts(battery_kb)
        response = client.post(
            endpoint,
            content=json.dumps(payload, allow_nan=True),
            headers={"content-type": "application/json"},
        )
        if response.status_code >= 500:
            failures.append(f"{endpoint} {response.status_code} {response.text[:120]}")
            return
        _check(response, battery_kb, before)

    run()
    if failures:
        pytest.fail(f"{len(failures)} 5xx, e.g. {failures[0]}")
