"""``mile-meta crawl`` and ``mile-meta crawl status`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import PAGE_SIZE
from replay import ReplayServer

from mile_meta.cli import main


def _crawl(server: ReplayServer, tmp_path: Path, *arguments: str) -> list[str]:
    return [
        "crawl",
        *arguments,
        "--kb",
        str(tmp_path / "kb.sqlite"),
        "--server",
        server.url,
        "--cache",
        str(tmp_path / "cache"),
        "--page-size",
        str(PAGE_SIZE),
        "--retry-wait",
        "0.01",
    ]


def test_crawl_then_status(openml_server: ReplayServer, tmp_path: Path) -> None:
    runner = CliRunner()
    crawled = runner.invoke(
        main, _crawl(openml_server, tmp_path, "--task", "3", "--task", "1", "--json")
    )
    assert crawled.exit_code == 0, crawled.output
    report = json.loads(crawled.output)
    assert report["evaluations_written"] == 46 + 45
    assert report["scopes"] == ["tasks:1,3"]

    status = runner.invoke(main, ["crawl", "status", "--kb", str(tmp_path / "kb.sqlite"), "--json"])
    payload = json.loads(status.output)
    assert payload["evaluations"] == 91 and payload["datasets_without_qualities"] == 1
    assert payload["scopes"][0]["finished"] is True
    assert 0 < payload["translated_share"] < 1

    text = runner.invoke(main, ["crawl", "status", "--kb", str(tmp_path / "kb.sqlite")])
    assert "tasks:1,3: 2/2 listings done, 91 evaluations" in text.output


def test_dry_run_prints_the_plan_and_writes_nothing(
    openml_server: ReplayServer, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, _crawl(openml_server, tmp_path, "--suite", "OpenML-CC18", "--dry-run")
    )
    assert result.exit_code == 0, result.output
    assert "would fetch 3 tasks" in result.output
    assert "task/1882      predictive_accuracy      list all evaluations" in result.output
    assert not (tmp_path / "kb.sqlite").exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    nothing = runner.invoke(main, ["crawl", "--kb", str(tmp_path / "kb.sqlite")])
    assert nothing.exit_code == 2 and "Error: nothing to crawl" in nothing.output
    two = runner.invoke(
        main, ["crawl", "--suite", "99", "--flow", "5", "--kb", str(tmp_path / "kb.sqlite")]
    )
    assert two.exit_code == 2 and "pass one scope" in two.output
    missing = runner.invoke(main, ["crawl", "status", "--kb", str(tmp_path / "absent.sqlite")])
    assert missing.exit_code == 2 and "no knowledge base at" in missing.output
    server = runner.invoke(
        main,
        ["crawl", "--task", "3", "--server", "www.openml.org", "--kb", str(tmp_path / "k.sqlite")],
    )
    assert server.exit_code == 2 and "is not a URL" in server.output
