"""Benchmark: mile-meta autopilot against random search, Optuna TPE, FLAML and AutoGluon.

Every method gets the same wall-clock budget (10, 30, 60 s by default) and one core
(each job runs in its own process pinned to one CPU), on the same outer 75/25 split of each
dataset (one split per seed); the score is the hold-out test score of the model the method
returns (balanced accuracy for classification, RMSE for regression). Datasets come from
``../shared/benchmarks/datasets.csv``; each is evaluated with its own OpenML id (if any)
excluded from the knowledge base.

    python scripts/benchmark_search.py run --jobs 2            # the grid, resumable
    python scripts/benchmark_search.py run --scheduler tcp://10.0.0.5:8786  # on a Dask cluster
    python scripts/benchmark_search.py report                  # tables from what has finished
    python scripts/benchmark_search.py export docs/results/benchmark-search.jsonl
    python scripts/benchmark_search.py restore docs/results/benchmark-search.jsonl  # resume

FLAML and AutoGluon (``ag_medium`` = ``presets="medium_quality"``, ``ag_best`` =
``"best_quality"``) run in their own virtual environment (``--peer-python``, default
``/work/venv-ag/bin/python``): the parent writes each outer split once as numpy arrays (the two
environments need not share a pandas version) and the peer job reads it, so every method sees
the same rows. Every job's wall time is measured from process start to exit (``wall_seconds``);
the mile-meta jobs count their budget from their process's start, as the CLI does.

On a Dask cluster (``run --scheduler tcp://HOST:PORT``) each job is one task: the client sends
each outer split once (scatter), a worker writes it under its ``--root`` if that folder is not
shared, runs the job in a process of its own (as locally, the budget counts from that
process's start; no core pinning: one job per worker thread, so start the workers with
``--nthreads 1`` for one core per job) and returns the job's record, which the client writes.
A job that fails or overruns (``3 × budget + 120 s``), or whose worker is lost, is recorded as
failed with the reason, not lost. The workers need this checkout at the same path (the job runs
this script) and, for the autopilot methods, the knowledge base at ``--kb``.

Each finished job is one JSON file in ``--results`` (default /tmp/benchmark-search/jobs), so a
partial run still gives a table and a restarted run skips what is done. ``report`` writes the
CSV of all jobs and prints the markdown tables for docs/benchmarks-search.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DEFAULT_DATASETS = [
    # binary
    "credit-g",
    "phoneme",
    "spambase",
    "pc1",
    "ada",
    "titanic",
    "hmda-boston",
    "oj-purchase",
    # multiclass
    "cmc",
    "segment",
    "satimage",
    "splice",
    "anes96-party-id",
    "kershaw-pitch-type",
    # regression
    "boston",
    "abalone",
    "concrete",
    "saratoga-houses",
    "body-dims-weight",
    "gpa2-college-gpa",
    "ames-housing",
]
METHODS = ["autopilot", "autopilot_single", "tpe", "random", "flaml", "ag_medium", "ag_best"]
# methods that run in the peer environment (they never import mile_meta)
PEER_METHODS = {"flaml", "ag_medium", "ag_best"}
# methods that read the knowledge base (--kb is built for them when missing)
KB_METHODS = {"autopilot", "autopilot_single"}
DEFAULT_ROOT = Path("/tmp/benchmark-search")
DEFAULT_PEER_PYTHON = "/work/venv-ag/bin/python"


# -- one job ---------------------------------------------------------------------------------
def _frame_cache(name: str, root: Path) -> tuple[pd.DataFrame, str, str, int | None]:
    """The benchmark frame, cached as pickle (the loaders are slow to import)."""
    import benchmark_datasets
    from benchmark_datasets import load_benchmark

    if not benchmark_datasets.SHARED.exists():  # a git worktree: the shared folder is /work/shared
        benchmark_datasets.SHARED = Path(
            os.environ.get("MILE_META_BENCHMARKS", "/work/shared/benchmarks")
        )
    path = root / "data" / f"{name}.pkl"
    if path.exists():
        stored = pd.read_pickle(path)
        return stored["frame"], stored["target"], stored["task"], stored["openml_id"]
    data = load_benchmark(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "frame": data.frame,
        "target": data.target,
        "task": data.task,
        "openml_id": data.openml_id,
    }
    pd.to_pickle(payload, path)
    return data.frame, data.target, data.task, data.openml_id


def _split(frame: pd.DataFrame, target: str, task: str, seed: int):
    from sklearn.model_selection import train_test_split

    from mile_meta.data import dataset_from_frame

    dataset = dataset_from_frame(frame, target, task_type=task)
    X, y = dataset.frame, dataset.target
    stratify = None if task == "regression" else y
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=stratify
    )
    return (
        X_train.reset_index(drop=True),
        X_test.reset_index(drop=True),
        y_train.reset_index(drop=True),
        y_test.reset_index(drop=True),
    )


def _split_path(root: Path, dataset: str, seed: int) -> Path:
    return root / "splits" / f"{dataset}__{seed}.pkl"


def _frame_to_arrays(frame: pd.DataFrame) -> dict:
    """Columns as plain numpy arrays (object for text and categories): pickles of these load in
    any pandas version, where a pickled DataFrame does not."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
            column
        ):
            columns[name] = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
        else:
            columns[name] = column.to_numpy(dtype=float)
    return columns


