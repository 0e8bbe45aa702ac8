"""The HTTP layer under the openml client: polite, retrying, and testable.

openml 0.15.1 retries by itself, but not in a way a crawler can live with: it sleeps up to a
minute between tries (``robot`` policy) or one second per try (``human``), ignores
``Retry-After``, hands a well-formed HTML error page (nginx's 502) to its error parser, which
then fails with a ``KeyError``, and never retries a truncated or malformed body that came
with HTTP 200. So while a crawl runs, :func:`openml_client` swaps openml's request function
(``openml._api_calls._send_request``, the one place every API call goes through) for
:meth:`Transport.send`, and sets openml's own retries to one attempt.

:meth:`Transport.send` retries, with exponential backoff and jitter, on

- OpenML error code 107 (database overload), HTTP 429 and 5xx, honouring ``Retry-After``;
- a body that is not an OpenML XML document (an HTML error page, a truncated download);
- a dropped or refused connection, a read timeout.

It gives up with :class:`OpenMLCrawlError` naming the URL, the last failure and the fix.
Every other answer (HTTP 200, or 412 with an OpenML error document such as the "no results"
codes) goes back to openml, which raises its usual exceptions.
"""

from __future__ import annotations

import contextlib
import email.utils
import random
import re
import threading
import time
import xml.parsers.expat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from mile_meta import __version__
from mile_meta.errors import MileMetaError

__all__ = [
    "DEFAULT_SERVER",
    "OpenMLCrawlError",
    "OpenMLUnreachable",
    "RetryPolicy",
    "Transport",
    "openml_client",
]

DEFAULT_SERVER = "https://www.openml.org/api/v1/xml"
DATABASE_OVERLOAD_CODE = 107
_USER_AGENT = f"mile-meta/{__version__} (OpenML crawler; openml-python)"
# The first element of an OpenML document (after an optional <?xml ...?> declaration).
_FIRST_TAG = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([\w:.-]+)", re.DOTALL)
_ERROR_CODE = re.compile(rb"<oml:code>\s*(\d+)\s*</oml:code>")


class OpenMLCrawlError(MileMetaError):
    """OpenML could not be read (server down, malformed answers, an unusable scope)."""


