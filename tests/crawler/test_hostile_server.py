"""A server that answers, but not as OpenML does (issue 18 item 7): no replay data needed.

Well-formed XML of the wrong shape is a server error naming the endpoint (no traceback);
``Retry-After`` is capped; the advice after a failure is true (``--resume`` only when there
is something to resume).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from mile_meta.cli import main

WRONG_SHAPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<oml:something_else xmlns:oml="http://openml.org/openml"><oml:x>1</oml:x>'
    b"</oml:something_else>\n"
)


class _Handler(BaseHTTPRequestHandler):
    mode = "wrong-shape"

    def do_GET(self) -> None:
        if self.server.mode == "retry-after":  # type: ignore[attr-defined]
            self.send_response(429)
            self.send_header("Retry-After", "86400")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(WRONG_SHAPE)))
        self.end_headers()
        self.wfile.write(WRONG_SHAPE)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.mode = "wrong-shape"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _crawl(server: ThreadingHTTPServer, tmp_path: Path, *arguments: str):
    host, port = server.server_address[:2]
    return CliRunner().invoke(
        main,
        [
            "crawl",
            *arguments,
            "--kb",
            str(tmp_path / "kb.sqlite"),
            "--server",
            f"http://{host}:{port}/api/v1/xml",
            "--cache",
            str(tmp_path / "cache"),
            "--retry-wait",
            "0.01",
        ],
    )


@pytest.mark.parametrize("scope", [["--suite", "99"], ["--task", "3"], ["--tag", "x"]])
def test_a_wrong_shaped_answer_is_a_server_error_naming_the_endpoint(
    hostile_server: ThreadingHTTPServer, tmp_path: Path, scope: list[str]
) -> None:
    result = _crawl(hostile_server, tmp_path, *scope)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "/api/v1/xml/" in lines[0]  # the endpoint
    assert "unexpected" not in lines[0]
    # nothing was recorded, so the advice is not --resume (which would say "nothing to resume")
    assert "--resume" not in lines[0] and "run the same command again" in lines[0]
    resumed = CliRunner().invoke(main, ["crawl", "--resume", "--kb", str(tmp_path / "kb.sqlite")])
    assert resumed.exit_code != 0 and "nothing to resume" in resumed.output


def test_retry_after_is_capped(hostile_server: ThreadingHTTPServer, tmp_path: Path) -> None:
    hostile_server.mode = "retry-after"  # type: ignore[attr-defined]
    started = time.monotonic()
    result = _crawl(hostile_server, tmp_path, "--task", "3")
    assert time.monotonic() - started < 60  # not a day
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert "asks to wait 24 h (Retry-After)" in line and "10 min mile-meta waits" in line


def test_the_retry_policy_never_sleeps_past_the_cap() -> None:
    from mile_meta.sources.openml import RetryPolicy

    policy = RetryPolicy()
    assert policy.wait_seconds(1, retry_after_seconds=30.0) >= 30.0
    assert policy.max_retry_after_seconds == 600.0
