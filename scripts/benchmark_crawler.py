"""Benchmark the OpenML crawler's ingest path and a knowledge base of a million evaluations.

Evaluation pages are generated in OpenML's XML format (``evaluation/list`` documents of
10,000 evaluations), then pushed through the crawler's own path, network aside: the
transport's well-formedness check, the evaluation-list reader, the engine's page batch
(setups → pipelines, records) and ``write_page_batch`` in one transaction per page. Page
generation is not timed. Setups and flows come from openml's scikit-learn extension and are
translated the crawler's way the first time a page meets them.

    python scripts/benchmark_crawler.py                       # 1,000,000 evaluations
    python scripts/benchmark_crawler.py --evaluations 200000 --json

Prints a markdown table (and JSON with --json) of: openml's parser vs ours on one page,
ingest rate over the first pages and the last pages, kb.stats() and kb.best_pipelines()
latency on the full knowledge base, and its size on disk.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mile_meta.kb import KnowledgeBase
from mile_meta.sources.openml import (
    DatasetInfo,
    FlowNode,
    SetupInfo,
    SetupParameter,
    TaskInfo,
    parse_evaluation_list,
)
from mile_meta.sources.openml._engine import Engine, Known
from mile_meta.sources.openml._state import (
    crawl_connection_settings,
    start_scope,
    write_page_batch,
    write_task_batch,
)
from mile_meta.sources.openml._transport import _first_tag, _is_well_formed

OML = "http://openml.org/openml"
MEASURE = "predictive_accuracy"


# -- a synthetic OpenML ----------------------------------------------------------------------------
def make_flows() -> dict[int, FlowNode]:
    from openml.extensions.sklearn import SklearnExtension
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    models = {
        10: RandomForestClassifier(),
        20: ExtraTreesClassifier(),
        30: Pipeline([("imputer", SimpleImputer()), ("classifier", SVC())]),
        40: Pipeline([("imputer", SimpleImputer()), ("classifier", LogisticRegression())]),
    }
    flows = {}
    for flow_id, model in models.items():
        flow = SklearnExtension().model_to_flow(model)
        next_id = flow_id

        def number(node: Any) -> None:
            nonlocal next_id
            node.flow_id = next_id
            next_id += 1
            for child in node.components.values():
                number(child)

        number(flow)
        flows[flow_id] = FlowNode.from_openml(flow)
    return flows


def make_setups(flows: dict[int, FlowNode], count: int, rng: random.Random) -> dict[int, SetupInfo]:
    """``count`` setups spread over the flows, each with a few tuned hyperparameters."""
    tuned = {
        10: [
            ("n_estimators", lambda: str(rng.randrange(10, 1000))),
            ("min_samples_leaf", lambda: str(rng.randrange(1, 20))),
        ],
        20: [
            ("n_estimators", lambda: str(rng.randrange(10, 1000))),
            ("max_features", lambda: str(round(rng.uniform(0.1, 1), 3))),
        ],
        30: [
            ("C", lambda: repr(round(10 ** rng.uniform(-3, 3), 6))),
            ("gamma", lambda: repr(round(10 ** rng.uniform(-4, 1), 6))),
        ],
        40: [
            ("C", lambda: repr(round(10 ** rng.uniform(-3, 3), 6))),
            ("max_iter", lambda: str(rng.randrange(100, 1000))),
        ],
    }
    setups = {}
    flow_ids = sorted(flows)
    for setup_id in range(1, count + 1):
        flow = flows[flow_ids[setup_id % len(flow_ids)]]
        estimator = list(flow.walk())[-1]  # the classifier (last component, or the flow)
        parameters = tuple(
            SetupParameter(
                input_id=estimator.flow_id * 1000 + index,
                flow_id=estimator.flow_id,
                flow_name=estimator.name,
                full_name=f"{estimator.name}(1)_{name}",
                parameter_name=name,
                data_type="option",
                default_value=None,
                value=draw(),
            )
            for index, (name, draw) in enumerate(tuned[flow.flow_id])
        )
        setups[setup_id] = SetupInfo(setup_id, flow.flow_id, parameters)
    return setups


class MemoryFetcher:
    """The fetcher interface the engine uses, answered from memory instead of OpenML."""

    def __init__(
        self, flows: dict[int, FlowNode], setups: dict[int, SetupInfo], qualities: int = 100
    ) -> None:
        self._flows = flows
        self._setups = setups
        self._qualities = tuple((f"Quality{i:03d}", float(i)) for i in range(qualities))

    def task(self, task_id: int) -> TaskInfo:
        return TaskInfo(
            task_id,
            task_id,
            "Supervised Classification",
            "class",
            "10-fold crossvalidation",
            MEASURE,
            2,
        )

    def dataset(self, dataset_id: int) -> DatasetInfo:
        qualities = (
            ("NumberOfInstances", 1000.0 + dataset_id),
            ("NumberOfFeatures", 20.0),
            *self._qualities,
        )
        return DatasetInfo(dataset_id, f"dataset-{dataset_id}", qualities, True)

    def flow(self, flow_id: int) -> FlowNode:
        return self._flows[flow_id]

    def setups(self, setup_ids: Any) -> dict[int, SetupInfo]:
        return {i: self._setups[i] for i in setup_ids if i in self._setups}


def evaluation_page(
    task_id: int, first_run: int, size: int, setups: dict[int, SetupInfo], rng: random.Random
) -> bytes:
    """One ``evaluation/list`` answer in OpenML's format."""
    setup_ids = list(setups)
    parts = [f'<oml:evaluations xmlns:oml="{OML}">\n']
    for run_id in range(first_run, first_run + size):
        setup = setups[setup_ids[rng.randrange(len(setup_ids))]]
        parts.append(
            "  <oml:evaluation>\n"
            f"    <oml:run_id>{run_id}</oml:run_id>\n    <oml:uploader>1</oml:uploader>\n"
            f"    <oml:task_id>{task_id}</oml:task_id>\n    <oml:setup_id>{setup.setup_id}</oml:setup_id>\n"
            f"    <oml:flow_id>{setup.flow_id}</oml:flow_id>\n"
            f"    <oml:flow_name>sklearn.flow.number{setup.flow_id}(1)</oml:flow_name>\n"
            f"    <oml:data_id>{task_id}</oml:data_id>\n    <oml:data_name>dataset-{task_id}</oml:data_name>\n"
            f"    <oml:function>{MEASURE}</oml:function>\n"
            "    <oml:upload_time>2024-01-01 10:00:00</oml:upload_time>\n"
            f"    <oml:value>{rng.random():.6f}</oml:value>\n  </oml:evaluation>\n"
        )
    parts.append("</oml:evaluations>\n")
    return "".join(parts).encode()


