"""Searches on a real Dask cluster (a scheduler and two workers started by ``conftest``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from mile_meta.data import dataset_from_frame
from mile_meta.search import (
    FullFidelity,
    NoInitialDesign,
    NoPruning,
    OptunaOptimizer,
    Search,
    SearchProgress,
    SearchSettings,
    WorkerSettings,
)
from mile_meta.search._dask import DaskExecutor

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return dataset_from_frame(X.assign(target=y), "target", name="breast-cancer")


def _search(executors: list[DaskExecutor], address: str) -> Search:
    def on_cluster(dataset, settings: WorkerSettings):  # type: ignore[no-untyped-def]
        executor = DaskExecutor(dataset, settings, scheduler=address)
        executors.append(executor)
        return executor

    return Search(
        initial_design=NoInitialDesign(),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer("random"),
        executor=on_cluster,
        ensemble=False,
    )


def _local(jobs: int) -> Search:
    return Search(
        initial_design=NoInitialDesign(),
        pruner=NoPruning(),
        fidelity=FullFidelity(),
        optimizer=OptunaOptimizer("random"),
        ensemble=False,
    )


# generous: a Dask task pays seconds of scheduling on a loaded 2-core CI machine
SETTINGS = SearchSettings(budget_seconds=40, use_prior=False, record=False, max_evaluations=8)


def test_both_workers_evaluate_and_quality_matches_a_local_run(cluster, dataset) -> None:  # type: ignore[no-untyped-def]
    executors: list[DaskExecutor] = []
    result = _search(executors, cluster.address).run(dataset, SETTINGS)
    (executor,) = executors
    assert executor.slots == 2  # one per worker thread
    assert len(executor.evaluated_by) == 2, executor.evaluated_by  # both workers ran candidates
    assert result.estimator is not None
    assert result.elapsed_seconds <= SETTINGS.budget_seconds * 1.05
    local = _local(jobs=2).run(dataset, SETTINGS, jobs=2)
    assert local.best_score is not None and result.best_score is not None
    # the same candidates (random sampler, same seed): the same quality, within noise
    assert result.best_score >= local.best_score - 0.03
    overhead = sorted(executor.overheads)[len(executor.overheads) // 2]
    assert overhead < 2.0  # median client-side seconds beyond the worker's own (busy machine)


def test_cli_scheduler_flag(cluster, tmp_path: Path) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    data = tmp_path / "data.csv"
    X.iloc[:200, :8].assign(target=y.iloc[:200]).to_csv(data, index=False)
    command = [
        sys.executable,
        "-c",
        "from mile_meta.cli import main; main()",
        "search",
        str(data),
        "--target",
        "target",
    ]
    command += ["--budget", "30s", "--scheduler", cluster.address, "--no-prior", "--no-record"]
    command += ["--json", "--no-ensemble"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"best"' in done.stdout or '"leaderboard"' in done.stdout


def test_unreachable_scheduler_is_one_clear_error(dataset) -> None:  # type: ignore[no-untyped-def]
    from mile_meta.search import SearchError, autopilot_search

    with pytest.raises(SearchError, match="cannot reach the Dask scheduler"):
        autopilot_search(use_prior=False).run(
            dataset, SETTINGS, scheduler="tcp://127.0.0.1:9", max_evaluations=1
        )


@pytest.mark.slow
def test_a_killed_worker_loses_only_its_in_flight_candidate(
    tmp_path: Path, dataset, start_cluster
) -> None:  # type: ignore[no-untyped-def]
    cluster = start_cluster(tmp_path)
    try:
        executors: list[DaskExecutor] = []
        killed: list[int] = []

        def kill_one(update: SearchProgress) -> None:
            if not killed and update.evaluations >= 2:
                process = cluster.workers["worker-1"]
                process.send_signal(signal.SIGKILL)
                killed.append(update.evaluations)

        settings = SearchSettings(budget_seconds=45, use_prior=False, record=False)
        result = _search(executors, cluster.address).run(dataset, settings, progress=kill_one)
        assert killed, "the search ended before a worker could be killed"
        assert result.estimator is not None
        lost = [e for e in result.evaluations if e.status in ("crashed", "failed")]
        assert len(lost) <= 1  # the killed worker had one thread: one candidate in flight
        statuses = [(e.number, e.status) for e in result.evaluations]
        after = [e for e in result.evaluations if e.number > killed[0] and e.status != "crashed"]
        assert after, f"the surviving worker went on evaluating: {statuses}"
        assert result.best is not None and result.best.status == "ok"
    finally:
        cluster.stop()
