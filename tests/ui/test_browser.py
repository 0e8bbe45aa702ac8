"""The workbench in a real browser: Debian's chromium driven by Playwright (no download).

A real ``mile-meta ui`` server runs as a subprocess on a copy of the corpus knowledge base;
the page goes from the bundled CSV to recommendations, an edited and evaluated pipeline, a
comparison of two versions and a finished 10-second cruise-control search, and must log no
console error on the way.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workbench_helpers import EXAMPLE_CSV

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) for the browser tests",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(corpus_kb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mile-meta ui`` in a subprocess, on a private copy of the corpus knowledge base."""
    from mile_meta.kb import KnowledgeBase

    folder = tmp_path_factory.mktemp("workbench")
    with KnowledgeBase.open(corpus_kb_path) as kb:
        kb.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kb_path = folder / "kb.sqlite"
    shutil.copy(corpus_kb_path, kb_path)
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mile_meta.cli import main; main()",
            "ui",
            "--port",
            str(port),
            "--kb",
            str(kb_path),
            "--data-dir",
            str(folder / "data"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError((folder / "server.log").read_text()) from None
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page(browser: Any, problems: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on(
        "console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.set_default_timeout(60_000)
    return page


def _until(page: Any, script: str, timeout: float = 180_000) -> None:
    """Wait for ``script`` to be true; on a timeout, say what the page showed."""
    try:
        page.wait_for_function(script, timeout=timeout)
    except sync_api.TimeoutError:
        shown = page.evaluate(
            "[...document.querySelectorAll('#message, #form-status, #eval-text, #search-status')]"
            ".map(n => n.id + ': ' + n.textContent).join(' | ')"
        )
        raise AssertionError(f"timed out waiting for {script}; the page showed {shown}") from None


def _open_example(page: Any, url: str) -> None:
    page.goto(url)
    page.set_input_files("[data-testid=upload]", str(EXAMPLE_CSV))
    page.wait_for_selector("#columns-card:not([hidden])")
    assert page.input_value("[data-testid=target]") == "class"
    page.click("[data-testid=use-target]")
    page.wait_for_selector("#recommendations tbody tr.rec")


def test_csv_to_recommendation_edit_compare_and_search(server: str, browser: Any) -> None:
    problems: list[str] = []
    page = _page(browser, problems)
    _open_example(page, server)
    assert "binary" in page.inner_text("[data-testid=task-why]")
    page.wait_for_selector("[data-testid=nearest] tbody tr", state="attached")
    # sorted by expected fit time, the first row is the quickest to evaluate
    page.click("#recommendations th:has-text('fit time')")
    first = page.locator("#recommendations tbody tr.rec").first
    first.click()
    page.wait_for_selector("[data-testid=rec-details] .answers strong", timeout=120_000)
    assert "similar dataset" in page.inner_text("[data-testid=rec-details]")
    # evaluate the recommendation as it is, watching each fold finish; the result sits
    # beside its prediction and the knowledge base's best on similar data
    page.evaluate(
        """() => {
          window.foldLines = [];
          new MutationObserver((changes) => changes.forEach((change) => change.addedNodes
            .forEach((node) => window.foldLines.push(node.textContent))))
            .observe(document.querySelector('[data-testid=eval-fold]'), { childList: true });
        }"""
    )
    first.locator("[data-testid=evaluate-rec]").click()
    _until(page, "document.querySelector('[data-testid=score]') !== null")
    seen = page.evaluate("window.foldLines")
    done = [int(line.split("/")[0].split()[-1]) for line in seen if " done" in line]
    assert set(done) - {0} == {1, 2, 3, 4, 5}, seen
    assert done == sorted(done), seen
    assert any("mean so far" in line for line in seen), seen
    assert "Predicted" in page.inner_text("[data-testid=vs-prediction]")
    assert "most similar datasets" in page.inner_text("[data-testid=vs-kb]")
    # an invalid value is refused with the reason, a valid one is evaluated as a new version
    numeric = page.locator("#editor fieldset").last.locator("input[inputmode=decimal]").first
    numeric.fill("-1e9")
    numeric.dispatch_event("change")
    page.wait_for_selector("#form-status.error")
    assert "must" in page.inner_text("[data-testid=form-status]")
    low = numeric.evaluate("node => node.closest('.field').querySelector('.help').textContent")
    value = low.split("[")[1].split(",")[0]
    numeric.fill(value)
    numeric.dispatch_event("change")
    page.wait_for_selector("#form-status.ok")
    page.click("[data-testid=evaluate]")
    _until(page, "document.querySelectorAll('[data-testid=version]').length >= 2")
    # the two versions side by side
    page.click("nav button[data-tab=versions]")
    page.check("[data-testid=tick-1]")
    page.check("[data-testid=tick-2]")
    page.click("[data-testid=compare]")
    difference = page.inner_text("[data-testid=difference]")
    assert "v2 − v1" in difference and "interval" in difference
    assert page.locator("[data-testid=spec-diff] tbody tr").count() >= 1
    # a 10-second cruise-control search, watched to the end
    page.click("nav button[data-tab=search]")
    page.click("[data-testid=interpretable]")
    page.fill("[data-testid=budget]", "10s")
    page.wait_for_function(
        "document.querySelector('[data-testid=constraint-check]').textContent.includes('budget 10 s')"
    )
    assert page.inner_text("[data-testid=constraint-check]").startswith("satisfiable")
    page.click("[data-testid=start-search]")
    _until(
        page,
        "document.querySelector('[data-testid=search-status]').textContent.startsWith('finished')",
    )
    assert page.locator("[data-testid=leaderboard] tbody tr").count() >= 1
    assert "kept as version 3" in page.inner_text("[data-testid=search-best]")
    page.wait_for_selector("#search-plot .main-svg")
    # a constraint changed, and the search re-planned from what it evaluated
    page.click("[data-testid=family-decision_tree]")
    page.click("[data-testid=family-decision_tree]")  # ✓ then ✗: decision trees excluded
    page.wait_for_function("!document.querySelector('[data-testid=replan-search]').disabled")
    page.click("[data-testid=replan-search]")
    _until(
        page,
        "document.querySelector('[data-testid=replan-note]').textContent"
        ".startsWith('re-planned from the last search')",
    )
    _until(
        page,
        "document.querySelector('[data-testid=search-status]').textContent.startsWith('finished')",
    )
    assert "kept as version 4" in page.inner_text("[data-testid=search-best]")
    leaderboard = page.inner_text("[data-testid=leaderboard]")
    assert "DecisionTree" not in leaderboard
    assert problems == []


def test_impossible_constraints_and_a_second_tab_are_told_in_the_page(
    server: str, browser: Any
) -> None:
    problems: list[str] = []
    tab1 = _page(browser, problems)
    _open_example(tab1, server)
    tab1.click("nav button[data-tab=search]")
    tab1.click("[data-testid=interpretable]")
    tab1.click("[data-testid=family-knn]")  # include knn only: no interpretable model is left
    tab1.wait_for_selector("#constraint-check.error")
    assert "relax one constraint" in tab1.inner_text("[data-testid=constraint-check]")
    assert tab1.is_disabled("[data-testid=start-search]")
    # the same session in a second tab; the first tab then adds a version
    tab2 = _page(browser, problems)
    tab2.goto(tab1.url)
    tab2.wait_for_selector("#recommendations tbody tr.rec")
    tab1.click("nav button[data-tab=recommend]")
    tab1.locator("[data-testid=evaluate-rec]").first.click()
    tab1.wait_for_selector("[data-testid=score]", timeout=120_000)
    tab2.locator("[data-testid=evaluate-rec]").first.click()
    tab2.wait_for_selector("#message:not([hidden])")
    assert "another tab" in tab2.inner_text("[data-testid=message]")
    # a refused upload is explained in the page as well
    tab2.click("nav button[data-tab=data]")
    tab2.set_input_files(
        "[data-testid=upload]",
        files=[{"name": "notes.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}],
    )
    tab2.wait_for_function(
        "document.querySelector('[data-testid=message]').textContent.includes('not a CSV')"
    )
    # the only console errors are the browser's notes on the refused requests (409, 415)
    assert all("status of 409" in p or "status of 415" in p for p in problems), problems