# -- measurements ----------------------------------------------------------------------------------
def compare_parsers(page: bytes) -> dict[str, float]:
    """Evaluations per second: openml 0.15.1's reading (xmltodict → objects) vs ours."""
    import xmltodict
    from openml.evaluations import OpenMLEvaluation

    def openml_reading() -> int:
        parsed = xmltodict.parse(page, force_list=("oml:evaluation",))
        evaluations = {}
        for e in parsed["oml:evaluations"]["oml:evaluation"]:
            evaluations[int(e["oml:run_id"])] = OpenMLEvaluation(
                run_id=int(e["oml:run_id"]),
                task_id=int(e["oml:task_id"]),
                setup_id=int(e["oml:setup_id"]),
                flow_id=int(e["oml:flow_id"]),
                flow_name=e["oml:flow_name"],
                data_id=int(e["oml:data_id"]),
                data_name=e["oml:data_name"],
                function=e["oml:function"],
                upload_time=e["oml:upload_time"],
                uploader=int(e["oml:uploader"]),
                uploader_name="x",
                value=float(e["oml:value"]),
                values=None,
                array_data=None,
            )
        return len(evaluations)

    def ours() -> int:
        return len(parse_evaluation_list(page))

    rates = {}
    for name, reader in (("openml 0.15.1 (xmltodict)", openml_reading), ("mile-meta reader", ours)):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            count = reader()
            times.append(time.perf_counter() - started)
        rates[name] = count / min(times)
    return rates


