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
        "executor": "local processes" if client is None else "Dask (local, 1 thread each)",
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
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        from mile_meta.search._dask import _prepare_worker

        client.run(_prepare_worker)  # a running cluster has its libraries imported
        rows.append(_run(dataset, args.budget, args.seed, client=client))
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
