"""How the search scales: evaluations and best score in a fixed budget with 1, 2, N workers.

    python scripts/benchmark_scaling.py --dataset phoneme --budget 40 --dask-workers 4

Runs the autopilot (no prior, nothing recorded, the same seed) on a real benchmark dataset
from ``/work/shared/benchmarks`` with ``jobs=1``, ``jobs=2`` (local worker processes) and on a
local Dask cluster of ``--dask-workers`` one-thread worker processes (what a cluster of
single-core machines looks like), and measures per run: evaluations completed, best
cross-validated score, wall time, and for Dask the per-candidate overhead (client wall time of
a task minus the worker's own) and the client's CPU seconds per candidate. From those measured
costs it projects evaluations in the same budget for 8, 32 and 128 workers:
``rate(W) = min(W / (t + o), 1 / c)`` with ``t`` the mean candidate time of the one-worker run,
``o`` the Dask overhead and ``c`` the client's CPU per candidate (the serial part). The machine
load (``uptime``) is printed with the table: on a shared machine the figures are distorted.

The Dask scheduler and workers run as processes of their own (``dask scheduler``, ``dask
worker --nthreads 1 --no-nanny``), as on a real cluster: a ``LocalCluster`` would run the
scheduler and the nannies inside the measured client process and bill their CPU to it. Besides
the search, the Dask executor alone is timed (``--overhead-tasks`` cheap candidates sent through
``DaskExecutor.run_all``): its client CPU and latency per task, without the search's own
per-candidate work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _dataset(name: str):  # type: ignore[no-untyped-def]
    import benchmark_datasets
    from benchmark_datasets import load_benchmark

    from mile_meta.data import dataset_from_frame

    if not benchmark_datasets.SHARED.exists():  # a git worktree: the shared folder
        benchmark_datasets.SHARED = Path(
            os.environ.get("MILE_META_BENCHMARKS", "/work/shared/benchmarks")
        )
    data = load_benchmark(name)
    return dataset_from_frame(data.frame, data.target, task_type=data.task, name=name)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_WORKER_OPTIONS = ("--nthreads", "1", "--no-nanny", "--memory-limit", "0")


class _Cluster:
    """A ``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, workers: int) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
        )
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        python = [sys.executable, "-m"]
        scheduler = ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
        self.processes = [
            subprocess.Popen(
                [*python, *scheduler, "--dashboard-address", ":0"],
                **quiet,
            )
        ]
        for index in range(workers):
            self.processes.append(
                subprocess.Popen(
                    [
                        *python,
                        "distributed.cli.dask_worker",
                        self.address,
                        *_WORKER_OPTIONS,
                        "--name",
                        f"worker-{index}",
                    ],
                    **quiet,
                )
            )
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(self.address, timeout="5s") as client:
                    client.wait_for_workers(workers, timeout=120)
                    from mile_meta.search._dask import _prepare_worker

                    client.run(_prepare_worker)  # a running cluster has its libraries imported
                return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _executor_overhead(dataset, client, tasks: int) -> dict:  # type: ignore[no-untyped-def]
    """Client CPU and latency per task of the Dask executor alone: ``tasks`` cheap candidates
    (Gaussian naive Bayes, 3 folds on 1,000 rows, out-of-fold predictions kept: the shape of
    an early successive-halving stage), ``slots`` at a time."""
    import numpy as np

    from mile_meta.metrics import default_metric
    from mile_meta.pipelines import make_spec
    from mile_meta.search._dask import DaskExecutor
    from mile_meta.search._worker import EvaluateTask

    metric = default_metric(dataset.task_type).name
    rows = np.sort(np.random.default_rng(0).choice(len(dataset.frame), 1000, replace=False))
    work = [
        EvaluateTask(make_spec("GaussianNB"), metric, 3, seed, rows, keep_predictions=True)
        for seed in range(tasks)
    ]
    with DaskExecutor(dataset, scheduler=client) as executor:
        executor.run_all(work[:4], timeout_seconds=60)  # the workers' runners started
        done = len(executor.overheads)
        cpu, started = _cpu(), time.perf_counter()
        replies = executor.run_all(work, timeout_seconds=60)
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
        overheads = executor.overheads[done:]
        return {
            "tasks": tasks,
            "ok": sum(reply.status == "ok" for reply in replies),
            "client_cpu_per_task_ms": round(1000 * cpu / tasks, 2),
            "latency_overhead_median_ms": round(1000 * statistics.median(overheads), 1),
            "wall_per_task_ms": round(1000 * wall / tasks, 1),
            "worker_seconds_per_task_ms": round(
                1000 * statistics.fmean(reply.seconds for reply in replies), 1
            ),
            "evaluated_by_workers": len(executor.evaluated_by),
        }