def ingest(
    kb: KnowledgeBase,
    *,
    evaluations: int,
    tasks: int,
    page_size: int,
    setups: dict[int, SetupInfo],
    flows: dict[int, FlowNode],
    rng: random.Random,
    report_every: int,
) -> list[dict[str, float]]:
    """Push generated pages through the crawler's path; returns per-window timings."""
    engine = Engine(MemoryFetcher(flows, setups), Known(), page_size=page_size)
    with kb.transaction():
        start_scope(kb, "benchmark:1", [MEASURE], list(range(1, tasks + 1)), None)
    per_task = evaluations // tasks
    windows: list[dict[str, float]] = []

    def fresh() -> dict[str, float]:
        return dict.fromkeys(
            ("evaluations", "seconds", "cpu_seconds", "parse", "batch", "write"), 0.0
        )

    window = fresh()
    written = 0
    run_id = 1
    for task_id in range(1, tasks + 1):
        task_batch = engine._task_batch(task_id)
        assert task_batch is not None
        with kb.transaction():
            write_task_batch(kb, task_batch)
        engine.known.commit(task_batch)
        for offset in range(0, per_task, page_size):
            size = min(page_size, per_task - offset)
            body = evaluation_page(task_id, run_id, size, setups, rng)  # "the network": not timed
            run_id += size
            started, cpu = time.perf_counter(), time.process_time()
            if _first_tag(body) != "oml:evaluations" or not _is_well_formed(body):
                raise RuntimeError("generated page is not an evaluation list")
            rows = parse_evaluation_list(body, check_well_formed=False)  # checked just above
            parsed = time.perf_counter()
            batch = engine._page_batch(
                f"task/{task_id}", MEASURE, offset, page_size, rows, size < page_size
            )
            batched = time.perf_counter()
            with kb.transaction():
                write_page_batch(kb, batch, "benchmark:1")
            engine.known.commit(batch)
            done = time.perf_counter()
            window["parse"] += parsed - started
            window["batch"] += batched - parsed
            window["write"] += done - batched
            window["seconds"] += done - started
            window["cpu_seconds"] += time.process_time() - cpu
            window["evaluations"] += len(batch.evaluations)
            written += len(batch.evaluations)
            if window["evaluations"] >= report_every:
                window["kb_evaluations_after"] = written
                windows.append(window)
                print(
                    f"  {written:>9,} evaluations: {window['evaluations'] / window['seconds']:>9,.0f}/s"
                    f" (cpu {window['evaluations'] / window['cpu_seconds']:,.0f}/s)",
                    flush=True,
                )
                window = fresh()
    if window["evaluations"]:
        window["kb_evaluations_after"] = written
        windows.append(window)
    return windows