class OpenMLUnreachable(OpenMLCrawlError):
    """OpenML did not answer usefully for a while (retries spent, or a long Retry-After):
    worth trying again later, unlike a refusal."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one request.

    ``attempts`` counts every try, the first included. The n-th retry waits
    ``first_wait_seconds * 2**(n-1)`` (at most ``max_wait_seconds``), ± ``jitter_fraction``,
    or longer when the server sends ``Retry-After`` — up to ``max_retry_after_seconds``:
    a server asking for more (``Retry-After: 86400``) ends the crawl with a message saying
    when to come back, instead of a process that sleeps for a day.
    """

    attempts: int = 6
    first_wait_seconds: float = 2.0
    max_wait_seconds: float = 120.0
    jitter_fraction: float = 0.1
    timeout_seconds: float = 120.0
    max_retry_after_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.first_wait_seconds < 0 or self.max_wait_seconds < 0:
            raise ValueError("RetryPolicy waits must not be negative")

    def wait_seconds(self, retry: int, retry_after_seconds: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        backoff = min(self.max_wait_seconds, self.first_wait_seconds * 2 ** (retry - 1))
        backoff *= 1.0 + random.uniform(-self.jitter_fraction, self.jitter_fraction)
        if retry_after_seconds is not None:
            # The server said how long; never come back earlier than that.
            return max(backoff, retry_after_seconds)
        return max(0.0, backoff)


@dataclass(frozen=True)
class _Failure:
    reason: str
    retry_after_seconds: float | None = None


def _duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _first_tag(body: bytes) -> str | None:
    match = _FIRST_TAG.match(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _is_well_formed(body: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def _describe_body(body: bytes) -> str:
    tag = _first_tag(body)
    if tag is None:
        return "a non-XML body"
    if not tag.startswith("oml:"):
        return f"a <{tag}> page instead of an OpenML document"
    return "malformed XML"


class Transport:
    """Sends openml's requests: at most ``concurrency`` at a time, retried per ``policy``.

    ``sleep`` is injectable so tests can count the waits instead of sitting through them.
    ``requests_sent`` and ``retries`` count what happened (for reports and tests).
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        concurrency: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str, str, float], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.policy = policy or RetryPolicy()
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._closed = threading.Event()
        # the default sleep wakes up when the transport closes, so a stopped crawl exits now
        self._sleep = sleep if sleep is not time.sleep else self._closed.wait
        self._on_retry = on_retry
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self.requests_sent = 0
        self.last_endpoint = ""
        self.retries = 0

    # -- sessions: one per thread, for keep-alive ------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = _USER_AGENT
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Refuse further requests (a worker still running gets an error) and free sessions."""
        self._closed.set()
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    # -- the openml hook -----------------------------------------------------------------
    def send(
        self,
        request_method: str,
        url: str,
        data: dict[str, Any],
        files: Any = None,
        md5_checksum: str | None = None,
    ) -> requests.Response:
        """Drop-in for ``openml._api_calls._send_request`` (same arguments, same result)."""
        expects_xml = "/api/v1/xml/" in url or url.rstrip("/").endswith("/api/v1/xml")
        self.last_endpoint = _strip_query(url)  # named when OpenML's answer cannot be used
        failure = _Failure("no attempt made")
        for attempt in range(1, self.policy.attempts + 1):
            if self._closed.is_set():
                raise OpenMLCrawlError("the crawl was stopped")
            response: requests.Response | None = None
            with self._slots:
                with self._lock:
                    self.requests_sent += 1
                try:
                    response = self._request(request_method, url, data, files)
                except (
                    requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.Timeout,
                ) as error:
                    failure = _Failure(f"connection failed ({type(error).__name__})")
            if response is not None:
                classified = self._classify(response, request_method, expects_xml, md5_checksum)
                if classified is None:
                    return response
                failure = classified
            if attempt == self.policy.attempts:
                break
            asked = failure.retry_after_seconds
            if asked is not None and asked > self.policy.max_retry_after_seconds:
                raise OpenMLUnreachable(
                    f"OpenML at {_strip_query(url)} answered {failure.reason} and asks to wait "
                    f"{_duration(asked)} (Retry-After), longer than the "
                    f"{_duration(self.policy.max_retry_after_seconds)} mile-meta waits; "
                    "try again after that"
                )
            wait = self.policy.wait_seconds(attempt, asked)
            with self._lock:
                self.retries += 1
            if self._on_retry is not None:
                self._on_retry(url, failure.reason, wait)
            self._sleep(wait)
        raise OpenMLUnreachable(
            f"OpenML at {_strip_query(url)} failed {self.policy.attempts} times, last with "
            f"{failure.reason}; try again later or raise --retries"
        )

    def _request(
        self, method: str, url: str, data: dict[str, Any], files: Any
    ) -> requests.Response:
        session = self._session()
        timeout = self.policy.timeout_seconds
        if method == "get":
            return session.get(url, params=data, timeout=timeout)
        if method == "delete":
            return session.delete(url, params=data, timeout=timeout)
        if method == "post":
            return session.post(url, data=data, files=files, timeout=timeout)
        raise ValueError(f"unsupported HTTP method {method!r}")

    def _classify(
        self,
        response: requests.Response,
        method: str,
        expects_xml: bool,
        md5_checksum: str | None,
    ) -> _Failure | None:
        """None when the response should go back to openml; the failure when worth retrying."""
        status = response.status_code
        body = response.content
        if status == 429 or status >= 500:
            return _Failure(f"HTTP {status} ({_describe_body(body)})", _retry_after(response))
        if status == 200:
            if expects_xml and method == "get":
                tag = _first_tag(body)
                if tag is None or not tag.startswith("oml:") or not _is_well_formed(body):
                    return _Failure(f"HTTP 200 with {_describe_body(body)}")
            if md5_checksum is not None:
                import hashlib

                if hashlib.md5(body).hexdigest() != md5_checksum:
                    return _Failure("a download whose MD5 checksum does not match")
            return None
        tag = _first_tag(body)
        if tag == "oml:error" and _is_well_formed(body):
            code = _ERROR_CODE.search(body)
            if code is not None and int(code.group(1)) == DATABASE_OVERLOAD_CODE:
                return _Failure(
                    f"OpenML code {DATABASE_OVERLOAD_CODE} (database overload)",
                    _retry_after(response),
                )
            return None  # an OpenML error document: openml raises the matching exception
        raise OpenMLCrawlError(
            f"OpenML at {_strip_query(response.url or '')} answered HTTP {status} with "
            f"{_describe_body(body)}; check --server (it should end in /api/v1/xml)"
        )


def _strip_query(url: str) -> str:
    # the query string holds the API key, if one is configured
    return url.split("?", 1)[0]


_INSTALL_LOCK = threading.Lock()


@contextlib.contextmanager
def openml_client(
    transport: Transport,
    *,
    server: str | None = None,
    cache_dir: Path | None = None,
) -> Iterator[None]:
    """Point the openml client at ``server`` and ``cache_dir`` and route it through ``transport``.

    openml's configuration is module-global, so one crawl at a time per process; everything
    is restored on exit.
    """
    import openml
    import openml._api_calls as api_calls

    if not _INSTALL_LOCK.acquire(blocking=False):
        raise OpenMLCrawlError(
            "another OpenML crawl is running in this process; wait for it to finish"
        )
    config = openml.config
    saved = (
        config.server,
        config._root_cache_directory,
        config.connection_n_retries,
        api_calls._send_request,
    )
    try:
        if server is not None:
            config.server = server.rstrip("/")
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            config.set_root_cache_directory(cache_dir)
        config.connection_n_retries = 1
        api_calls._send_request = transport.send
        yield
    finally:
        (
            config.server,
            config._root_cache_directory,
            config.connection_n_retries,
            api_calls._send_request,
        ) = saved
        transport.close()
        _INSTALL_LOCK.release()
