"""Load test of `mile-meta serve`: mixed good and hostile requests, in parallel, on loopback.

    python scripts/load_test_service.py                      # 200 requests, 20 at a time
    python scripts/load_test_service.py --kb kb.sqlite --requests 400 --concurrency 40
    python scripts/load_test_service.py --url http://127.0.0.1:8765   # a running service

Starts `mile-meta serve` on a free loopback port (unless --url names a running one, which
must be on 127.0.0.1/localhost/::1: this script never sends anything off the machine),
sends a fixed mix of requests (health, version, JSON recommend and priors, CSV uploads, and
hostile ones: NaN/Infinity/negative meta-features, 10,000-deep JSON, empty and binary uploads,
200-suffix filenames, wrong content types), and reports p50/p95 latency per kind, the status
codes, and every answer that was a 5xx or not the expected status. Exit 1 on any 5xx,
connection error or unexpected status. Bounded: a fixed request count, a per-request
timeout and an overall deadline.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ROOT = Path(__file__).resolve().parents[1]
META = {"NumberOfInstances": 1000.0, "NumberOfFeatures": 21.0, "NumberOfClasses": 2.0}


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    body: bytes | None
    content_type: str | None
    expected: tuple[int, ...]


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()


def _multipart(filename: str, content: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def request_kinds() -> list[tuple[Kind, int]]:
    """Each kind of request and its weight in the mix (weights sum to 100)."""
    small_csv = b"a,b,c,y\n" + b"".join(
        f"{i},{(i * 7) % 13},{'xyz'[i % 3]},{i % 2}\n".encode() for i in range(120)
    )
    upload, upload_type = _multipart("small.csv", small_csv, {"target": "y", "top": "3"})
    empty, empty_type = _multipart("empty.csv", b"", {"target": "y"})
    binary, binary_type = _multipart("noise.csv", bytes(range(256)) * 40, {"target": "y"})
    long_name, long_type = _multipart("x" + ".csv" * 200, small_csv, {"target": "nope"})
    nan = b'{"meta_features": {"NumberOfInstances": NaN, "NumberOfClasses": 2}}'
    infinite = b'{"meta_features": {"NumberOfInstances": Infinity, "NumberOfClasses": 2}}'
    kinds = [
        (Kind("health", "GET", "/health", None, None, (200,)), 10),
        (Kind("version", "GET", "/version", None, None, (200,)), 5),
        (Kind("docs", "GET", "/docs", None, None, (200,)), 3),
        (
            Kind("recommend-json", "POST", "/recommend", _json({"meta_features": META, "top": 5}),
                 "application/json", (200,)),
            22,
        ),
        (
            Kind("priors-json", "POST", "/priors",
                 _json({"meta_features": META, "top": 3, "format": "optuna"}),
                 "application/json", (200,)),
            12,
        ),
        (Kind("recommend-upload", "POST", "/recommend", upload, upload_type, (200,)), 8),
        (Kind("nan", "POST", "/recommend", nan, "application/json", (422,)), 5),
        (Kind("infinity", "POST", "/priors", infinite, "application/json", (422,)), 4),
        (
            Kind("negative-count", "POST", "/recommend",
                 _json({"meta_features": {**META, "NumberOfInstances": -3}}),
                 "application/json", (422,)),
            4,
        ),
        (
            Kind("deep-json", "POST", "/recommend", b"[" * 10_000 + b"]" * 10_000,
                 "application/json", (400,)),
            5,
        ),
        (Kind("not-json", "POST", "/priors", b"{nope", "application/json", (400,)), 4),
        (Kind("empty-upload", "POST", "/recommend", empty, empty_type, (422,)), 5),
        (Kind("binary-upload", "POST", "/recommend", binary, binary_type, (422,)), 4),
        (Kind("long-filename", "POST", "/recommend", long_name, long_type, (422,)), 4),
        (Kind("wrong-type", "POST", "/priors", b"x", "text/plain", (415,)), 3),
        (Kind("unknown-path", "GET", "/admin", None, None, (404,)), 2),
    ]  # fmt: skip
    assert sum(weight for _, weight in kinds) == 100
    return kinds


def plan(total: int) -> list[Kind]:
    """``total`` requests in the mix's proportions, shuffled with a fixed seed."""
    kinds = request_kinds()
    sequence: list[Kind] = []
    for kind, weight in kinds:
        sequence += [kind] * round(total * weight / 100)
    while len(sequence) < total:  # rounding: top up with the commonest request
        sequence.append(kinds[3][0])
    sequence = sequence[:total]
    random.Random(0).shuffle(sequence)
    return sequence