def query_latency(kb: KnowledgeBase, tasks: int, rng: random.Random) -> dict[str, float]:
    stats_times = []
    for _ in range(5):
        started = time.perf_counter()
        kb.stats()
        stats_times.append(time.perf_counter() - started)
    best_times = []
    for dataset in rng.sample(range(1, tasks + 1), min(10, tasks)):
        started = time.perf_counter()
        best = kb.best_pipelines(f"openml:{dataset}", MEASURE, limit=10)
        best_times.append(time.perf_counter() - started)
        assert best, dataset
    return {
        "stats_first_ms": stats_times[0] * 1000,
        "stats_median_ms": statistics.median(stats_times) * 1000,
        "best_pipelines_median_ms": statistics.median(best_times) * 1000,
        "best_pipelines_max_ms": max(best_times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument(
        "--tasks", type=int, default=100, help="tasks (= datasets) the evaluations spread over"
    )
    parser.add_argument(
        "--setups", type=int, default=20_000, help="distinct setups (hyperparameter settings)"
    )
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument(
        "--kb", type=Path, default=None, help="knowledge base file (default: a temporary one)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="mile-meta-crawler-bench-"))
    path = args.kb or folder / "kb.sqlite"
    print(f"knowledge base: {path}")
    flows = make_flows()
    setups = make_setups(flows, args.setups, rng)
    page = evaluation_page(1, 1, 10_000, setups, random.Random(1))
    parsers = compare_parsers(page)
    for name, rate in parsers.items():
        print(f"  parse one page of 10,000: {name}: {rate:,.0f} evaluations/s")

    with KnowledgeBase.open(path) as kb, crawl_connection_settings(kb):
        started = time.perf_counter()
        windows = ingest(
            kb,
            evaluations=args.evaluations,
            tasks=args.tasks,
            page_size=args.page_size,
            setups=setups,
            flows=flows,
            rng=rng,
            report_every=max(args.page_size, args.evaluations // 10),
        )
        total_wall = time.perf_counter() - started
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = int(kb.db.execute("SELECT count(*) FROM evaluations").fetchone()[0])
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    # queries on a freshly opened knowledge base, as a user's next command sees it
    with KnowledgeBase.open(path) as kb:
        latency = query_latency(kb, args.tasks, rng)

    timed_evaluations = sum(w["evaluations"] for w in windows)
    timed_seconds = sum(w["seconds"] for w in windows)
    shares = {
        part: sum(w[part] for w in windows) / timed_seconds for part in ("parse", "batch", "write")
    }
    results: dict[str, Any] = {
        "evaluations_in_kb": total,
        "parse_rates_per_second": parsers,
        "ingest_rate_first_window": windows[0]["evaluations"] / windows[0]["seconds"],
        "ingest_rate_last_window": windows[-1]["evaluations"] / windows[-1]["seconds"],
        "ingest_rate_overall": timed_evaluations / timed_seconds,
        "ingest_cpu_rate_overall": timed_evaluations / sum(w["cpu_seconds"] for w in windows),
        "time_shares": shares,
        "wall_seconds_including_generation": total_wall,
        "size_bytes": size,
        **latency,
    }
    rows = [
        ("evaluations in the knowledge base", f"{total:,}"),
        *(
            (f"parse a 10,000-evaluation page, {name}", f"{rate:,.0f} /s")
            for name, rate in parsers.items()
        ),
        (
            f"ingest (check + parse + batch + write), first {windows[0]['evaluations']:,.0f}",
            f"{results['ingest_rate_first_window']:,.0f} /s",
        ),
        (
            f"ingest, last {windows[-1]['evaluations']:,.0f} (KB near {total:,})",
            f"{results['ingest_rate_last_window']:,.0f} /s",
        ),
        (
            "ingest, all pages (wall / CPU)",
            f"{results['ingest_rate_overall']:,.0f} /s / {results['ingest_cpu_rate_overall']:,.0f} /s",
        ),
        (
            "ingest time: check + parse / page batch (records) / write (one transaction)",
            " / ".join(f"{shares[part]:.0%}" for part in ("parse", "batch", "write")),
        ),
        (
            "kb.stats(), first call / median of 5",
            f"{latency['stats_first_ms']:.0f} ms / {latency['stats_median_ms']:.0f} ms",
        ),
        (
            "kb.best_pipelines(dataset, metric), median / max of 10 datasets",
            f"{latency['best_pipelines_median_ms']:.0f} ms / {latency['best_pipelines_max_ms']:.0f} ms",
        ),
        ("size on disk", f"{size / 1e6:,.0f} MB"),
    ]
    print("\n| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
