"""Screenshots of the workbench's main screens for docs/workbench.md.

Starts ``mile-meta ui`` on a private copy of a knowledge base, drives Debian's chromium with
Playwright through the bundled example (upload, recommendations, an edit, a comparison, a
10-second cruise-control search and its re-plan under a changed constraint, the browser, the
plots) and writes one PNG per screen.

    python scripts/screenshots_workbench.py --kb /path/kb.sqlite --out docs/images

Needs the ui and dev extras and /usr/bin/chromium (apt-get install chromium); nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "mile_meta" / "resources" / "corpora" / "examples" / "credit-g.csv"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def workbench_server(kb: Path) -> Iterator[str]:
    """``mile-meta ui`` on a copy of ``kb`` (the original is never written), its URL."""
    with tempfile.TemporaryDirectory(prefix="workbench-") as folder:
        source = sqlite3.connect(kb)
        copy = Path(folder) / "kb.sqlite"
        target = sqlite3.connect(copy)
        source.backup(target)  # a consistent copy even while the file is in use
        source.close()
        target.close()
        port = _free_port()
        log = (Path(folder) / "server.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from mile_meta.cli import main; main()",
                "ui",
                "--port",
                str(port),
                "--kb",
                str(copy),
                "--data-dir",
                str(Path(folder) / "data"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/health", timeout=2).read()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit((Path(folder) / "server.log").read_text()) from None
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def default_kb() -> Path:
    from mile_meta.kb import ensure_default_knowledge_base

    return Path(ensure_default_knowledge_base())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=None, help="knowledge base (default: yours)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    kb = args.kb or default_kb()
    args.out.mkdir(parents=True, exist_ok=True)
    with workbench_server(kb) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(180_000)

        def shot(name: str, *, full_page: bool = True) -> None:
            page.wait_for_timeout(400)
            path = args.out / f"workbench-{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            print(path)

        page.goto(url)
        page.set_input_files("[data-testid=upload]", str(EXAMPLE))
        page.wait_for_selector("#columns-card:not([hidden])")
        page.click("[data-testid=use-target]")
        page.wait_for_selector("#recommendations tbody tr.rec")
        page.click("nav button[data-tab=data]")
        page.wait_for_selector("[data-testid=nearest] tbody tr")
        shot("data")
        page.click("nav button[data-tab=recommend]")
        page.locator("#recommendations tbody tr.rec").first.click()
        page.wait_for_selector("[data-testid=rec-details] .answers strong")
        page.set_viewport_size({"width": 1400, "height": 1300})
        shot("recommend", full_page=False)  # the expanded row and the next few, not all 25
        page.set_viewport_size({"width": 1400, "height": 900})
        page.click("#recommendations th:has-text('fit time')")
        page.locator("[data-testid=evaluate-rec]").first.click()
        page.wait_for_selector("[data-testid=score]")
        field = page.locator("#editor fieldset").last.locator("input[inputmode=decimal]").first
        field.fill("-5")
        field.dispatch_event("change")
        page.wait_for_selector("#form-status.error")
        shot("edit")
        help_text = field.evaluate("n => n.closest('.field').querySelector('.help').textContent")
        field.fill(help_text.split("[")[1].split(",")[1].split("]")[0].strip())
        field.dispatch_event("change")
        page.wait_for_selector("#form-status.ok")
        page.click("[data-testid=evaluate]")
        page.wait_for_function("document.querySelectorAll('[data-testid=version]').length >= 2")
        page.click("nav button[data-tab=versions]")
        page.check("[data-testid=tick-1]")
        page.check("[data-testid=tick-2]")
        page.click("[data-testid=compare]")
        page.wait_for_selector("[data-testid=difference]")
        shot("versions")
        page.click("nav button[data-tab=search]")
        page.fill("[data-testid=budget]", "10s")
        page.wait_for_function(
            "document.querySelector('[data-testid=constraint-check]').textContent.includes('10 s')"
        )
        page.click("[data-testid=start-search]")
        page.wait_for_function(
            "document.querySelector('[data-testid=search-status]').textContent.startsWith('finished')"
        )
        # a constraint changed (decision trees excluded), and the search re-planned from
        # what it evaluated
        page.click("[data-testid=family-decision_tree]")
        page.click("[data-testid=family-decision_tree]")
        page.wait_for_function("!document.querySelector('[data-testid=replan-search]').disabled")
        page.click("[data-testid=replan-search]")
        page.wait_for_function(
            "document.querySelector('[data-testid=replan-note]').textContent.startsWith('re-planned')"
        )
        page.wait_for_function(
            "document.querySelector('[data-testid=search-status]').textContent.startsWith('finished')"
        )
        page.wait_for_selector("#search-plot .main-svg")
        shot("search")
        page.click("nav button[data-tab=kb]")
        page.select_option("[data-testid=kb-table]", "evaluations")
        page.wait_for_function(
            "document.querySelector('[data-testid=kb-range]').textContent.includes('of')"
        )
        page.fill("[data-testid=pattern-q]", "learning curve")
        page.press("[data-testid=pattern-q]", "Enter")
        page.wait_for_selector("#pattern-hits li")
        page.click("[data-testid=run-sql]")
        page.wait_for_selector("#sql-rows tbody tr")
        shot("kb")
        page.click("nav button[data-tab=plots]")
        page.click("[data-testid=draw-plots]")
        for plot in ("plot-map", "plot-curves", "plot-importance", "plot-pred"):
            page.wait_for_selector(f"#{plot} .main-svg")
        shot("plots")
        browser.close()
    shutil.rmtree(args.out / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
