"""The documentation site builds with warnings as errors, and the documented completion works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link, a missing page or a docstring the API
    reference cannot read fails the build (needs the docs extra, part of dev)."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr
    deploy = (tmp_path / "api" / "deploy" / "index.html").read_text()
    assert "load_model" in deploy and "rebuild_pipeline" in deploy  # generated from docstrings
    assert (tmp_path / "install" / "index.html").is_file()


def test_shell_completion_scripts_as_documented() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    program = [sys.executable, "-c", "from mile_meta.cli import main; main(prog_name='mile-meta')"]
    for shell in ("bash", "zsh", "fish"):
        source = subprocess.run(
            program,
            env={**env, "_MILE_META_COMPLETE": f"{shell}_source"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "_MILE_META_COMPLETE" in source, shell
    completed = subprocess.run(
        program,
        env={
            **env,
            "_MILE_META_COMPLETE": "bash_complete",
            "COMP_WORDS": "mile-meta se",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"plain,search", "plain,serve"} <= set(completed)