def send(base: str, kind: Kind, timeout: float) -> tuple[Kind, int, float, str]:
    request = urllib.request.Request(base + kind.path, data=kind.body, method=kind.method)
    if kind.content_type:
        request.add_header("content-type", kind.content_type)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read(2000).decode("utf-8", "replace")
    except OSError as error:  # connection refused / reset / timeout
        status, text = 0, f"{type(error).__name__}: {error}"
    return kind, status, time.perf_counter() - started, text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(kb: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-c", "from mile_meta.cli import main; main()"]
    command += ["serve", "--port", str(port)]
    if kb:
        command += ["--kb", kb]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"mile-meta serve exited: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(base + "/health", timeout=5):
                return server, base
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("mile-meta serve did not answer /health within 120 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--kb", default=None, help="knowledge base for the started service")
    parser.add_argument("--url", default=None, help="a running service on loopback")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the run")
    args = parser.parse_args()
    if not 1 <= args.requests <= 5000 or not 1 <= args.concurrency <= 200:
        parser.error("--requests must be 1..5000 and --concurrency 1..200")

    server = None
    if args.url:
        host = urllib.parse.urlparse(args.url).hostname or ""
        if host not in LOOPBACK:
            parser.error(f"--url must be on this machine (127.0.0.1/localhost/::1), not {host!r}")
        base = args.url.rstrip("/")
    else:
        server, base = start_server(args.kb)
    results: list[tuple[Kind, int, float, str]] = []
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            futures = [pool.submit(send, base, kind, args.timeout) for kind in plan(args.requests)]
            for future in futures:
                remaining = args.deadline - (time.perf_counter() - started)
                results.append(future.result(timeout=max(remaining, 1.0)))
    finally:
        wall = time.perf_counter() - started
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return report(results, wall, args)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(
    results: list[tuple[Kind, int, float, str]], wall: float, args: argparse.Namespace
) -> int:
    by_kind: dict[str, list[tuple[int, float]]] = defaultdict(list)
    problems: list[str] = []
    for kind, status, seconds, text in results:
        by_kind[kind.name].append((status, seconds))
        if status >= 500 or status == 0 or status not in kind.expected:
            problems.append(f"{kind.name}: {status} {text[:200]}")
        if "/tmp/" in text or "site-packages" in text:
            problems.append(f"{kind.name}: server path in the answer: {text[:200]}")
    latencies = [seconds for _, _, seconds, _ in results]
    statuses = Counter(status for _, status, _, _ in results)
    print(
        f"{len(results)} requests, {args.concurrency} in parallel, {wall:.1f} s wall; "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {_percentile(latencies, 0.95) * 1000:.0f} ms; statuses "
        + ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))
    )
    print(f"5xx: {sum(c for s, c in statuses.items() if s >= 500)}, connection errors: "
          f"{statuses.get(0, 0)}, unexpected statuses: {len(problems)}")  # fmt: skip
    print("\n| kind | n | statuses | p50 ms | p95 ms |\n| --- | ---: | --- | ---: | ---: |")
    for name, rows in by_kind.items():
        seconds = [s for _, s in rows]
        codes = Counter(status for status, _ in rows)
        print(
            f"| {name} | {len(rows)} | {', '.join(f'{c}×{n}' for c, n in sorted(codes.items()))} "
            f"| {statistics.median(seconds) * 1000:.0f} | {_percentile(seconds, 0.95) * 1000:.0f} |"
        )
    for problem in problems[:20]:
        print("problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
