"""A replay OpenML server on 127.0.0.1 for the crawler tests, with faults on command.

It answers the REST calls the openml client makes (``/api/v1/xml/...``) from

- real recorded responses in ``../shared/openml-responses`` (tasks 1, 3 and 1882, datasets 1
  and 2 with their features and qualities, Weka flows, the estimation procedures, the
  evaluation of run 12), never copied into the repository;
- this folder's ``fixtures/`` in OpenML's XML format: a suite 99 (alias OpenML-CC18), dataset
  3 without qualities (code 362), scikit-learn flows, their setups, and evaluation lists
  that the server pages by ``limit``/``offset`` like OpenML (code 542 past the end), and
  the list of evaluation measures.

Faults are queued with :meth:`ReplayServer.inject` (or ``GET /_control/inject?kind=...``):
``code107``, ``html502``, ``http429`` (with ``Retry-After``), ``drop`` (connection closed
without an answer), ``malformed`` (HTTP 200 with a truncated body), and
:meth:`ReplayServer.kill_after` sends SIGKILL to a process when the n-th next request
arrives — a crawl killed in the middle of a request.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import signal
import socket
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "openml-responses"
OML = "http://openml.org/openml"
API_PREFIX = "/api/v1/xml/"

# API call → recorded file (relative to RECORDED)
RECORDED_ROUTES = {
    "task/1": "org/openml/test/api/v1/xml/task/1/body.xml",
    "task/3": "org/openml/test/api/v1/xml/task/3/body.xml",
    "task/1882": "org/openml/test/api/v1/xml/task/1882/body.xml",
    "data/1": "org/openml/test/datasets/1/description.xml",
    "data/features/1": "org/openml/test/datasets/1/features.xml",
    "data/qualities/1": "org/openml/test/datasets/1/qualities.xml",
    "data/2": "org/openml/test/api/v1/xml/data/2/body.xml",
    "data/features/2": "org/openml/test/api/v1/xml/data/features/2/body.xml",
    "data/qualities/2": "org/openml/test/api/v1/xml/data/qualities/2/body.xml",
    "flow/3": "mock_responses/flows/flow_3.xml",
    "flow/100": "mock_responses/flows/flow_100.xml",
    "flow/4024": "mock_responses/flows/flow_4024.xml",
    "flow/6742": "mock_responses/flows/flow_6742.xml",
    "estimationprocedure/list": "mock_responses/tasks/estimation_procedure_list.xml",
    "user/list/user_id/1": "mock_responses/evaluations/user_list_1.xml",
}
RECORDED_EVALUATIONS = ("mock_responses/evaluations/evaluation_list_run12.xml",)

# API call → fixture file (relative to FIXTURES)
FIXTURE_ROUTES = {
    "study/99": "study_99.xml",
    "study/OpenML-CC18": "study_99.xml",
    "data/3": "data_3.xml",
    "data/features/3": "data_features_3.xml",
    "data/qualities/3": "error_362_no_qualities.xml",
    "evaluationmeasure/list": "evaluationmeasure_list.xml",
    "task/list/tag/mile-meta-fixture/limit/10000/offset/0": "task_list_tag_mile-meta-fixture.xml",
}

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
FAULT_KINDS = ("code107", "html502", "http429", "drop", "malformed")


def error_document(code: int, message: str, extra: str = "") -> bytes:
    return (
        f'<oml:error xmlns:oml="{OML}">\n  <oml:code>{code}</oml:code>\n'
        f"  <oml:message>{message}</oml:message>\n"
        + (f"  <oml:additional_information>{extra}</oml:additional_information>\n" if extra else "")
        + "</oml:error>\n"
    ).encode()


def recorded_available() -> bool:
    return (RECORDED / "README.md").is_file() and all(
        (RECORDED / path).is_file() for path in RECORDED_ROUTES.values()
    )


@dataclass
class _Evaluation:
    run_id: int
    task_id: int
    flow_id: int
    function: str
    xml: str  # the element as the fixture spells it


def _evaluation_from_element(element: str) -> _Evaluation:
    fields = dict(re.findall(r"<oml:(\w+)>([^<]*)</oml:\1>", element))
    return _Evaluation(
        int(fields["run_id"]),
        int(fields["task_id"]),
        int(fields["flow_id"]),
        fields["function"],
        element,
    )


def _evaluation_elements(path: Path) -> list[_Evaluation]:
    text = path.read_text(encoding="utf-8")
    return [
        _evaluation_from_element(match.group(0))
        for match in re.finditer(r"<oml:evaluation>.*?</oml:evaluation>", text, re.DOTALL)
    ]


def _setup_elements(path: Path) -> dict[int, str]:
    text = path.read_text(encoding="utf-8")
    found = {}
    for match in re.finditer(r"<oml:setup>.*?</oml:setup>", text, re.DOTALL):
        setup_id = int(re.search(r"<oml:setup_id>(\d+)</oml:setup_id>", match.group(0)).group(1))
        found[setup_id] = match.group(0)
    return found


class World:
    """The recorded and fixture documents, and the dynamic listings built from them."""

    def __init__(self) -> None:
        self.static: dict[str, Path] = {
            call: RECORDED / path for call, path in RECORDED_ROUTES.items()
        }
        self.static.update({call: FIXTURES / path for call, path in FIXTURE_ROUTES.items()})
        for flow_file in sorted((FIXTURES / "flows").glob("flow_*.xml")):
            self.static[f"flow/{flow_file.stem.removeprefix('flow_')}"] = flow_file
        self.evaluations: list[_Evaluation] = []
        for path in RECORDED_EVALUATIONS:
            self.evaluations.extend(_evaluation_elements(RECORDED / path))
        for path in sorted((FIXTURES / "evaluations").glob("*.xml")):
            self.evaluations.extend(_evaluation_elements(path))
        self.evaluations.sort(key=lambda e: (e.run_id, e.function))
        self.setups = _setup_elements(FIXTURES / "setups.xml")

    def answer(self, call: str) -> tuple[int, bytes]:
        call = call.strip("/")
        if call in self.static:
            body = self.static[call].read_bytes()
            if b"<oml:error" in body[:200]:
                return 412, body
            return 200, body
        if call.startswith("evaluation/list/"):
            return self._evaluations(call)
        if call.startswith("setup/list/"):
            return self._setups(call)
        if call.startswith("task/list/"):
            return 412, error_document(482, "No results")
        if re.fullmatch(r"task/\d+", call):
            return 412, error_document(151, "Unknown task")
        return 412, error_document(0, "Unknown call", f"the replay server has no answer for {call}")

    @staticmethod
    def _filters(call: str, prefix: str) -> dict[str, str]:
        parts = call.removeprefix(prefix).strip("/").split("/")
        return dict(zip(parts[::2], parts[1::2], strict=False))

    def _evaluations(self, call: str) -> tuple[int, bytes]:
        filters = self._filters(call, "evaluation/list/")
        limit = int(filters.get("limit", "10000"))
        if limit > 10000:
            return 412, error_document(543, "Limit too large", "limit may not exceed 10000")
        offset = int(filters.get("offset", "0"))
        chosen = [e for e in self.evaluations if e.function == filters.get("function")]
        if "task" in filters:
            tasks = {int(t) for t in filters["task"].split(",")}
            chosen = [e for e in chosen if e.task_id in tasks]
        if "flow" in filters:
            flows = {int(f) for f in filters["flow"].split(",")}
            chosen = [e for e in chosen if e.flow_id in flows]
        page = chosen[offset : offset + limit]
        if not page:
            return 412, error_document(542, "No results")
        body = (
            f'<oml:evaluations xmlns:oml="{OML}">\n'
            + "\n".join(e.xml for e in page)
            + "\n</oml:evaluations>\n"
        )
        return 200, body.encode()

    def _setups(self, call: str) -> tuple[int, bytes]:
        filters = self._filters(call, "setup/list/")
        wanted = [int(s) for s in filters.get("setup", "").split(",") if s]
        found = [self.setups[s] for s in wanted if s in self.setups]
        offset = int(filters.get("offset", "0"))
        found = found[offset : offset + int(filters.get("limit", "1000"))]
        if not found:
            return 412, error_document(674, "No results")
        body = f'<oml:setups xmlns:oml="{OML}">\n' + "\n".join(found) + "\n</oml:setups>\n"
        return 200, body.encode()


@dataclass
class _Fault:
    kind: str
    times: int  # requests still to fail
    after: int  # matching requests still to answer normally first
    match: str  # only requests whose API call contains this
    retry_after: str | None = None


class ReplayServer:
    """The server thread and its controls (a Python handle; see the module docstring)."""

    def __init__(self, port: int = 0) -> None:
        self.world = World()
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._kill: tuple[int, int] | None = None  # (requests to go, pid)
        self.delay_seconds = 0.0
        self.log: list[str] = []
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True, name="replay-openml"
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/xml"

    # -- controls ----------------------------------------------------------------------------
    def inject(
        self,
        kind: str,
        times: int = 1,
        *,
        after: int = 0,
        match: str = "",
        retry_after: str | None = None,
    ) -> None:
        """``times`` API requests fail with ``kind``, after ``after`` good answers.

        With ``match``, only calls containing that text count and fail
        (``match="evaluation/list"`` hits evaluation pages only).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append(_Fault(kind, times, after, match, retry_after))

    @contextlib.contextmanager
    def extra_evaluations(self, elements: list[str]) -> Iterator[None]:
        """OpenML grows: these ``<oml:evaluation>`` elements are listed too, inside the block."""
        added = [_evaluation_from_element(element) for element in elements]
        with self._lock:
            self.world.evaluations.extend(added)
            self.world.evaluations.sort(key=lambda e: (e.run_id, e.function))
        try:
            yield
        finally:
            with self._lock:
                for evaluation in added:
                    self.world.evaluations.remove(evaluation)

    def kill_after(self, requests: int, pid: int) -> None:
        """SIGKILL ``pid`` when the ``requests``-th next API request arrives (before answering)."""
        with self._lock:
            self._kill = (requests, pid)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._kill = None
            self.log.clear()
            self.delay_seconds = 0.0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- used by the handler -------------------------------------------------------------------
    def _next(self, call: str) -> _Fault | None:
        with self._lock:
            self.log.append(call)
            if self._kill is not None:
                remaining, pid = self._kill
                if remaining <= 1:
                    self._kill = None
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                else:
                    self._kill = (remaining - 1, pid)
            for fault in self._faults:
                if fault.match not in call:
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
            return None


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every keep-alive request
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            path = re.sub("/+", "/", parsed.path)
            if path.startswith("/_control/"):
                self._control(path, urllib.parse.parse_qs(parsed.query))
                return
            if not path.startswith(API_PREFIX):
                self._send(404, b"not found", "text/plain")
                return
            call = urllib.parse.unquote(path[len(API_PREFIX) :])
            fault = server._next(call)
            if server.delay_seconds:
                time.sleep(server.delay_seconds)
            if fault is not None:
                self._fault(fault, call)
                return
            status, body = server.world.answer(call)
            self._send(status, body)

        def _fault(self, fault: _Fault, call: str) -> None:
            if fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)  # socket.SHUT_RDWR: gone without a word
                return
            if fault.kind == "code107":
                self._send(
                    412,
                    error_document(
                        107, "Database connection error. Usually due to high server load."
                    ),
                )
            elif fault.kind == "html502":
                self._send(502, NGINX_502, "text/html")
            elif fault.kind == "http429":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(
                    429, b"<html><body>Too many requests</body></html>", "text/html", headers
                )
            elif fault.kind == "malformed":
                _status, body = server.world.answer(call)
                self._send(200, body[: max(1, len(body) // 2)])

        def _control(self, path: str, query: dict[str, list[str]]) -> None:
            action = path.removeprefix("/_control/")
            if action == "inject":
                server.inject(
                    query["kind"][0],
                    int(query.get("times", ["1"])[0]),
                    after=int(query.get("after", ["0"])[0]),
                    match=query.get("match", [""])[0],
                )
            elif action == "kill":
                server.kill_after(int(query["after"][0]), int(query["pid"][0]))
            elif action == "reset":
                server.reset()
            else:
                self._send(404, b"unknown control", "text/plain")
                return
            self._send(200, b"ok", "text/plain")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "text/xml; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body, compresslevel=1)
                headers = {**(headers or {}), "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def parse_document(body: bytes) -> ET.Element:
    """For tests: the root element of a document the server sent."""
    return ET.fromstring(body)