def _run(dataset, budget: float, seed: int, jobs: int = 1, client=None) -> dict:  # type: ignore[no-untyped-def]
    from mile_meta.search import SearchSettings, autopilot_search
    from mile_meta.search._dask import DaskExecutor

    search = autopilot_search(use_prior=False)
    executors: list[DaskExecutor] = []
    if client is not None:

        def on_cluster(data, worker):  # type: ignore[no-untyped-def]
            executor = DaskExecutor(data, worker, scheduler=client)
            executors.append(executor)
            return executor

        search.executor, search._custom_executor = on_cluster, True
    settings = SearchSettings(
        budget_seconds=budget, seed=seed, use_prior=False, record=False, jobs=jobs
    )
    cpu, started = _cpu(), time.perf_counter()
    result = search.run(dataset, settings)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    completed = [e for e in result.evaluations if e.status == "ok"]
    row = {
        "workers": jobs if client is None else len(client.nthreads()),
        "executor": "local processes"
        if client is None
        else "Dask (scheduler and 1-thread workers: own processes)",
        "evaluations": len(completed),
        "tasks": len(result.evaluations),
        "best_cv_score": result.best_score,
        "wall_seconds": round(wall, 2),
        "client_cpu_per_task": round(cpu / max(len(result.evaluations), 1), 4),
        "mean_task_seconds": round(
            statistics.fmean(e.finished_seconds - e.started_seconds for e in result.evaluations),
            3,
        )
        if result.evaluations
        else None,
    }
    if executors:
        overheads = executors[0].overheads
        row["dask_overhead_median_s"] = (
            round(statistics.median(overheads), 4) if overheads else None
        )
        row["dask_setup_seconds"] = round(executors[0].scatter_seconds, 2)
        row["evaluated_by_workers"] = len(executors[0].evaluated_by)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="phoneme")
    parser.add_argument("--budget", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dask-workers", type=int, default=4)
    parser.add_argument("--overhead-tasks", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("/tmp/benchmark-scaling.json"))
    parser.add_argument(
        "--dask-only",
        action="store_true",
        help="only the Dask run (to measure the per-candidate overhead; the projection then "
        "takes t from the Dask run's own mean task time)",
    )
    args = parser.parse_args()
    dataset = _dataset(args.dataset)
    load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rows = [] if args.dask_only else [_run(dataset, args.budget, args.seed, j) for j in (1, 2)]
    from distributed import Client

    cluster = _Cluster(args.dask_workers)
    try:
        with Client(cluster.address, set_as_default=False) as client:
            executor_alone = _executor_overhead(dataset, client, args.overhead_tasks)
            rows.append(_run(dataset, args.budget, args.seed, client=client))
    finally:
        cluster.stop()
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    one = rows[0]
    dask = rows[-1]
    t = one["mean_task_seconds"] or 1.0
    o = dask.get("dask_overhead_median_s") or 0.0
    c = max(dask["client_cpu_per_task"], 1e-3)
    projection = {
        workers: round(min(workers / (t + o), 1 / c) * args.budget, 1) for workers in (8, 32, 128)
    }
    report = {
        "dataset": args.dataset,
        "n_rows": len(dataset.frame),
        "budget_seconds": args.budget,
        "cpu_count": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "runs": rows,
        "dask_executor_alone": executor_alone,
        "speedup_2_vs_1_evaluations": None
        if args.dask_only
        else round(rows[1]["evaluations"] / max(one["evaluations"], 1), 2),
        "projection_tasks_in_budget": projection,
        "projection_inputs": {"t_task_s": t, "o_dask_s": o, "c_client_cpu_s": c},
    }
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
