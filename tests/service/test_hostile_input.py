"""The service under hostile and broken input: every bad request is a one-line 4xx.

Runs against a real ``mile-meta serve`` process (1 MB upload limit, see conftest.py).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _server import running_server

META = {"NumberOfInstances": 1000.0, "NumberOfFeatures": 21.0, "NumberOfClasses": 2.0}
GOOD_CSV = b"a,b,y\n" + b"".join(f"{i},{i % 7},{i % 2}\n".encode() for i in range(60))


def _raw_json(text: str) -> dict[str, object]:
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


CASES: list[tuple[str, str, dict[str, object], int, str]] = [
    # (id, endpoint, httpx keyword arguments, status, words in the detail)
    ("deep-json", "/recommend", _raw_json("[" * 100_000 + "]" * 100_000), 400, "nests deeper"),
    ("deep-object", "/priors", _raw_json('{"a":' * 50 + "1" + "}" * 50), 400, "nests deeper"),
    ("json-too-big", "/recommend", _raw_json(" " * (1024 * 1024 + 10) + "{}"), 413, "larger"),
    ("json-array", "/recommend", _raw_json("[1, 2]"), 422, "JSON object"),
    ("json-null", "/priors", _raw_json("null"), 422, "JSON object"),
    (
        "nan",
        "/recommend",
        _raw_json('{"meta_features": {"NumberOfInstances": NaN}}'),
        422,
        "finite",
    ),
    (
        "infinity",
        "/priors",
        _raw_json('{"meta_features": {"NumberOfInstances": Infinity, "NumberOfClasses": 2}}'),
        422,
        "finite",
    ),
    (
        "negative-count",
        "/recommend",
        {"json": {"meta_features": {**META, "NumberOfInstances": -5}}},
        422,
        "cannot be negative",
    ),
    ("no-meta-features", "/recommend", {"json": {"meta_features": {}}}, 422, "no meta-features"),
    ("string-value", "/recommend", {"json": {"meta_features": {"a": "x"}}}, 422, "meta_features"),
    ("unknown-field", "/recommend", {"json": {"meta_features": META, "x": 1}}, 422, "x"),
    ("top-zero", "/recommend", {"json": {"meta_features": META, "top": 0}}, 422, "top"),
    (
        "bad-utf8",
        "/recommend",
        {"content": b"\xff\xfe{", "headers": {"content-type": "application/json"}},
        400,
        "not valid JSON",
    ),
    ("no-content-type", "/priors", {"content": b"{}"}, 415, "unsupported content type"),
    (
        "empty-upload",
        "/recommend",
        {"files": {"file": ("d.csv", b"")}, "data": {"target": "y"}},
        422,
        "empty",
    ),
    (
        "binary-upload",
        "/recommend",
        {"files": {"file": ("d.csv", bytes(range(256)) * 20)}, "data": {"target": "y"}},
        422,
        "",
    ),
    (
        "header-only",
        "/priors",
        {"files": {"file": ("d.csv", b"a,b,y\n")}, "data": {"target": "y"}},
        422,
        "",
    ),
    (
        "not-parquet",
        "/recommend",
        {"files": {"file": ("d.parquet", b"PAR1 not really")}, "data": {"target": "y"}},
        422,
        "",
    ),
    (
        "long-suffix-chain",
        "/recommend",
        {"files": {"file": ("x" + ".csv" * 120, GOOD_CSV)}, "data": {"target": "nope"}},
        422,
        "target column 'nope' not found",
    ),
    (
        "path-in-filename",
        "/recommend",
        {"files": {"file": ("../../etc/passwd.csv", GOOD_CSV)}, "data": {"target": "nope"}},
        422,
        "not found",
    ),
    (
        "bad-top-in-form",
        "/priors",
        {"files": {"file": ("d.csv", GOOD_CSV)}, "data": {"target": "y", "top": "many"}},
        422,
        "top",
    ),
    (
        "broken-multipart",
        "/recommend",
        {
            "content": b"--x\r\nbroken",
            "headers": {"content-type": "multipart/form-data; boundary=x"},
        },
        422,
        "",
    ),
]


@pytest.mark.parametrize(
    ("endpoint", "request_kwargs", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_request_gets_one_line_4xx(
    server: str, endpoint: str, request_kwargs: dict[str, object], status: int, words: str
) -> None:
    answer = httpx.post(f"{server}{endpoint}", timeout=120, **request_kwargs)  # type: ignore[arg-type]
    if status == 422 and not words:  # unreadable data: any typed 4xx with a reason will do
        assert 400 <= answer.status_code < 500, answer.text
    else:
        assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    assert words in detail
    _assert_no_server_paths(answer.text)


def _assert_no_server_paths(text: str) -> None:
    for path in (tempfile.gettempdir(), str(Path.home()), "/work/", "site-packages", "server-tmp"):
        assert path not in text, f"{path} leaked: {text[:300]}"
    assert "mile-meta-upload-" not in text


@pytest.fixture(scope="module")
def server_temporary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's own temporary folder: uploads land there and nowhere else."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(corpus_kb_path: Path, server_temporary: Path) -> Iterator[str]:
    with running_server(corpus_kb_path, server_temporary) as base:
        yield base


def test_uploads_leave_no_temporary_files(server: str, server_temporary: Path) -> None:
    for content in (b"", b"a,b\n", GOOD_CSV, bytes(range(256)) * 10):
        httpx.post(
            f"{server}/recommend",
            files={"file": ("x.csv" * 50, content)},
            data={"target": "nope"},
            timeout=120,
        )
    assert not list(server_temporary.glob("mile-meta-upload-*"))


def test_every_response_is_free_of_server_paths(server: str) -> None:
    answers = [
        httpx.get(f"{server}/health", timeout=60),
        httpx.get(f"{server}/version", timeout=60),
        httpx.get(f"{server}/nowhere", timeout=60),
        httpx.post(f"{server}/recommend", json={"meta_features": META, "top": 2}, timeout=120),
        httpx.post(
            f"{server}/recommend",
            files={"file": ("good.csv", GOOD_CSV)},
            data={"target": "y", "top": "2"},
            timeout=120,
        ),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 404, 200, 200]
    for answer in answers:
        _assert_no_server_paths(answer.text)
    assert json.loads(answers[4].text)["dataset"] == "good"
