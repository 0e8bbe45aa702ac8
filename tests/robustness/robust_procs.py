"""Run real ``mile-meta`` processes from the checkout under test."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CSV = REPO / "corpora" / "examples" / "credit-g.csv"
_LAUNCH = "import sys; from mile_meta.cli import main; sys.exit(main())"


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env.pop("MILE_META_DEBUG", None)
    env.update(extra)
    return env


def start(args: Sequence[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    """Start ``mile-meta ARGS`` as its own process (stdout and stderr captured)."""
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", _LAUNCH, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run(args: Sequence[str], env: dict[str, str], timeout: float = 600, **kwargs: object):
    process = start(args, env, **kwargs)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def integrity(path: Path) -> tuple[str, dict[str, int]]:
    """``PRAGMA integrity_check`` and row counts of the main tables."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as connection:
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("datasets", "pipelines", "evaluations", "sources")
        }
    connection.close()
    return check, counts
