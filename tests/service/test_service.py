"""The HTTP service, tested through a real ``mile-meta serve`` process on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _server import running_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"
META = {"NumberOfInstances": 1000.0, "NumberOfFeatures": 21.0, "NumberOfClasses": 2.0}


@pytest.fixture(scope="module")
def server(corpus_kb_path: Path) -> Iterator[str]:
    with running_server(corpus_kb_path) as base:
        yield base


def test_health_version_and_docs(server: str) -> None:
    health = httpx.get(f"{server}/health", timeout=60).json()
    assert health["status"] == "ok" and health["datasets"] > 0
    version = httpx.get(f"{server}/version", timeout=60).json()
    assert version["prior_schema_version"] == 1 and "optuna" in version["prior_formats"]
    openapi = httpx.get(f"{server}/openapi.json", timeout=60).json()
    body = openapi["paths"]["/priors"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    assert "knowledge_base" not in health  # no file paths
    docs = httpx.get(f"{server}/docs", timeout=60)
    assert docs.status_code == 200
    # Swagger UI comes from this process (the swagger-ui-bundle package), never a CDN
    assert "https://" not in docs.text and "http://" not in docs.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/docs-assets/{asset}" in docs.text
        assert httpx.get(f"{server}/docs-assets/{asset}", timeout=60).status_code == 200


def test_every_response_is_typed(server: str) -> None:
    """A client generator gets named schemas, not untyped objects."""
    openapi = httpx.get(f"{server}/openapi.json", timeout=60).json()
    expected = {
        ("/health", "get"): "HealthResponse",
        ("/version", "get"): "VersionResponse",
        ("/recommend", "post"): "RecommendResponse",
        ("/priors", "post"): "PriorsResponse",
    }
    for (path, method), name in expected.items():
        responses = openapi["paths"][path][method]["responses"]
        schema = responses["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{name}"}
    recommendation = openapi["components"]["schemas"]["RecommendationItem"]["properties"]
    assert recommendation["evidence"]["items"] == {"$ref": "#/components/schemas/EvidenceItem"}
    assert "422" in openapi["paths"]["/priors"]["post"]["responses"]


def test_recommend_from_meta_features(server: str) -> None:
    answer = httpx.post(f"{server}/recommend", json={"meta_features": META, "top": 3}, timeout=120)
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["task_type"] == "binary" and len(payload["recommendations"]) == 3


def test_priors_from_meta_features_and_upload(server: str) -> None:
    from mile_meta.priors import Prior

    answer = httpx.post(
        f"{server}/priors",
        json={"meta_features": META, "format": "optuna", "top": 2, "exclude_datasets": [31]},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["format"] == "optuna" and len(payload["starting_points"]) == 2
    assert "EXPORTED = OptunaPortable(PRIOR)" in payload["module"]
    assert "import mile_meta" not in payload["module"]
    assert Prior.from_dict(payload["prior"]).provenance.excluded_datasets == ("openml:31",)

    with EXAMPLE.open("rb") as handle:
        answer = httpx.post(
            f"{server}/priors",
            files={"file": ("credit-g.csv", handle, "text/csv")},
            data={"target": "class", "top": "2", "format": "json", "exclude_datasets": "31"},
            timeout=180,
        )
    assert answer.status_code == 200, answer.text
    prior = Prior.from_dict(answer.json()["prior"])
    assert prior.dataset_name == "credit-g" and len(prior.starting_configurations) == 2


@pytest.mark.parametrize(
    ("request_kwargs", "status", "detail"),
    [
        ({"json": {"meta_features": META, "metric": "nope"}}, 422, "unknown metric 'nope'"),
        ({"json": {"meta_features": META, "format": "smac"}}, 422, "unknown prior format 'smac'"),
        ({"json": {"top": 3}}, 422, "meta_features: Field required"),
        ({"json": {"meta_features": {"NumberOfInstances": 10.0}}}, 422, "task_type"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, 415, "unsupported"),
        ({"files": {"file": ("d.csv", b"a,b\n1,2\n")}}, 422, "target: missing"),
        (
            {"files": {"file": ("d.csv", b"a,b\n1,2\n3,4\n")}, "data": {"target": "y"}},
            422,
            "target column 'y' not found",
        ),
        (
            {
                "files": {"file": ("big.csv", b"a,b\n" + b"1,2\n" * 400_000)},
                "data": {"target": "b"},
            },
            413,
            "larger than 1 MB",
        ),
    ],
)
def test_bad_input_gets_one_line_4xx(server: str, request_kwargs, status, detail) -> None:
    answer = httpx.post(f"{server}/priors", timeout=120, **request_kwargs)
    assert answer.status_code == status, answer.text
    message = answer.json()["detail"]
    assert detail in message and "\n" not in message
