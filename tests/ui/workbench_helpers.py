"""Helpers the workbench tests share (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CSV = REPO / "mile_meta" / "resources" / "corpora" / "examples" / "credit-g.csv"


def wait_for_job(client: Any, job_id: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def upload_example(client: Any) -> dict[str, Any]:
    response = client.put(
        "/api/data/upload?filename=credit-g.csv", content=EXAMPLE_CSV.read_bytes()
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def open_session(client: Any) -> dict[str, Any]:
    table = upload_example(client)
    response = client.post("/api/sessions", json={"data_id": table["data_id"], "target": "class"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
