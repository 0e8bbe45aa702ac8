"""Warm-started vs cold Optuna TPE over mile-meta's search space.

    python scripts/benchmark_priors.py run --kb /tmp/priors-kb.sqlite --out /tmp/priors-bench.jsonl
    python scripts/benchmark_priors.py report --out /tmp/priors-bench.jsonl --markdown docs/benchmarks-priors.md

For each dataset of ``../shared/benchmarks/`` named below and each seed, two Optuna studies of
``--trials`` trials search the same space (``mile_meta.pipelines.space``, through the Optuna
exporter's define-by-run ``suggest``) with the same objective:

* **cold** — ``TPESampler(seed)`` (its 10 random start-up trials, then TPE);
* **warm** — the prior built by ``mile_meta.priors.build_prior`` with the dataset's OpenML id
  excluded from the knowledge base: its starting configurations are enqueued (best first),
  ``PriorSampler`` draws from the prior up to trial ``--prior-trials``, then TPE(seed).

The objective is the balanced accuracy on a fixed stratified hold-out third (the same split for
both arms and every seed; models are seeded with 0), so equal configurations score equally and
are evaluated once (cached). A trial that runs longer than ``--timeout`` seconds is stopped and
counted as failed for both arms alike. Results are appended to ``--out`` one JSON line per
(dataset, seed, arm) as they finish, so a stopped run keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_datasets import load_benchmark

DATASETS = [
    "credit-g",
    "breast-w",
    "tic-tac-toe",
    "cmc",
    "segment",
    "pc1",
    "swiss-labor",
    "oj-purchase",
    "medpar-died",
    "gunnels",
    "anes96-party-id",
    "titanic",
]
CHECKPOINTS = (10, 25, 50)


def _evaluate_in_child(connection, spec_json, frame, target, train, test, metric, threads):
    warnings.simplefilter("ignore")
    if threads:
        # the OpenMP runtime was initialised in the parent: limit it here, not via the env
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    from mile_meta.evaluate import score_predictions
    from mile_meta.metrics import resolve_metric
    from mile_meta.pipelines import PipelineSpec, build_pipeline

    try:
        pipeline = build_pipeline(PipelineSpec.from_json(spec_json), random_state=0)
        pipeline.fit(frame.iloc[train], target.iloc[train])
        score = score_predictions(
            resolve_metric(metric), pipeline, frame.iloc[test], target.iloc[test]
        )
        connection.send(("ok", float(score)))
    except Exception as error:  # a configuration that fails is a failed trial
        connection.send(("error", f"{type(error).__name__}: {error}"[:200]))


class HoldOutObjective:
    """Score a spec on the fixed hold-out split, in a child process with a time limit."""

    def __init__(self, frame, target, metric, timeout, threads=1):
        from sklearn.model_selection import train_test_split

        indices = np.arange(len(target))
        stratify = target if target.nunique() < len(target) / 5 else None
        self.train, self.test = train_test_split(
            indices, test_size=1 / 3, random_state=0, stratify=stratify
        )
        self.frame, self.target, self.metric, self.timeout = frame, target, metric, timeout
        self.threads = threads
        self.cache: dict[str, tuple[str, float | str, float]] = {}

    def __call__(self, spec) -> tuple[str, float | str, float]:
        key = spec.to_json()
        if key in self.cache:
            return self.cache[key]
        started = time.perf_counter()
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_evaluate_in_child,
            args=(
                sender,
                key,
                self.frame,
                self.target,
                self.train,
                self.test,
                self.metric,
                self.threads,
            ),
        )
        process.start()
        if receiver.poll(self.timeout):
            status, value = receiver.recv()
        else:
            status, value = "timeout", f"over {self.timeout:.0f} s"
        process.join(1)
        if process.is_alive():
            process.kill()
            process.join()
        outcome = (status, value, time.perf_counter() - started)
        self.cache[key] = outcome
        return outcome


def _run_arm(arm, exported, objective, seed, trials, prior_trials):
    from optuna.samplers import TPESampler

    if arm == "warm":
        sampler = exported.sampler(
            n_prior_trials=prior_trials, seed=seed, after=TPESampler(seed=seed)
        )
    else:
        sampler = TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    if arm == "warm":
        exported.enqueue(study)
    history = []
    for _ in range(trials):
        trial = study.ask()
        spec = exported.suggest(trial)
        status, value, seconds = objective(spec)
        if status == "ok":
            study.tell(trial, value)
            history.append(
                {"score": value, "seconds": seconds, "estimator": spec.estimator.component}
            )
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            history.append(
                {
                    "score": None,
                    "seconds": seconds,
                    "error": value,
                    "estimator": spec.estimator.component,
                }
            )
    return history


def run(args) -> None:
    from mile_meta.kb import KnowledgeBase
    from mile_meta.priors import build_prior, export

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    out = Path(args.out)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            done.add((row["dataset"], row["seed"], row["arm"]))
    names = args.datasets or DATASETS
    names = [n for i, n in enumerate(names) if i % args.shards == args.shard]
    with KnowledgeBase.open(args.kb, must_exist=True) as kb:
        for name in names:
            data = load_benchmark(name)
            frame = data.frame.drop(columns=[data.target]).reset_index(drop=True)
            target = data.frame[data.target].reset_index(drop=True)
            keep = target.notna()
            frame, target = frame[keep].reset_index(drop=True), target[keep].reset_index(drop=True)
            exclude = [data.openml_id] if data.openml_id else []
            started = time.perf_counter()
            prior = build_prior(
                data.frame[data.frame[data.target].notna()],
                data.target,
                kb=kb,
                metric="balanced_accuracy",
                top=10,
                exclude_datasets=exclude,
                name=name,
            )
            prior_seconds = time.perf_counter() - started
            exported = export(prior, "optuna")
            # HistGradientBoosting's OpenMP threads crawl on a loaded machine
            objective = HoldOutObjective(
                frame, target, "balanced_accuracy", args.timeout, threads=args.omp_threads
            )
            for seed in args.seed_list or range(args.seeds):
                for arm in ("cold", "warm"):
                    if (name, seed, arm) in done:
                        continue
                    arm_started = time.perf_counter()
                    history = _run_arm(
                        arm, exported, objective, seed, args.trials, args.prior_trials
                    )
                    row = {
                        "dataset": name,
                        "seed": seed,
                        "arm": arm,
                        "openml_id": data.openml_id,
                        "excluded": exclude,
                        "n_rows": len(target),
                        "trials": args.trials,
                        "prior_seconds": prior_seconds,
                        "seconds": time.perf_counter() - arm_started,
                        "history": history,
                        "starting": [s.estimator for s in prior.starting_configurations],
                    }
                    with out.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
                    best = max(
                        (h["score"] for h in history if h["score"] is not None), default=None
                    )
                    print(
                        f"{name} seed={seed} {arm}: best {best} in {row['seconds']:.0f} s",
                        flush=True,
                    )


def _best_after(history, n):
    scores = [h["score"] for h in history[:n] if h["score"] is not None]
    return max(scores) if scores else float("nan")


def _best_after_completed(history, n):
    """Best among the first ``n`` trials that completed (failed/timed-out ones skipped)."""
    scores = [h["score"] for h in history if h["score"] is not None][:n]
    return max(scores) if scores else float("nan")


def _table(rows, best, title):
    table: dict[tuple[str, str], list[list[float]]] = {}
    meta: dict[str, dict] = {}
    for row in rows:
        table.setdefault((row["dataset"], row["arm"]), []).append(
            [best(row["history"], n) for n in CHECKPOINTS]
        )
        meta[row["dataset"]] = row
    datasets = [
        d
        for d in dict.fromkeys(r["dataset"] for r in rows)
        if (d, "cold") in table and (d, "warm") in table
    ]
    lines = [f"**{title}**", ""]
    lines.append(
        "| dataset | OpenML id excluded | seeds | "
        + " | ".join(f"cold @{n} | warm @{n}" for n in CHECKPOINTS)
        + " |"
    )
    lines.append("|" + "---|" * (3 + 2 * len(CHECKPOINTS)))
    averages = {(arm, n): [] for arm in ("cold", "warm") for n in CHECKPOINTS}
    wins = {n: [0, 0, 0] for n in CHECKPOINTS}
    for dataset in datasets:
        cold = np.array(table[(dataset, "cold")])
        warm = np.array(table[(dataset, "warm")])
        seeds = min(len(cold), len(warm))
        cells = []
        for index, n in enumerate(CHECKPOINTS):
            c = float(np.nanmean(cold[:seeds, index]))
            w = float(np.nanmean(warm[:seeds, index]))
            averages[("cold", n)].append(c)
            averages[("warm", n)].append(w)
            wins[n][0 if w > c + 1e-9 else 1 if c > w + 1e-9 else 2] += 1
            mark = "**" if w > c + 1e-9 else ""
            cells.append(f"{c:.4f} | {mark}{w:.4f}{mark}")
        excluded = ", ".join(map(str, meta[dataset]["excluded"])) or "none known"
        lines.append(f"| {dataset} | {excluded} | {seeds} | " + " | ".join(cells) + " |")
    mean_cells = " | ".join(
        f"{statistics.mean(averages[('cold', n)]):.4f} | {statistics.mean(averages[('warm', n)]):.4f}"
        for n in CHECKPOINTS
    )
    lines.append(f"| **mean** | | | {mean_cells} |")
    lines.append("")
    for n in CHECKPOINTS:
        w, c, t = wins[n]
        lines.append(
            f"- after {n}: warm better on {w}, cold better on {c}, tied on {t} of {len(datasets)} datasets"
        )
    return lines


def _failures(rows):
    lines = ["", "**Failed (timed-out) trials**", ""]
    lines.append(
        "| dataset | cold failed / run | warm failed / run | of which HistGradientBoosting |"
    )
    lines.append("|---|---|---|---|")
    total = {"cold": [0, 0], "warm": [0, 0]}
    per: dict[str, dict[str, list[int]]] = {}
    hist = {}
    for row in rows:
        failed = sum(1 for h in row["history"] if h["score"] is None)
        entry = per.setdefault(row["dataset"], {"cold": [0, 0], "warm": [0, 0]})[row["arm"]]
        entry[0] += failed
        entry[1] += len(row["history"])
        total[row["arm"]][0] += failed
        total[row["arm"]][1] += len(row["history"])
        hist[row["dataset"]] = hist.get(row["dataset"], 0) + sum(
            1
            for h in row["history"]
            if h["score"] is None and h["estimator"].startswith("HistGradientBoosting")
        )
    for dataset, arms in per.items():
        lines.append(
            f"| {dataset} | {arms['cold'][0]} / {arms['cold'][1]} | "
            f"{arms['warm'][0]} / {arms['warm'][1]} | {hist[dataset]} |"
        )
    lines.append(
        f"| **all** | {total['cold'][0]} / {total['cold'][1]} | "
        f"{total['warm'][0]} / {total['warm'][1]} | {sum(hist.values())} |"
    )
    return lines


def report(args) -> None:
    rows, seen = [], set()
    for line in Path(args.out).read_text().splitlines():
        row = json.loads(line)
        key = (row["dataset"], row["seed"], row["arm"])
        if key not in seen:  # a resumed shard may have run an arm twice: keep the first
            seen.add(key)
            rows.append(row)
    lines = _table(rows, _best_after, "Best hold-out balanced accuracy after n trials (the budget)")
    lines += [
        "",
        *_table(
            rows,
            _best_after_completed,
            "Sensitivity: best after the first n trials that completed (timeouts skipped)",
        ),
    ]
    lines += _failures(rows)
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        path = Path(args.markdown)
        body = path.read_text() if path.exists() else ""
        start, end = "<!-- results:start -->", "<!-- results:end -->"
        if start in body and end in body:
            body = body.split(start)[0] + start + "\n" + text + "\n" + end + body.split(end)[1]
            path.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--kb", required=True)
    run_parser.add_argument("--out", required=True)
    run_parser.add_argument("--datasets", nargs="*")
    run_parser.add_argument("--seeds", type=int, default=3)
    run_parser.add_argument("--seed-list", type=int, nargs="*", help="run only these seeds")
    run_parser.add_argument("--trials", type=int, default=50)
    run_parser.add_argument("--prior-trials", type=int, default=20)
    run_parser.add_argument("--timeout", type=float, default=60.0)
    run_parser.add_argument(
        "--omp-threads", type=int, default=1, help="OpenMP threads per fit (0: library default)"
    )
    run_parser.add_argument("--shard", type=int, default=0)
    run_parser.add_argument("--shards", type=int, default=1)
    report_parser = sub.add_parser("report")
    report_parser.add_argument("--out", required=True)
    report_parser.add_argument("--markdown")
    args = parser.parse_args()
    run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    main()
