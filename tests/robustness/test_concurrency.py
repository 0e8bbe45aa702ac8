"""Several real ``mile-meta`` processes at once on one knowledge base (issue 18, item 1).

A fresh path: N processes starting together make one build and N working commands; an
interrupted build leaves nothing a later command trips on; concurrent writers (local runs of
``evaluate``) all land.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from robust_procs import EXAMPLE_CSV, cli_env, integrity, run, start

N_PROCESSES = 4


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def test_n_builds_of_a_new_file_at_once_make_one_knowledge_base(tmp_path: Path) -> None:
    """Two `kb build --kb X` on a new X used to crash the second ('X.partial' -> 'X')."""
    kb = tmp_path / "kb.sqlite"
    env = cli_env()
    processes = [
        start(["kb", "build", "--source", "oboe", "--kb", str(kb), "--json"], env)
        for _ in range(N_PROCESSES)
    ]
    results = [(p.wait(timeout=900), *p.communicate()) for p in processes]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)[0]["counts"]["evaluations"] == 91_542
        assert "Traceback" not in err
    # one ingested; the others waited on the lock and found the same corpus already in
    assert sum(json.loads(out)[0]["seconds"] > 0 for _, out, _ in results) == 1
    check, counts = integrity(kb)
    assert check == "ok"
    assert counts["evaluations"] == 91_542
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_first_use_of_the_default_from_n_processes_builds_it_once(tmp_path: Path) -> None:
    """N commands on a fresh install: one builds the default, the others wait and then work."""
    default = tmp_path / "data" / "kb.sqlite"
    default.parent.mkdir()
    env = cli_env(MILE_META_KB=str(default))
    processes = [start(["kb", "stats", "--json"], env) for _ in range(N_PROCESSES)]
    results = [(p.wait(timeout=1800), *p.communicate()) for p in processes]
    builders = 0
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
        assert json.loads(out)["totals"]["evaluations"] > 100_000
        builders += "building the default knowledge base" in err
    assert builders == 1
    assert integrity(default)[0] == "ok"
    assert _leftovers(default.parent) == []


def test_a_killed_build_leaves_nothing_a_later_command_trips_on(tmp_path: Path) -> None:
    kb = tmp_path / "kb.sqlite"
    env = cli_env()
    process = start(["kb", "build", "--source", "oboe", "--source", "lcdb", "--kb", str(kb)], env)
    deadline = time.monotonic() + 120
    # kill -9 once the build is writing its .partial file
    while not any(tmp_path.glob("kb.sqlite.partial*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not kb.exists()
    missing = run(["kb", "stats", "--kb", str(kb)], env)
    assert missing[0] == 2 and "no knowledge base at" in missing[2]
    code, _out, err = run(["kb", "build", "--source", "oboe", "--kb", str(kb), "--json"], env)
    assert code == 0, err
    assert integrity(kb) == ("ok", integrity(kb)[1])
    assert integrity(kb)[1]["evaluations"] == 91_542
    assert _leftovers(tmp_path) == []


def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    """N `evaluate` processes recording local runs into one file at the same time."""
    kb = tmp_path / "kb.sqlite"
    env = cli_env()
    assert run(["kb", "build", "--source", "oboe", "--kb", str(kb)], env)[0] == 0
    before = integrity(kb)[1]["evaluations"]
    pipelines = [
        "GaussianNB",
        "DecisionTreeClassifier",
        "LogisticRegression",
        "KNeighborsClassifier",
    ]
    processes = [
        start(
            [
                "evaluate",
                str(EXAMPLE_CSV),
                "--target",
                "class",
                "--pipeline",
                name,
                "--cv",
                "3",
                "--no-cache",
                "--kb",
                str(kb),
                "--json",
            ],
            env,
        )
        for name in pipelines[:N_PROCESSES]
    ]
    for process in processes:
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, err
        assert json.loads(out)["recorded"] is True
    check, counts = integrity(kb)
    assert check == "ok"
    assert counts["evaluations"] == before + 3 * N_PROCESSES


def _make_read_only(*paths: Path) -> list[list[str]]:
    """Read-only for this process: permissions for a user, the immutable flag for root."""
    import os
    import subprocess

    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return [["chmod", "u+w", str(path)] for path in paths]
    # root writes through any permission bits; the immutable attribute stops it (and makes
    # access(2) say so, as a read-only medium would)
    flagged = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
    if flagged.returncode != 0:
        pytest.skip(f"cannot make a file read-only for root here: {flagged.stderr!r}")
    return [["chattr", "-i", *map(str, paths)]]


def test_a_read_only_knowledge_base_keeps_the_result(tmp_path: Path) -> None:
    """Checked before the work: evaluate says the run cannot be recorded and still reports it;
    kb build refuses at once, before ingesting anything; kb query still reads."""
    import subprocess

    kb = tmp_path / "ro" / "kb.sqlite"
    kb.parent.mkdir()
    env = cli_env(MILE_META_CACHE=str(tmp_path / "cache"))
    assert run(["kb", "build", "--source", "oboe", "--kb", str(kb)], env)[0] == 0
    before = integrity(kb)
    undo = _make_read_only(kb, kb.parent)
    try:
        code, out, err = run(
            [
                "evaluate",
                str(EXAMPLE_CSV),
                "--target",
                "class",
                "--pipeline",
                "GaussianNB",
                "--cv",
                "3",
                "--no-cache",
                "--kb",
                str(kb),
            ],
            env,
        )
        assert code == 0, err
        assert "is read-only; this run will not be recorded" in err
        assert "balanced_accuracy:" in out and "recorded as" not in out
        started = time.monotonic()
        code, out, err = run(["kb", "build", "--source", "lcdb", "--kb", str(kb)], env)
        assert code == 1 and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and "read-only" in err
        assert time.monotonic() - started < 30  # refused before ingesting
        code, out, err = run(
            ["kb", "query", "SELECT count(*) AS n FROM evaluations", "--kb", str(kb), "--json"],
            env,
        )
        assert code == 0, err
        assert json.loads(out) == [{"n": before[1]["evaluations"]}]
    finally:
        for command in undo:
            subprocess.run(command, check=True)
    assert integrity(kb) == before
