"""``mile-meta ui``: loopback by default, another address only with --allow-remote and a warning."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from mile_meta.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_a_non_loopback_host_needs_the_explicit_flag(writable_kb_path: Path) -> None:
    result = CliRunner().invoke(main, ["ui", "--host", "0.0.0.0", "--kb", str(writable_kb_path)])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output and "no authentication" in result.output


def test_with_the_flag_it_binds_and_warns(writable_kb_path: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mile_meta.cli import main; main()",
            "ui",
            "--host",
            "0.0.0.0",
            "--allow-remote",
            "--port",
            str(port),
            "--kb",
            str(writable_kb_path),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.3)
        else:
            raise AssertionError("the workbench did not start listening")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
    assert "warning: listening on 0.0.0.0, not loopback" in errors
    assert (tmp_path / "data" / "uploads").is_dir()
