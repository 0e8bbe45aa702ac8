"""A real Dask cluster on 127.0.0.1: a ``dask scheduler`` and two ``dask worker`` processes.

Started as subprocesses by the fixture (CI needs nothing running beforehand) and stopped
after the module; each worker has one thread and no nanny, so killing it loses it for good.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # the workers import this checkout's mile_meta, as the client does
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    return env


def _start_cluster(tmp: Path, n_workers: int = 2) -> Cluster:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen(
        [*dask, "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "scheduler.log", "wb"),  # noqa: SIM115
    )
    cluster = Cluster(address, scheduler)
    for index in range(n_workers):
        name = f"worker-{index}"
        cluster.workers[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--name",
                name,
                "--local-directory",
                str(tmp / name),
                "--memory-limit",
                "0",
            ],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / f"{name}.log", "wb"),  # noqa: SIM115
        )
    from distributed import Client

    deadline = time.monotonic() + 120
    while True:
        try:
            with Client(address, timeout="5s") as client:
                client.wait_for_workers(n_workers, timeout=max(1.0, deadline - time.monotonic()))
                # a running cluster has its libraries imported: warm the workers up as one is
                from mile_meta.search._dask import _prepare_worker

                client.run(_prepare_worker)
            return cluster
        except (OSError, TimeoutError) as error:
            if time.monotonic() > deadline:
                cluster.stop()
                raise RuntimeError(f"the Dask cluster did not start: {error}") from error
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = _start_cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def start_cluster() -> object:
    """A function starting a private cluster (for a test that kills one of its workers)."""
    return _start_cluster
