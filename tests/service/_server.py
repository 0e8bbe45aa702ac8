"""A real ``mile-meta serve`` process on loopback for the service tests.

A helper module, not a conftest.py: several test folders import ``conftest`` by name, and
another conftest module here would shadow theirs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(corpus_kb_path: Path, temporary: Path | None = None) -> Iterator[str]:
    """``mile-meta serve`` in a subprocess (1 MB upload limit); yields its base URL.

    ``temporary`` becomes the server's temporary folder (``TMPDIR``), so a test can see
    exactly which files the server left there.
    """
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mile_meta.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--kb",
            str(corpus_kb_path),
            "--max-upload-mb",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **({"TMPDIR": str(temporary)} if temporary else {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"mile-meta serve did not come up: {output}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
