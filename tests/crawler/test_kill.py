"""A real ``kill -9`` of a crawl subprocess, then ``mile-meta crawl --resume``: same records."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MEASURES, PAGE_SIZE, snapshot
from replay import ReplayServer

from mile_meta.cli import main

# A clean crawl of the suite makes about 60 requests (see test_crawl.test_suite_crawl).
REQUESTS_IN_A_CRAWL = 60


def _arguments(server: ReplayServer, folder: Path) -> list[str]:
    arguments = ["crawl", "--suite", "99", "--resume", "--kb", str(folder / "kb.sqlite")]
    arguments += ["--server", server.url, "--cache", str(folder / "cache")]
    arguments += ["--page-size", str(PAGE_SIZE), "--retry-wait", "0.01", "--json"]
    for measure in MEASURES:
        arguments += ["--measure", measure]
    return arguments


def _start(server: ReplayServer, folder: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from mile_meta.cli import main; main()",
        *_arguments(server, folder),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill_mid_crawl(
    server: ReplayServer, folder: Path, rng: random.Random, *, by_timer: bool
) -> str:
    """Start a crawl and SIGKILL it: at a random request, or a random time after its first."""
    process = _start(server, folder)
    if by_timer:
        deadline = time.monotonic() + 60
        while not server.log and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        delay = rng.uniform(0.0, 0.6)
        time.sleep(delay)
        process.kill()
        moment = f"{delay:.3f} s after the first request"
    else:
        nth = rng.randint(1, REQUESTS_IN_A_CRAWL)
        server.kill_after(nth, process.pid)
        moment = f"at request {nth}"
    try:
        process.wait(timeout=120)
    finally:
        process.kill()
    server.reset()
    return f"{moment} (exit {process.returncode})"


def _resume(server: ReplayServer, folder: Path) -> None:
    result = CliRunner().invoke(main, _arguments(server, folder))
    assert result.exit_code == 0, result.output


def test_kill_9_then_resume_gives_the_clean_records(
    openml_server: ReplayServer, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    moment = _kill_mid_crawl(openml_server, tmp_path, rng, by_timer=False)
    assert "exit -9" in moment, f"the crawl was not killed ({moment}, seed {seed})"
    _resume(openml_server, tmp_path)
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot, f"killed {moment}, seed {seed}"


@pytest.mark.slow
def test_soak_twenty_kills(
    openml_server: ReplayServer, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    moments = [
        _kill_mid_crawl(openml_server, tmp_path, rng, by_timer=i % 2 == 1) for i in range(20)
    ]
    _resume(openml_server, tmp_path)
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot, f"seed {seed}, kills {moments}"
