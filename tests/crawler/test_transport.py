"""The transport under the real openml client: retries, backoff, Retry-After, giving up."""

from __future__ import annotations

from pathlib import Path

import pytest
from replay import ReplayServer

from mile_meta.sources.openml import OpenMLCrawlError, RetryPolicy, Transport, openml_client


class _Waits(list[float]):
    """A sleep that records how long it was asked to wait, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _fetch_task(server: ReplayServer, tmp_path: Path, transport: Transport) -> object:
    import openml

    with openml_client(transport, server=server.url, cache_dir=tmp_path / "cache"):
        return openml.tasks.get_task(1, download_splits=False)


@pytest.mark.parametrize("fault", ["code107", "html502", "drop", "malformed", "http429"])
def test_transient_faults_are_retried(
    fault: str, openml_server: ReplayServer, tmp_path: Path
) -> None:
    waits = _Waits()
    transport = Transport(
        RetryPolicy(attempts=4, first_wait_seconds=1.0, jitter_fraction=0), sleep=waits
    )
    openml_server.inject(fault, times=2)
    task = _fetch_task(openml_server, tmp_path, transport)
    assert task.task_id == 1
    assert transport.retries == 2
    assert waits == [1.0, 2.0]  # exponential backoff


def test_retry_after_is_honoured(openml_server: ReplayServer, tmp_path: Path) -> None:
    waits = _Waits()
    transport = Transport(RetryPolicy(first_wait_seconds=0.5, jitter_fraction=0), sleep=waits)
    openml_server.inject("http429", times=1, retry_after="7")
    _fetch_task(openml_server, tmp_path, transport)
    assert waits == [7.0]


def test_retry_after_really_waits(openml_server: ReplayServer, tmp_path: Path) -> None:
    import time

    transport = Transport(RetryPolicy(first_wait_seconds=0.01))
    openml_server.inject("http429", times=1, retry_after="1")
    started = time.monotonic()
    _fetch_task(openml_server, tmp_path, transport)
    assert time.monotonic() - started >= 1.0


def test_gives_up_with_a_clear_error(openml_server: ReplayServer, tmp_path: Path) -> None:
    transport = Transport(RetryPolicy(attempts=3, first_wait_seconds=0), sleep=_Waits())
    openml_server.inject("html502", times=3)
    with pytest.raises(
        OpenMLCrawlError, match=r"failed 3 times, last with HTTP 502 \(a <html> page"
    ):
        _fetch_task(openml_server, tmp_path, transport)


def test_openml_errors_pass_through(openml_server: ReplayServer, tmp_path: Path) -> None:
    import openml
    from openml.exceptions import OpenMLServerNoResult

    transport = Transport(RetryPolicy(attempts=2, first_wait_seconds=0), sleep=_Waits())
    with (
        openml_client(transport, server=openml_server.url, cache_dir=tmp_path / "cache"),
        pytest.raises(OpenMLServerNoResult),
    ):
        openml._api_calls._perform_api_call(
            "evaluation/list/function/predictive_accuracy/limit/10/offset/100000/task/1", "get"
        )
    assert transport.retries == 0


def test_the_openml_client_is_restored(openml_server: ReplayServer, tmp_path: Path) -> None:
    import openml

    before = (
        openml.config.server,
        openml._api_calls._send_request,
        openml.config.connection_n_retries,
    )
    transport = Transport(sleep=_Waits())
    with openml_client(transport, server=openml_server.url, cache_dir=tmp_path / "cache"):
        assert openml._api_calls._send_request == transport.send
        assert openml.config.server == openml_server.url
        with (
            pytest.raises(OpenMLCrawlError, match="another OpenML crawl"),
            openml_client(Transport(), server=openml_server.url),
        ):
            pass
    after = (
        openml.config.server,
        openml._api_calls._send_request,
        openml.config.connection_n_retries,
    )
    assert after == before


def test_wait_schedule() -> None:
    policy = RetryPolicy(first_wait_seconds=2.0, max_wait_seconds=10.0, jitter_fraction=0)
    assert [policy.wait_seconds(n) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.wait_seconds(1, retry_after_seconds=30.0) == 30.0
    jittered = RetryPolicy(first_wait_seconds=1.0, jitter_fraction=0.1)
    assert all(0.9 <= jittered.wait_seconds(1) <= 1.1 for _ in range(50))
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
