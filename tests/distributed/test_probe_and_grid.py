"""``recommend --probe`` and the benchmark grid on the real Dask cluster of ``conftest``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.kb import KnowledgeBase
from mile_meta.recommend import recommend

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"
PROBE = {"top": 5, "probe": 3, "cv": 3, "exclude_datasets": [31], "seed": 0}


def _scores(report) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {p.pipeline_id: p.mean for p in report.probes}


def test_probes_on_two_workers_are_recorded_here_and_match_local_ones(
    cluster, writable_kb_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from distributed import Client, get_task_stream

    with KnowledgeBase.open(writable_kb_path) as kb:
        local = recommend(EXAMPLE, "class", kb=kb, record_probes=False, **PROBE)
        assert kb.source_counts("local")["evaluations"] == 0
        with (
            Client(cluster.address, set_as_default=False) as client,
            get_task_stream(client) as stream,
        ):
            remote = recommend(EXAMPLE, "class", kb=kb, scheduler=client, **PROBE)
        # the workers only computed: the client recorded 3 probes x 3 folds in its own kb
        assert kb.source_counts("local")["evaluations"] == 9
    assert len(remote.probes) == 3 and not remote.failed_probes
    # the same pipelines probed, with the same folds and seeds: the same scores
    assert set(_scores(remote)) == set(_scores(local))
    for pipeline_id, score in _scores(local).items():
        assert _scores(remote)[pipeline_id] == pytest.approx(score, abs=1e-9)
    probes = [t for t in stream.data if "EvaluateTask" in str(t["key"])]
    assert len(probes) == 3
    assert len({t["worker"] for t in probes}) == 2  # both workers evaluated probes


def test_local_probes_in_two_processes_match_serial_ones(writable_kb_path: Path) -> None:
    with KnowledgeBase.open(writable_kb_path) as kb:
        serial = recommend(EXAMPLE, "class", kb=kb, record_probes=False, **PROBE)
        parallel = recommend(EXAMPLE, "class", kb=kb, jobs=2, **PROBE)
        assert kb.source_counts("local")["evaluations"] == 9
    assert _scores(parallel) == pytest.approx(_scores(serial), abs=1e-9)


def test_cli_probe_on_the_cluster(cluster, writable_kb_path: Path) -> None:  # type: ignore[no-untyped-def]
    arguments = ["recommend", str(EXAMPLE), "--target", "class", "--kb", str(writable_kb_path)]
    arguments += ["--probe", "2", "--top", "3", "--exclude-dataset", "31", "--json"]
    done = CliRunner().invoke(main, [*arguments, "--scheduler", cluster.address])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert len(report["probes"]) == 2
    with KnowledgeBase.open(writable_kb_path) as kb:
        assert kb.source_counts("local")["evaluations"] == 2 * 5


def test_scheduler_without_probe_is_one_clear_error(writable_kb_path: Path) -> None:
    arguments = ["recommend", str(EXAMPLE), "--target", "class", "--kb", str(writable_kb_path)]
    done = CliRunner().invoke(main, [*arguments, "--scheduler", "tcp://127.0.0.1:9"])
    assert done.exit_code != 0
    assert "add --probe N" in done.output


def test_a_tiny_benchmark_grid_runs_on_the_cluster(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if (
        not Path("/work/shared/benchmarks/datasets.csv").exists()
        and not (REPO.parent / "shared" / "benchmarks").exists()
    ):
        pytest.skip("the shared benchmark datasets are not here")
    root = tmp_path / "grid"
    command = [sys.executable, str(REPO / "scripts" / "benchmark_search.py"), "run"]
    command += ["--scheduler", cluster.address, "--root", str(root), "--kb", str(tmp_path / "kb")]
    # the budget counts from the search's call: a loaded machine spends seconds on imports
    command += ["--datasets", "credit-g", "--methods", "random", "--budgets", "5"]
    command += ["--seeds", "0", "1", "--clock", "call"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(p.read_text()) for p in sorted((root / "jobs").glob("*.json"))]
    assert [(r["seed"], r["method"], r["budget"]) for r in records] == [
        (0, "random", 5),
        (1, "random", 5),
    ]
    for record in records:
        assert not record.get("failed"), record
        assert 0.5 <= record["test_score"] <= 1.0  # balanced accuracy of a real model
        assert record["evaluations"] >= 1
        assert record["wall_seconds"] < 5 * 3 + 120  # the runaway limit of a job
    assert "2 jobs to run on the Dask cluster" in done.stdout
    assert not (tmp_path / "kb").exists()  # random search needs no knowledge base


def test_a_failing_grid_job_is_recorded_as_failed(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A job whose process dies (here: an unknown method) is written as failed, with why."""
    root = tmp_path / "grid"
    command = [sys.executable, str(REPO / "scripts" / "benchmark_search.py"), "run"]
    command += ["--scheduler", cluster.address, "--root", str(root), "--kb", str(tmp_path / "kb")]
    command += ["--datasets", "credit-g", "--methods", "no-such-method", "--budgets", "5"]
    command += ["--seeds", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = (root / "jobs").glob("*.json")
    record = json.loads(path.read_text())
    assert record["test_score"] is None and "exit code" in record["failed"]
    assert "FAILED" in done.stdout
    shutil.rmtree(root)