def _arrays_to_frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({name: values for name, values in columns.items()})


def write_split(root: Path, dataset: str, seed: int) -> None:
    """The outer split of (dataset, seed), once, for every method (not timed)."""
    path = _split_path(root, dataset, seed)
    if path.exists():
        return
    frame, target, task, openml_id = _frame_cache(dataset, root)
    X_train, X_test, y_train, y_test = _split(frame, target, task, seed)
    payload = {
        "target": target,
        "task": task,
        "openml_id": openml_id,
        "X_train": _frame_to_arrays(X_train),
        "X_test": _frame_to_arrays(X_test),
        "y_train": y_train.to_numpy(dtype=float if task == "regression" else object),
        "y_test": y_test.to_numpy(dtype=float if task == "regression" else object),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(payload, handle)
    partial.replace(path)


def read_split(root: Path, dataset: str, seed: int):
    with _split_path(root, dataset, seed).open("rb") as handle:
        payload = pickle.load(handle)
    X_train = _arrays_to_frame(payload["X_train"])
    X_test = _arrays_to_frame(payload["X_test"])
    # object arrays of numbers become numbers again (scikit-learn's target-type check)
    y_train = pd.Series(payload["y_train"], name=payload["target"]).infer_objects()
    y_test = pd.Series(payload["y_test"], name=payload["target"]).infer_objects()
    return payload, X_train, X_test, y_train, y_test


def hold_out_score(task: str, y_test, predicted) -> float:
    """Balanced accuracy (classification) or R² (regression) on the outer test part."""
    from sklearn.metrics import balanced_accuracy_score, r2_score

    if task == "regression":
        return float(r2_score(np.asarray(y_test, dtype=float), np.asarray(predicted, dtype=float)))
    return float(
        balanced_accuracy_score(np.asarray(y_test).astype(str), np.asarray(predicted).astype(str))
    )


def _process_seconds() -> float:
    """Seconds since this process started (Linux /proc; 0 elsewhere)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as handle:
            started = int(handle.read().rsplit(")", 1)[1].split()[19]) / ticks
        with open("/proc/uptime") as handle:
            return float(handle.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return 0.0


def _test_score(metric, model, X_test, y_test) -> float:
    from mile_meta.evaluate import score_predictions

    return score_predictions(metric, model, X_test, y_test)


def _flaml(X_train, y_train, task, budget, seed):
    from flaml import AutoML
    from sklearn.metrics import balanced_accuracy_score

    def balanced_error(X_val, y_val, estimator, labels, X_train, y_train, *args, **kwargs):
        error = 1 - balanced_accuracy_score(y_val, estimator.predict(X_val))
        return error, {"balanced_accuracy": 1 - error}

    automl = AutoML()
    automl.fit(
        X_train,
        y_train,
        task="regression" if task == "regression" else "classification",
        metric="r2" if task == "regression" else balanced_error,
        time_budget=budget,
        n_jobs=1,
        seed=seed,
        verbose=0,
    )
    return automl, {
        "best_estimator": automl.best_estimator,
        "evaluations": len(automl.config_history),
    }


def _autogluon(X_train, y_train, task, budget, seed, presets, folder):
    from autogluon.tabular import TabularPredictor

    train = X_train.copy()
    label = "__target__"
    train[label] = y_train.to_numpy()
    predictor = TabularPredictor(
        label=label,
        problem_type="regression" if task == "regression" else task,
        eval_metric="r2" if task == "regression" else "balanced_accuracy",
        path=str(folder),
        verbosity=0,
    )
    predictor.fit(train, time_limit=budget, presets=presets, num_cpus=1, num_gpus=0)
    board = predictor.leaderboard(silent=True)
    return predictor, {
        "best_estimator": predictor.model_best,
        "evaluations": len(board),
    }


def run_peer_job(job: dict, root: Path) -> dict:
    """One FLAML or AutoGluon job (runs in the peer environment, without mile_meta)."""
    import shutil
    import tempfile

    payload, X_train, X_test, y_train, y_test = read_split(root, job["dataset"], job["seed"])
    task = payload["task"]
    if task != "regression":
        y_train = y_train.astype(str)
    budget, seed, method = job["budget"], job["seed"], job["method"]
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="ag-", dir=root))
    try:
        if method == "flaml":
            model, extra = _flaml(X_train, y_train, task, budget, seed)
        else:
            presets = "best_quality" if method == "ag_best" else "medium_quality"
            model, extra = _autogluon(X_train, y_train, task, budget, seed, presets, folder)
        elapsed = time.perf_counter() - started
        predicted = model.predict(X_test)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        **{k: v for k, v in job.items() if k != "kb"},
        "task": task,
        "metric": "r2" if task == "regression" else "balanced_accuracy",
        "higher_is_better": True,
        "test_score": hold_out_score(task, y_test, predicted),
        "elapsed_seconds": elapsed,
        "process_seconds": _process_seconds(),
        "n_train": len(X_train),
        "load_average": os.getloadavg()[0],
        **extra,
    }


def run_job(job: dict, root: Path) -> dict:
    """Run one (dataset, method, budget, seed) and return its record."""
    from mile_meta.data import dataset_from_frame
    from mile_meta.metrics import default_metric

    payload, X_train, X_test, y_train, y_test = read_split(root, job["dataset"], job["seed"])
    target, task, openml_id = payload["target"], payload["task"], payload["openml_id"]
    metric = default_metric(task)
    train = X_train.copy()
    train[target] = y_train
    budget, seed, method = job["budget"], job["seed"], job["method"]
    extra: dict = {}
    # --clock process: the budget is the user's wall clock, what this process spent before
    # now (start-up, imports, reading the data) counts; --clock call: it counts from the call,
    # as FLAML's time_budget and AutoGluon's time_limit do
    started = time.perf_counter() - _process_seconds()
    clock_start = started if job.get("clock", "process") == "process" else None
    if True:
        from mile_meta.search import autopilot, cold_search

        dataset = dataset_from_frame(train, target, task_type=task, name=job["dataset"])
        if method in ("autopilot", "autopilot_single"):
            # autopilot_single: the final model is one pipeline with the default decision
            # (the behaviour before ensembles and tuned decisions: the A/B of those)
            single = method == "autopilot_single"
            result = autopilot(
                dataset,
                budget=budget,
                kb=job["kb"],
                seed=seed,
                record=False,
                exclude_datasets=[openml_id] if openml_id else [],
                ensemble=not single,
                tune_decisions=not single,
                clock_start=clock_start,
            )
        else:
            result = cold_search(
                dataset, sampler=method, budget=budget, seed=seed, clock_start=clock_start
            )
        elapsed = time.perf_counter() - started
        model = result.estimator
        extra = {
            "evaluations": len(result.evaluations),
            "failures": sum(e.status not in ("ok", "stopped") for e in result.evaluations),
            "search_seconds": result.elapsed_seconds,
            "best": result.best.candidate.spec.describe() if result.best else None,
            "best_origin": result.best.candidate.origin if result.best else None,
            "cv_score": result.best_score,
            "ensemble_members": len(result.ensemble.members) if result.ensemble else 1,
            "decision": result.ensemble.decision if result.ensemble else None,
            "oof_score": result.ensemble.score if result.ensemble else None,
            "refit_rows": result.refit_rows,
            "prior_seconds": result.prior_seconds,
            "cuts": len(result.cuts),
        }
        if job.get("trajectory"):
            extra["trajectory"] = _trajectory(
                result, X_train, y_train, X_test, y_test, metric, seed
            )
    score = None
    if model is not None:
        predicted = model.predict(X_test)
        if task != "regression":
            predicted = np.asarray(predicted)
        score = hold_out_score(task, y_test, predicted)
    return {
        **{k: v for k, v in job.items() if k != "kb"},
        "task": task,
        "metric": "r2" if task == "regression" else "balanced_accuracy",
        "higher_is_better": True,
        "test_score": score,
        "elapsed_seconds": elapsed,
        "process_seconds": _process_seconds(),
        "n_train": len(X_train),
        "load_average": os.getloadavg()[0],
        **extra,
    }


def _trajectory(result, X_train, y_train, X_test, y_test, metric, seed) -> list[dict]:
    """Test score of every incumbent, refitted on the outer training part (not timed
    against the budget): the time at which it was found plus its refit time."""
    from mile_meta.pipelines import build_pipeline

    by_number = {e.number: e for e in result.evaluations}
    points = []
    for seconds, _, number in result.history:
        spec = by_number[number].candidate.spec
        started = time.perf_counter()
        model = build_pipeline(spec, random_state=seed).fit(X_train, y_train)
        refit = time.perf_counter() - started
        points.append(
            {
                "found_seconds": seconds,
                "refit_seconds": refit,
                "test_score": hold_out_score(result.task_type, y_test, model.predict(X_test)),
            }
        )
    return points


# -- the grid --------------------------------------------------------------------------------
def _job_name(job: dict) -> str:
    return f"{job['dataset']}__{job['method']}__{job['budget']}__{job['seed']}.json"


def _grid(datasets, methods, budgets, seeds, kb) -> list[dict]:
    # seed-major, so a partial run holds complete (dataset, method, budget) cells for seed 0
    jobs = []
    for seed in seeds:
        for dataset in datasets:
            for budget in budgets:
                for method in methods:
                    jobs.append(
                        {
                            "dataset": dataset,
                            "method": method,
                            "budget": budget,
                            "seed": seed,
                            "kb": kb,
                            "trajectory": False,
                        }
                    )
    return jobs


def command_run(args: argparse.Namespace) -> None:
    root = Path(args.root)
    jobs_dir = root / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    if not Path(args.kb).exists() and set(args.methods) & KB_METHODS:
        from mile_meta.kb import build_knowledge_base

        build_knowledge_base(args.kb, args.sources.split(","))
    for name in args.datasets:  # cache every frame and split once, before the timed jobs
        _frame_cache(name, root)
        for seed in args.seeds:
            write_split(root, name, seed)
    jobs = _grid(args.datasets, args.methods, args.budgets, args.seeds, args.kb)
    for job in jobs:
        job["clock"] = args.clock
    if args.max_budget_jobs:  # the longest budget only on the first few datasets
        longest = max(args.budgets)
        allowed = set(args.datasets[: args.max_budget_jobs])
        jobs = [j for j in jobs if j["budget"] != longest or j["dataset"] in allowed]
    if args.only_longest:  # methods that run at the longest budget only (ag_best)
        longest = max(args.budgets)
        jobs = [j for j in jobs if j["method"] not in args.only_longest or j["budget"] == longest]
    if args.not_longest:  # methods left out of the longest budget
        longest = max(args.budgets)
        jobs = [j for j in jobs if j["method"] not in args.not_longest or j["budget"] != longest]
    pending = [job for job in jobs if not (jobs_dir / _job_name(job)).exists()]
    if args.scheduler:
        run_on_dask(pending, root, args.scheduler, args.peer_python)
        return
    print(f"{len(jobs)} jobs, {len(pending)} to run on {args.jobs} cores", flush=True)
    cores = sorted(os.sched_getaffinity(0))[: args.jobs]
    running: dict[int, tuple[subprocess.Popen, dict]] = {}
    while pending or running:
        for core in cores:
            if core in running or not pending:
                continue
            job = pending.pop(0)
            python = args.peer_python if job["method"] in PEER_METHODS else sys.executable
            command = [python, __file__, "one", json.dumps(job), "--root", str(root)]
            job["_started"] = time.perf_counter()
            process = subprocess.Popen(
                command,
                preexec_fn=lambda core=core: os.sched_setaffinity(0, {core}),
                stdout=subprocess.DEVNULL,
                stderr=open(root / "errors.log", "a"),
            )
            running[core] = (process, job)
        time.sleep(0.5)
        for core, (process, job) in list(running.items()):
            wall = time.perf_counter() - job["_started"]
            if process.poll() is None and wall > 3 * job["budget"] + 120:
                process.kill()  # a runaway job: recorded as failed (no job file)
                process.wait()
            if process.poll() is not None:
                del running[core]
                path = jobs_dir / _job_name(job)
                if path.exists():  # the wall time the user would see: process start to exit
                    record = json.loads(path.read_text())
                    record["wall_seconds"] = wall
                    path.write_text(json.dumps(record, default=str))
                else:  # a failed run (crashed, or killed as a runaway): no model, ranked last
                    reason = f"exit code {process.returncode} after {wall:.0f} s"
                    record = _failed_record(job, wall, reason)
                    path.write_text(json.dumps(record, default=str))
                status = (
                    "ok"
                    if (jobs_dir / _job_name(job)).exists()
                    else f"FAILED ({process.returncode})"
                )
                print(f"{time.strftime('%H:%M:%S')} {_job_name(job)} {status}", flush=True)


def _failed_record(job: dict, wall: float, reason: str) -> dict:
    """A job that produced no model (crashed, killed as a runaway, its worker lost): ranked last."""
    return {
        **{k: v for k, v in job.items() if k not in ("kb", "_started")},
        "test_score": None,
        "higher_is_better": True,
        "elapsed_seconds": wall,
        "wall_seconds": wall,
        "load_average": os.getloadavg()[0],
        "failed": reason,
    }


def run_job_on_worker(job: dict, root: str, split: bytes, script: str, peer_python: str) -> dict:
    """One job as a Dask task: the split written under ``root`` unless it is there (a shared
    folder), the job run by ``script one`` in a process of its own, its record returned."""
    folder = Path(root)
    path = folder / "splits" / f"{job['dataset']}__{job['seed']}.pkl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(split)
        partial.replace(path)
    python = peer_python if job["method"] in PEER_METHODS else sys.executable
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [python, script, "one", json.dumps(job), "--root", root],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=3 * job["budget"] + 120,
        )
    except subprocess.TimeoutExpired:
        wall = time.perf_counter() - started
        return _failed_record(job, wall, f"killed as a runaway after {wall:.0f} s")
    wall = time.perf_counter() - started
    record_path = folder / "jobs" / _job_name(job)
    if done.returncode != 0 or not record_path.exists():
        last = (done.stderr or "").strip().splitlines()[-1:] or [""]
        return _failed_record(job, wall, f"exit code {done.returncode}: {last[0][:200]}")
    record = json.loads(record_path.read_text())
    record["wall_seconds"] = wall  # process start to exit, as the local grid measures it
    return record


def run_on_dask(pending: list[dict], root: Path, scheduler: str, peer_python: str) -> None:
    """The grid on the Dask cluster at ``scheduler``: one task per job, each split sent once,
    every record (a failure included) written here as its task ends."""
    from distributed import Client, as_completed

    jobs_dir = root / "jobs"
    with Client(scheduler, timeout="10s", set_as_default=False) as client:
        workers = len(client.nthreads())
        print(f"{len(pending)} jobs to run on the Dask cluster at {scheduler} "
              f"({workers} workers, {sum(client.nthreads().values())} threads)", flush=True)  # fmt: skip
        splits = {}
        for job in pending:
            key = (job["dataset"], job["seed"])
            if key not in splits:
                data = _split_path(root, *key).read_bytes()
                splits[key] = client.scatter(data, hash=False)
        futures = {
            client.submit(
                run_job_on_worker,
                job,
                str(root),
                splits[(job["dataset"], job["seed"])],
                str(Path(__file__).resolve()),
                peer_python,
                pure=False,
                key=f"benchmark-{_job_name(job)}-{time.monotonic_ns()}",
            ): job
            for job in pending
        }
        for future in as_completed(futures, loop=client.loop):
            job = futures[future]
            try:
                record = future.result()
            except Exception as error:  # the task itself failed: its worker lost, a bug
                reason = f"the Dask task failed ({type(error).__name__}: {str(error)[:160]})"
                record = _failed_record(job, float("nan"), reason)
            path = jobs_dir / _job_name(job)
            path.write_text(json.dumps(record, default=str))
            status = f"FAILED ({record['failed']})" if record.get("failed") else "ok"
            print(f"{time.strftime('%H:%M:%S')} {_job_name(job)} {status}", flush=True)


def command_one(args: argparse.Namespace) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    job = json.loads(args.job)
    root = Path(args.root)
    if job["method"] in PEER_METHODS:
        record = run_peer_job(job, root)
    else:
        record = run_job(job, root)
    path = root / "jobs" / _job_name(job)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record, default=str))
    partial.replace(path)


# -- the tables ------------------------------------------------------------------------------
def load_results(root: Path) -> pd.DataFrame:
    records = [json.loads(p.read_text()) for p in sorted((root / "jobs").glob("*.json"))]
    return pd.DataFrame(records)


def _ranks(frame: pd.DataFrame) -> pd.Series:
    """Rank of each run among the methods of its (dataset, seed, budget) cell; 1 = best; a run
    without a model ranks last."""
    signed = frame["test_score"].astype(float) * np.where(frame["higher_is_better"], 1, -1)
    return signed.groupby([frame["dataset"], frame["seed"], frame["budget"]]).rank(
        ascending=False, method="average", na_option="bottom"
    )


def _paired(frame: pd.DataFrame, ours: str, other: str, budget: int) -> dict | None:
    """Wins, ties and losses of ``ours`` against ``other`` over (dataset, seed) pairs at
    ``budget``, the mean difference and the Wilcoxon signed-rank p-value."""
    from scipy.stats import wilcoxon

    cell = frame[frame["budget"] == budget]
    a = cell[cell["method"] == ours].set_index(["dataset", "seed"])["test_score"]
    b = cell[cell["method"] == other].set_index(["dataset", "seed"])["test_score"]
    joined = pd.concat([a.rename("ours"), b.rename("other")], axis=1, join="inner")
    if joined.empty:
        return None
    joined = joined.fillna(-np.inf)  # no model: the worst score
    difference = joined["ours"] - joined["other"]
    wins, losses = int((difference > 1e-9).sum()), int((difference < -1e-9).sum())
    ties = len(difference) - wins - losses
    finite = difference[np.isfinite(difference)]
    nonzero = finite[finite.abs() > 1e-9]
    p_value = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 2 else float("nan")
    return {
        "against": other,
        "budget": budget,
        "pairs": len(difference),
        "wins": wins,
        "ties": ties,
        "losses": losses,
        "win rate": (wins + 0.5 * ties) / len(difference),
        "mean difference": float(finite.mean()) if len(finite) else float("nan"),
        "wilcoxon p": p_value,
    }


def command_report(args: argparse.Namespace) -> None:
    """Markdown tables for docs/benchmarks-search.md: per budget the methods that ran at it,
    mean score and rank, paired win rates of the autopilot, budgets kept, per-dataset scores."""
    root = Path(args.root)
    frame = load_results(root)
    if frame.empty:
        print("no finished jobs yet")
        return
    frame.drop(columns=["trajectory"], errors="ignore").to_csv(root / "results.csv", index=False)
    frame["test_score"] = frame["test_score"].astype(float)
    missing = frame[frame["test_score"].isna()]
    print(
        f"{len(frame)} runs, {frame['dataset'].nunique()} datasets; runs without a model: "
        f"{len(missing)}\n"
    )
    for budget in sorted(frame["budget"].unique()):
        cell = frame[frame["budget"] == budget].copy()
        # only datasets where every method of this budget finished are compared
        methods = sorted(cell["method"].unique())
        complete = cell.groupby(["dataset", "seed"])["method"].transform("nunique")
        cell = cell[complete == len(methods)].copy()
        if cell.empty:
            continue
        cell["rank"] = _ranks(cell)
        summary = cell.groupby("method").agg(
            mean_score=("test_score", "mean"),  # over the runs that returned a model
            mean_rank=("rank", "mean"),
            runs=("test_score", "size"),
            no_model=("test_score", lambda scores: int(scores.isna().sum())),
        )
        print(f"### {budget} s — {cell['dataset'].nunique()} datasets\n")
        print(summary.sort_values("mean_rank").round(4).to_markdown())
        print()
        rows = [
            _paired(cell, "autopilot", other, budget) for other in methods if other != "autopilot"
        ]
        rows = [row for row in rows if row]
        if rows:
            print(pd.DataFrame(rows).round(4).to_markdown(index=False))
            print()
        per_dataset = cell.pivot_table(
            index="dataset", columns="method", values="test_score", aggfunc="mean"
        )
        print(per_dataset.round(4).to_markdown())
        print()
    print(
        "### Budget kept (seconds from process start to the returned model; wall = process "
        "start to exit, as the harness measured it)\n"
    )
    frame["over"] = frame["elapsed_seconds"] / frame["budget"] - 1
    if "wall_seconds" in frame:
        frame["wall_over"] = frame["wall_seconds"] / frame["budget"] - 1
    kept = frame.groupby(["method", "budget"]).agg(
        max_elapsed=("elapsed_seconds", "max"),
        max_over=("over", "max"),
        **(
            {"max_wall": ("wall_seconds", "max"), "max_wall_over": ("wall_over", "max")}
            if "wall_seconds" in frame
            else {}
        ),
    )
    print(kept.round(3).to_markdown())
    print()
    ours = frame[frame["method"] == "autopilot"]
    longest = ours[ours["budget"] == ours["budget"].max()]["dataset"].unique()
    rising = ours[ours["dataset"].isin(longest)].pivot_table(
        index="dataset", columns="budget", values="test_score", aggfunc="mean"
    )
    print("### The autopilot's score by budget (datasets run at every budget)\n")
    print(rising.round(4).to_markdown())
    print(f"\nmean: {rising.mean().round(4).to_dict()}\n")
    print(
        f"Load average during the runs: median {frame['load_average'].median():.1f}, "
        f"max {frame['load_average'].max():.1f}"
    )


def command_export(args: argparse.Namespace) -> None:
    """All finished jobs (with the autopilot trajectories) as one JSON-lines file, the raw
    data behind docs/benchmarks-search.md; ``restore`` turns it back into job files."""
    records = [p.read_text().strip() for p in sorted((Path(args.root) / "jobs").glob("*.json"))]
    Path(args.file).write_text("\n".join(records) + "\n")
    print(f"{len(records)} jobs written to {args.file}")


def command_restore(args: argparse.Namespace) -> None:
    jobs_dir = Path(args.root) / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    restored = 0
    for line in Path(args.file).read_text().splitlines():
        record = json.loads(line)
        path = jobs_dir / _job_name(record)
        if not path.exists():
            path.write_text(line)
            restored += 1
    print(f"{restored} jobs restored into {jobs_dir}; `run` skips them")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the grid (resumable)")
    run.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS)
    run.add_argument("--methods", nargs="+", default=METHODS)
    run.add_argument("--budgets", nargs="+", type=int, default=[10, 30, 60])
    run.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    run.add_argument("--jobs", type=int, default=2, help="parallel jobs, one core each")
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run the jobs on this Dask cluster, one task each (--jobs is then ignored)",
    )
    run.add_argument("--kb", default="/tmp/search-kb.sqlite")
    run.add_argument("--sources", default="oboe,lcdb", help="sources of a knowledge base to build")
    run.add_argument("--root", default=str(DEFAULT_ROOT))
    run.add_argument(
        "--clock",
        choices=["process", "call"],
        default="process",
        help="mile-meta budgets count from the process start (the CLI's promise) or the call",
    )
    run.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON, help="python of FLAML/AutoGluon")
    run.add_argument(
        "--max-budget-jobs", type=int, default=0, help="longest budget: first N datasets only"
    )
    run.add_argument(
        "--only-longest",
        nargs="*",
        default=["ag_best"],
        help="methods run at the longest budget only",
    )
    run.add_argument(
        "--not-longest", nargs="*", default=[], help="methods not run at the longest budget"
    )
    one = sub.add_parser("one", help="run one job (used by run)")
    one.add_argument("job")
    one.add_argument("--root", default=str(DEFAULT_ROOT))
    report = sub.add_parser("report", help="tables from the finished jobs")
    report.add_argument("--root", default=str(DEFAULT_ROOT))
    for name, text in (
        ("export", "write every finished job to one JSON-lines file"),
        ("restore", "turn an exported file back into job files (to resume or re-report)"),
    ):
        parser_ = sub.add_parser(name, help=text)
        parser_.add_argument("file")
        parser_.add_argument("--root", default=str(DEFAULT_ROOT))
    args = parser.parse_args()
    commands = {
        "run": command_run,
        "one": command_one,
        "report": command_report,
        "export": command_export,
        "restore": command_restore,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
