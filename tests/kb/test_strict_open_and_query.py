"""Opening is strict (issue 18 item 8) and `kb query` is bounded (item 5)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.errors import KnowledgeBaseError
from mile_meta.kb import KnowledgeBase

SLOW_SQL = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "kb.sqlite"
    with KnowledgeBase.open(path) as kb:
        kb.db["datasets"].insert({"dataset_id": "openml:1", "name": "one"}, alter=True)
    return path


def test_an_empty_file_is_never_turned_into_a_knowledge_base(tmp_path: Path) -> None:
    empty = tmp_path / "kb.sqlite"
    empty.touch()
    with pytest.raises(KnowledgeBaseError, match="empty file"):
        KnowledgeBase.open(empty)
    assert empty.stat().st_size == 0
    result = CliRunner().invoke(main, ["kb", "stats", "--kb", str(empty)])
    assert result.exit_code == 1 and "is an empty file (0 bytes)" in result.stderr
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["kb.sqlite"]


def test_a_foreign_file_is_refused_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database\n")
    with pytest.raises(KnowledgeBaseError, match="not an SQLite file"):
        KnowledgeBase.open(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(KnowledgeBaseError, match="another application"):
        KnowledgeBase.open(other)
    with sqlite3.connect(other) as connection:
        assert [r[0] for r in connection.execute("SELECT name FROM sqlite_master")] == ["t"]
    connection.close()


def test_mile_meta_kb_into_a_missing_folder_is_refused_like_kb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "no-such-folder" / "kb.sqlite"
    monkeypatch.setenv("MILE_META_KB", str(typo))
    example = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"
    for argv in (["kb", "stats"], ["recommend", str(example), "--target", "class"]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2, result.output
        assert "MILE_META_KB=" in result.stderr and "does not exist" in result.stderr
    as_option = CliRunner().invoke(main, ["kb", "build", "--kb", str(typo)])
    assert as_option.exit_code == 2 and "does not exist" in as_option.stderr
    assert not typo.parent.exists()
    monkeypatch.setenv("MILE_META_KB", str(tmp_path))
    folder = CliRunner().invoke(main, ["kb", "stats"])
    assert folder.exit_code == 2 and "is a folder" in folder.stderr


def test_query_times_out(small_kb: Path) -> None:
    with KnowledgeBase.open(small_kb) as kb:
        started = time.monotonic()
        with pytest.raises(KnowledgeBaseError, match=r"time limit of 0\.5 s"):
            kb.query(SLOW_SQL, timeout=0.5)
        assert time.monotonic() - started < 5
    result = CliRunner().invoke(
        main, ["kb", "query", SLOW_SQL, "--timeout", "0.3", "--kb", str(small_kb)]
    )
    assert result.exit_code == 1 and "--timeout" in result.stderr


def test_query_stops_on_ctrl_c(small_kb: Path) -> None:
    """SIGINT reaches the process while SQLite runs in C; the progress handler stops it."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from mile_meta.cli import main; sys.exit(main())",
            "kb",
            "query",
            SLOW_SQL,
            "--timeout",
            "0",
            "--kb",
            str(small_kb),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)  # started and inside the query
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert process.returncode != 0 and "Traceback" not in err


def test_query_creates_nothing_on_disk(small_kb: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    with KnowledgeBase.open(small_kb) as kb:
        with pytest.raises(KnowledgeBaseError, match="cannot ATTACH"):
            kb.query(f"ATTACH DATABASE '{target}' AS x")
        with pytest.raises(KnowledgeBaseError, match="read-only"):
            kb.query("CREATE TABLE t (x)")
    assert not target.exists()
    result = CliRunner().invoke(
        main, ["kb", "query", f"ATTACH '{target}' AS x", "--kb", str(small_kb)]
    )
    assert result.exit_code == 2 and not target.exists()


def test_query_limits_the_rows_shown(small_kb: Path) -> None:
    sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 50) SELECT i FROM n"
    result = CliRunner().invoke(main, ["kb", "query", sql, "--limit", "10", "--kb", str(small_kb)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["i", *map(str, range(1, 11))]
    assert "first 10 rows shown" in result.stderr
    everything = CliRunner().invoke(
        main, ["kb", "query", sql, "--limit", "0", "--kb", str(small_kb)]
    )
    assert len(everything.stdout.splitlines()) == 51 and everything.stderr == ""


def test_writers_take_the_lock_up_front_and_wait(small_kb: Path, tmp_path: Path) -> None:
    """A second writer waits for the first (BEGIN IMMEDIATE + busy timeout), then lands."""
    import shutil

    path = tmp_path / "kb.sqlite"
    shutil.copy(small_kb, path)
    first = KnowledgeBase.open(path)
    landed = threading.Event()

    def write_second() -> None:
        with KnowledgeBase.open(path) as second, second.transaction():
            second.db.execute(
                "INSERT INTO datasets (dataset_id, name) VALUES ('openml:3', 'three')"
            )
        landed.set()

    with first.transaction():
        first.db.execute("INSERT INTO datasets (dataset_id, name) VALUES ('openml:2', 'two')")
        thread = threading.Thread(target=write_second)
        thread.start()
        time.sleep(0.5)
        assert not landed.is_set()  # queued behind the first writer
    thread.join(timeout=30)
    assert landed.is_set()
    rows = first.db.execute("SELECT count(*) FROM datasets").fetchone()[0]
    assert rows == 3
    first.close()
