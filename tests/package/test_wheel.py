"""The package as a new user gets it: a wheel in a fresh virtual environment, no checkout.

Builds the wheel from this checkout, installs it into a new venv *without* the dev extras,
and runs the README's main jobs from a folder outside the checkout with an empty ``HOME``:
``recommend`` on the bundled example, ``search --out`` (report included), ``priors`` in every
format, then ``serve`` (after adding the ``serve`` extra) with one request and the offline
``/docs`` page. A ``sitecustomize`` audit hook makes every process fail on any connection
that is not to this machine, so "works offline" is checked, not assumed.

Installing needs the package index (or a warm pip cache); running the commands does not.
The whole module takes one to two minutes (the venv is built once per session, under a
file lock, and shared by the xdist workers).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRIOR_FORMATS = ("json", "optuna", "configspace", "flaml", "hyperopt", "raytune")

# Refuses any connection that leaves this machine: loopback and Unix sockets only.
_OFFLINE_GUARD = textwrap.dedent(
    """
    import sys

    _LOCAL = ("127.", "::1", "localhost", "0.0.0.0")

    def _offline(event, args):
        if event == "socket.connect":
            address = args[1]
            host = address[0] if isinstance(address, tuple) else str(address)
            if isinstance(address, tuple) and not str(host).startswith(_LOCAL):
                raise RuntimeError(f"offline test: connection to {address!r} refused")
        elif event == "socket.getaddrinfo":
            host = args[0]
            if host is not None and not str(host).startswith(_LOCAL) and host != "":
                raise RuntimeError(f"offline test: name lookup of {host!r} refused")

    sys.addaudithook(_offline)
    """
)


class Installed:
    """A fresh venv holding the wheel, and a way to run its commands like a new user."""

    def __init__(self, folder: Path, state: dict[str, Any]) -> None:
        self.state = state
        self.wheel = Path(state["wheel"])
        self.venv = folder / "venv"
        self.home = folder / "home"
        self.work = folder / "work"
        self.guard = folder / "guard"

    def create(self) -> None:
        for path in (self.home, self.work, self.guard):
            path.mkdir()
        (self.guard / "sitecustomize.py").write_text(_OFFLINE_GUARD)
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        self.pip_install(str(self.wheel))

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def pip_install(self, requirement: str) -> None:
        # pip keeps the real HOME so its cache is used; only the commands run with an empty one
        subprocess.run(
            [str(self.bin / "python"), "-m", "pip", "install", "-q", requirement],
            check=True,
            env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        )

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "PYTHONPATH": str(self.guard),  # the offline guard only, never the checkout
            "LANG": "C.UTF-8",
        }

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.work,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, timeout: float = 180) -> str:
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr
        return done.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """One venv per test session, shared by the xdist workers (built under a file lock)."""
    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker has its own basetemp in the run's
        run_folder = run_folder.parent
    shared = run_folder / "wheel-install"
    shared.mkdir(exist_ok=True)
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / "ready.json").exists():
                _build_and_install(shared)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield Installed(shared, json.loads((shared / "ready.json").read_text()))


def _build_and_install(folder: Path) -> None:
    source = folder / "source"
    # build from a copy, so the checkout gets no build/ or egg-info folders
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "site", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), str(source)],
        check=True,
    )
    wheel = next(folder.glob("mile_meta-*.whl"))
    created = Installed(folder, {"wheel": str(wheel)})
    created.create()
    probe = (
        "import importlib.util, json, mile_meta;"
        "print(json.dumps({'file': mile_meta.__file__, 'missing': [m for m in"
        " ('fastapi', 'openml', 'pyarrow', 'pytest') if importlib.util.find_spec(m) is None]}))"
    )
    base = json.loads(created.ok("python", "-c", probe))
    example = created.ok("mile-meta", "examples", "credit-g").strip()
    # first use: builds the default knowledge base in the empty HOME (before any test runs
    # commands side by side)
    first = created.ok("mile-meta", "recommend", example, "--target", "class", "--json")
    state = {"wheel": str(wheel), "base": base, "example": example, "first_recommend": first}
    (folder / "ready.json").write_text(json.dumps(state))


@pytest.fixture(scope="session")
def example(installed: Installed) -> Path:
    path = Path(installed.state["example"])
    assert path.is_file()
    assert installed.venv in path.parents  # package data, not the checkout
    return path


def test_base_install_is_the_package_without_extras(installed: Installed) -> None:
    found = installed.state["base"]  # probed right after installing, before any extra
    assert Path(found["file"]).is_relative_to(installed.venv)
    assert found["missing"] == ["fastapi", "openml", "pyarrow", "pytest"]


def test_recommend_on_the_bundled_example(installed: Installed, example: Path) -> None:
    first = json.loads(installed.state["first_recommend"])  # the first use, from the fixture
    report = json.loads(
        installed.ok("mile-meta", "recommend", str(example), "--target", "class", "--json")
    )
    assert report["dataset"] == "credit-g"
    assert [r["pipeline_id"] for r in first["recommendations"]] == [
        r["pipeline_id"] for r in report["recommendations"]
    ]
    assert len(report["recommendations"]) == 10
    # the default knowledge base was built in the empty HOME, not next to the checkout
    assert list(installed.home.rglob("knowledge-base.sqlite"))


def test_search_writes_model_and_report(installed: Installed, example: Path) -> None:
    out = installed.work / "out"
    # the budget counts from the command's start (imports, meta-features, the prior, the report
    # included), so it leaves room for a loaded CI machine to finish candidates
    installed.ok(
        "mile-meta", "search", str(example), "--target", "class", "--budget", "30s",
        "--out", str(out),
    )  # fmt: skip
    report = (out / "report.html").read_text()
    assert "<img" in report  # the plots render on the base install
    assert (out / "model.joblib").stat().st_size > 0
    spec = json.loads((out / "spec.json").read_text())
    assert spec["spec"]
    # the saved model predicts in the installed package (public pickle paths, no checkout)
    predict = (
        "import joblib, pandas as pd, sys;"
        f"model = joblib.load({str(out / 'model.joblib')!r});"
        f"frame = pd.read_csv({str(example)!r}).drop(columns=['class']).head(5);"
        "print(len(model.predict(frame)))"
    )
    assert installed.ok("python", "-c", predict).strip() == "5"


@pytest.mark.parametrize("format_name", PRIOR_FORMATS)
def test_priors_every_format(installed: Installed, example: Path, format_name: str) -> None:
    target = installed.work / f"prior-{format_name}.out"
    done = installed.run(
        "mile-meta", "priors", str(example), "--target", "class", "--format", format_name,
        "-o", str(target),
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    if format_name in ("json", "optuna"):  # need nothing beyond the base install
        assert done.returncode == 0, done.stderr
    if done.returncode == 0:
        assert target.stat().st_size > 0
    else:  # the tool is an extra: one line naming what to install
        assert done.returncode in (1, 2)
        assert "pip install" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_parquet_without_pyarrow_names_the_extra(installed: Installed) -> None:
    data = installed.work / "data.parquet"
    data.write_bytes(b"PAR1 not really")
    done = installed.run("mile-meta", "recommend", str(data), "--target", "y")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "mile-meta[parquet]" in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_offline(installed: Installed, example: Path) -> None:
    done = installed.run("mile-meta", "serve", "--port", "1")
    assert done.returncode in (1, 2) and "mile-meta[serve]" in done.stderr  # before the extra
    installed.pip_install(f"mile-meta[serve] @ {installed.wheel.as_uri()}")
    port = _free_port()
    server = subprocess.Popen(
        [str(installed.bin / "mile-meta"), "serve", "--port", str(port)],
        cwd=installed.work,
        env=installed.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = _wait_for(f"{base}/health", server)
        assert health["status"] == "ok"
        assert str(installed.home) not in json.dumps(health)
        request = urllib.request.Request(
            f"{base}/recommend",
            data=json.dumps(
                {"meta_features": {"NumberOfInstances": 1000, "NumberOfClasses": 2}, "top": 3}
            ).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert len(answer["recommendations"]) == 3
        with urllib.request.urlopen(f"{base}/docs", timeout=10) as response:
            page = response.read().decode()
        assert "cdn" not in page.lower() and "https://" not in page
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert f"/docs-assets/{asset}" in page
            with urllib.request.urlopen(f"{base}/docs-assets/{asset}", timeout=10) as response:
                assert response.status == 200 and len(response.read()) > 10_000
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors
    assert "offline test" not in errors


def _wait_for(url: str, server: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve exited {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                payload: dict[str, object] = json.load(response)
                return payload
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within 60 s")
