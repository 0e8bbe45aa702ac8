"""The workbench's JSON API on a real knowledge base: data in, editing, versions, bad input."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workbench_helpers import EXAMPLE_CSV, open_session, upload_example, wait_for_job

from mile_meta.search import SearchJournal

pytest.importorskip("fastapi", reason="the workbench needs the ui extra: pip install -e '.[ui]'")
pytest.importorskip("plotly", reason="the workbench needs the ui extra: pip install -e '.[ui]'")


NAIVE_BAYES = [
    {
        "component": "TabularPreprocessor",
        "params": {"categorical_encoding": '"onehot"', "numeric_imputation": '"median"'},
    },
    {"component": "GaussianNB", "params": {}},
]


@pytest.fixture
def client(writable_kb_path: Path, tmp_path: Path) -> Iterator[Any]:
    """A test client of a workbench on a copy of the corpus knowledge base."""
    from fastapi.testclient import TestClient

    from mile_meta.ui import create_app

    app = create_app(writable_kb_path, data_dir=tmp_path / "data", max_upload_bytes=2_000_000)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    app.state.workbench.close()


def _kb_counts(path: Path) -> tuple[str, int, int]:
    connection = sqlite3.connect(path)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        corpus = connection.execute(
            "SELECT count(*) FROM evaluations WHERE source != 'local'"
        ).fetchone()[0]
        datasets = connection.execute(
            "SELECT count(*) FROM datasets WHERE dataset_id NOT LIKE 'local:%'"
        ).fetchone()[0]
    finally:
        connection.close()
    return integrity, corpus, datasets


def test_upload_lands_in_the_data_folder_and_describes_the_columns(client: Any) -> None:
    response = client.put(
        "/api/data/upload?filename=../../outside/credit-g.csv", content=EXAMPLE_CSV.read_bytes()
    )
    assert response.status_code == 200, response.text
    table = response.json()
    uploads = client.app.state.workbench.upload_dir.resolve()
    assert Path(table["path"]).resolve().is_relative_to(uploads)
    assert table["name"] == "credit-g"
    assert table["rows"] == 1000
    assert table["suggested_target"] == "class"
    assert {c["name"] for c in table["columns"]} >= {"class", "age", "credit_amount"}


def test_target_gives_the_task_and_why_then_recommendations_and_neighbours(client: Any) -> None:
    info = open_session(client)
    assert info["task_type"] == "binary"
    assert "2 distinct" in info["why"]
    session_id = info["session"]["session_id"]
    report = client.get(f"/api/sessions/{session_id}/recommendations?top=5").json()
    assert len(report["recommendations"]) == 5
    first = report["recommendations"][0]
    assert first["interval"][0] <= first["predicted_score"] <= first["interval"][1]
    assert first["evidence"]
    profile = client.get(f"/api/sessions/{session_id}/profile").json()
    assert profile["nearest"] and profile["nearest"][0]["distance"] >= 0
    assert profile["key_meta_features"]["NumberOfInstances"] == 1000


def test_form_is_generated_from_the_space_and_refuses_invalid_values(client: Any) -> None:
    session_id = open_session(client)["session"]["session_id"]
    form = client.post(
        f"/api/sessions/{session_id}/form", json={"estimator": "RandomForestClassifier"}
    ).json()
    estimator = form["steps"][-1]
    fields = {field["name"]: field for field in estimator["fields"]}
    assert fields["criterion"]["choices"] == ["gini", "entropy"]
    assert fields["max_features"]["low"] == 0.05 and fields["max_features"]["high"] == 1.0
    assert fields["min_samples_split"]["kind"] == "int"
    steps = [
        {"component": "TabularPreprocessor", "params": {"scaling": '"none"'}},
        {
            "component": "RandomForestClassifier",
            "params": {"max_features": "2.5", "criterion": '"gini"', "min_samples_leaf": "1.5"},
        },
    ]
    checked = client.post("/api/validate", json={"steps": steps}).json()
    assert not checked["ok"]  # scikit-learn's own check refuses, with its reason
    assert "Got 2.5" in checked["errors"]["1:RandomForestClassifier.max_features"]
    # a value scikit-learn accepts outside the space's range is kept, with a note
    steps[1]["params"] = {"max_features": "1.0", "min_samples_split": "0.01"}
    noted = client.post("/api/validate", json={"steps": steps}).json()
    assert (
        noted["ok"] and "fraction" in noted["notes"]["1:RandomForestClassifier.min_samples_split"]
    )
    # where scikit-learn does not check (the preprocessor, LightGBM) the space decides
    strict = [{"component": "TabularPreprocessor", "params": {"scaling": '"log"'}}, steps[1]]
    refused_choice = client.post("/api/validate", json={"steps": strict}).json()["errors"]
    assert "must be one of" in refused_choice["0:TabularPreprocessor.scaling"]
    steps[1]["params"] = {"criterion": '"log"'}
    reason = client.post("/api/validate", json={"steps": steps}).json()["errors"]
    assert "Got 'log'" in reason["1:RandomForestClassifier.criterion"]
    refused = client.post(
        f"/api/sessions/{session_id}/evaluate", json={"steps": steps, "expected_revision": 0}
    )
    assert refused.status_code == 400
    assert "criterion" in refused.json()["error"]


def test_evaluate_records_versions_and_a_second_tab_is_told(client: Any) -> None:
    session_id = open_session(client)["session"]["session_id"]
    job = client.post(
        f"/api/sessions/{session_id}/evaluate",
        json={"steps": NAIVE_BAYES, "expected_revision": 0, "author": "user"},
    ).json()
    done = wait_for_job(client, job["job_id"])
    assert done["status"] == "done", done
    first = done["result"]["version"]
    assert first["number"] == 1 and len(first["fold_scores"]) == 5
    # each fold is reported as it finishes, with the mean of the folds done so far
    events = client.app.state.workbench.jobs.get(job["job_id"]).events
    folds = [e for e in events if e["type"] == "fold"]
    assert [(e["done"], e["total"]) for e in folds] == [(k, 5) for k in range(1, 6)]
    assert folds[0]["score"] == pytest.approx(first["fold_scores"][0])
    assert folds[-1]["score"] == pytest.approx(first["mean"])
    # beside the prediction and the knowledge base's best on similar data, as
    # mile_meta.recommend.compare_evaluation says
    comparison = done["result"]["comparison"]
    assert comparison["measured"] == pytest.approx(first["mean"])
    assert comparison["verdict"] and comparison["nearest_best"]
    assert {"dataset_name", "distance", "pipeline", "score"} <= set(comparison["nearest_best"][0])
    if comparison["predicted"] is not None:
        assert first["predicted_score"] == pytest.approx(comparison["predicted"])
    assert done["result"]["revision"] == 1  # the tab that evaluated knows its own change
    # tab 2 still believes the session is at revision 0
    stale = client.post(
        f"/api/sessions/{session_id}/evaluate", json={"steps": NAIVE_BAYES, "expected_revision": 0}
    )
    assert stale.status_code == 409
    assert "another tab" in stale.json()["error"]
    edited = [NAIVE_BAYES[0], {"component": "GaussianNB", "params": {"var_smoothing": "1e-5"}}]
    job = client.post(
        f"/api/sessions/{session_id}/evaluate",
        json={"steps": edited, "expected_revision": 1, "parent_id": first["version_id"]},
    ).json()
    second = wait_for_job(client, job["job_id"])["result"]["version"]
    assert second["parent_id"] == first["version_id"]
    assert "var_smoothing" in second["action"]
    comparison = client.get(f"/api/compare?a={first['version_id']}&b={second['version_id']}").json()
    assert comparison["paired"]
    assert comparison["spec_diff"] == [{"key": "GaussianNB.var_smoothing", "a": None, "b": 1e-5}]
    history = client.get(f"/api/sessions/{session_id}").json()
    assert [v["number"] for v in history["versions"]] == [1, 2]
    assert history["session"]["revision"] == 2


def test_bad_input_gets_a_clear_message_and_the_kb_stays_intact(
    client: Any, tmp_path: Path
) -> None:
    kb_path = client.app.state.workbench.kb_path
    before = _kb_counts(kb_path)
    wrong_type = client.put("/api/data/upload?filename=model.exe", content=b"MZ\x00\x01")
    assert wrong_type.status_code == 415 and "not a CSV or Parquet" in wrong_type.json()["error"]
    garbage = client.put(
        "/api/data/upload?filename=data.parquet", content=b"\x00not parquet\xff" * 10
    )
    assert garbage.status_code == 400 and "cannot read" in garbage.json()["error"]
    empty = client.put("/api/data/upload?filename=empty.csv", content=b"")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    too_big = client.put("/api/data/upload?filename=big.csv", content=b"a,b\n" + b"1,2\n" * 600_000)
    assert too_big.status_code == 413 and "upload limit" in too_big.json()["error"]
    uploads = client.app.state.workbench.upload_dir
    assert not [p for p in uploads.rglob("*") if p.is_file()]  # nothing refused was kept
    table = upload_example(client)
    missing = client.post("/api/sessions", json={"data_id": table["data_id"], "target": "klass"})
    assert missing.status_code == 400 and "'klass' not found" in missing.json()["error"]
    none = client.post("/api/sessions", json={"data_id": table["data_id"], "target": ""})
    assert none.status_code == 400 and "pick the target" in none.json()["error"]
    relative = client.post("/api/data/open", json={"path": "credit-g.csv"})
    assert relative.status_code == 400 and "absolute path" in relative.json()["error"]
    absent = client.post("/api/data/open", json={"path": str(tmp_path / "absent.csv")})
    assert absent.status_code == 400 and "does not exist" in absent.json()["error"]
    write = client.post("/api/kb/query", json={"sql": "DELETE FROM evaluations"})
    assert write.status_code == 400 and "read-only" in write.json()["error"]
    assert _kb_counts(kb_path) == before


def test_only_loopback_host_names_are_served(client: Any) -> None:
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health", headers={"host": "attacker.example"}).status_code == 400


def test_the_browser_pages_through_evaluations_without_loading_them(client: Any) -> None:
    first = client.get("/api/kb/browse/evaluations?limit=20").json()
    assert len(first["rows"]) == 20 and first["total"] > 1000
    later = client.get("/api/kb/browse/evaluations?limit=20&offset=1000&sort=value&descending=true")
    assert later.status_code == 200 and len(later.json()["rows"]) == 20
    filtered = client.get("/api/kb/browse/datasets?filter_name=credit").json()
    assert filtered["total"] >= 1 and all("credit" in row[1].lower() for row in filtered["rows"])
    bad = client.get("/api/kb/browse/evaluations?sort=value;DROP")
    assert bad.status_code == 400 and "no column" in bad.json()["error"]
    assert client.get("/api/kb/browse/sources").status_code == 400


def test_constraints_say_at_once_when_they_cannot_be_met(client: Any) -> None:
    ok = client.post(
        "/api/constraints/check", json={"task_type": "binary", "include": ["random_forest"]}
    ).json()
    assert ok["ok"] and ok["estimators"] == ["RandomForestClassifier"]
    impossible = client.post(
        "/api/constraints/check",
        json={"task_type": "binary", "include": ["knn"], "interpretable": True},
    ).json()
    assert not impossible["ok"] and "relax one constraint" in impossible["reason"]
    bad_budget = client.post(
        "/api/constraints/check", json={"task_type": "binary", "budget": "soon"}
    ).json()
    assert not bad_budget["ok"] and "duration" in bad_budget["reason"]


def test_a_stopped_search_keeps_its_best_as_a_version(client: Any) -> None:
    session_id = open_session(client)["session"]["session_id"]
    form = {"budget": "120s", "include": ["naive_bayes", "decision_tree"]}
    job = client.post(f"/api/sessions/{session_id}/search", json=form).json()
    again = client.post(f"/api/sessions/{session_id}/search", json=form)
    assert again.status_code == 409 and "already running" in again.json()["error"]
    workbench = client.app.state.workbench
    running = workbench.jobs.get(job["job_id"])
    deadline = time.monotonic() + 120
    while not any(e.get("evaluations") for e in running.events) and time.monotonic() < deadline:
        time.sleep(0.2)
    client.post(f"/api/jobs/{job['job_id']}/stop")
    done = wait_for_job(client, job["job_id"])
    assert done["status"] == "stopped", done
    summary = done["result"]["summary"]
    assert summary["stopped_because"] == "interrupted"
    assert summary["elapsed_seconds"] < 100
    version = done["result"]["version"]
    assert version["author"] == "search" and version["mean"] == summary["best"]["score"]


def test_a_changed_constraint_replans_from_what_the_search_evaluated(client: Any) -> None:
    session_id = open_session(client)["session"]["session_id"]
    workbench = client.app.state.workbench
    form = {"budget": "120s", "include": ["naive_bayes", "decision_tree", "logistic_regression"]}
    first = client.post(f"/api/sessions/{session_id}/search", json=form).json()
    journal = workbench.search_folder(session_id) / "evaluations.pkl"
    running = workbench.jobs.get(first["job_id"])
    deadline = time.monotonic() + 150
    # wait for candidates evaluated on all rows (what a resumed search carries over)
    while time.monotonic() < deadline and running.status == "running":
        logged = SearchJournal(journal.parent, resume=True).records() if journal.exists() else []
        if sum(r[0] == "evaluation" for r in logged) >= 2:
            break
        time.sleep(0.3)
    before = SearchJournal(journal.parent, resume=True).records()
    evaluated = {
        r[1].candidate.pipeline_id: r[1].candidate.family for r in before if r[0] == "evaluation"
    }
    assert evaluated, "the first search evaluated nothing on all rows"
    # the user drops decision trees while the search runs, and re-plans
    changed = {"budget": "8s", "include": ["naive_bayes", "logistic_regression"]}
    second = client.post(
        f"/api/sessions/{session_id}/search", json={**changed, "replan": True}
    ).json()
    assert wait_for_job(client, first["job_id"])["status"] == "stopped"
    done = wait_for_job(client, second["job_id"])
    assert done["status"] == "done", done
    start = next(e for e in workbench.jobs.get(second["job_id"]).events if e["type"] == "start")
    assert start["replan"] and start["note"].startswith("re-planned from the last search")
    summary = done["result"]["summary"]
    assert any(note.startswith("resumed:") for note in summary["notes"]), summary["notes"]
    families = {row["family"] for row in summary["leaderboard"]}
    assert "decision_tree" not in families
    # what the first search evaluated and the new constraints admit was carried, not redone
    carried = {pid for pid, family in evaluated.items() if family != "decision_tree"}
    assert carried <= {row["pipeline_id"] for row in summary["leaderboard"]}
    redone = [
        e["last"]["pipeline_id"]
        for e in workbench.jobs.get(second["job_id"]).events
        if e["type"] == "progress" and e["last"] and e["last"]["pipeline_id"] in carried
    ]
    assert redone == []
    history = client.get(f"/api/sessions/{session_id}").json()
    assert history["searched"]
    assert [v["author"] for v in history["versions"]] == ["search", "search"]
