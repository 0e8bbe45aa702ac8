"""CLI conventions (issue 15 item 6) and task inference (issue 13 item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.config import resources_root
from mile_meta.metafeatures._table import explain_task_type

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


def _coded_classes(path: Path, n_rows: int = 5_500, n_classes: int = 11) -> Path:
    rng = np.random.default_rng(0)
    codes = np.arange(n_rows) % n_classes
    frame = pd.DataFrame(
        {"f1": rng.normal(size=n_rows) + codes, "f2": rng.normal(size=n_rows), "y": codes}
    )
    frame.to_csv(path, index=False)
    return path


# -- exit codes ------------------------------------------------------------------------------
def test_usage_errors_exit_2_and_runtime_errors_exit_1(
    corpus_kb_path: Path, tmp_path: Path
) -> None:
    kb = ["--kb", str(corpus_kb_path)]
    runner = CliRunner()
    usage = [
        ["recommend", str(EXAMPLE), "--target", "klass", *kb],  # unknown column
        ["recommend", str(EXAMPLE), "--target", "class", "--metric", "acuracy", *kb],
        ["recommend", str(tmp_path / "missing.csv"), "--target", "class", *kb],
        ["recommend", str(EXAMPLE), *kb],  # click: missing --target
        ["kb", "show", "dataset", "no-such-dataset", *kb],
    ]
    for argv in usage:
        result = runner.invoke(main, argv)
        assert result.exit_code == 2, (argv, result.output)
        assert "Traceback" not in result.output
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\x00\x01binary")
    runtime = [
        ["recommend", str(broken), "--target", "class", *kb],
        ["kb", "stats", "--kb", str(broken)],  # not a knowledge base
    ]
    for argv in runtime:
        result = runner.invoke(main, argv)
        assert result.exit_code == 1, (argv, result.output)
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_bug_is_one_line_with_how_to_get_the_traceback(
    corpus_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mile_meta.kb import KnowledgeBase

    def broken(self: KnowledgeBase) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(KnowledgeBase, "stats", broken)
    result = CliRunner().invoke(main, ["kb", "stats", "--kb", str(corpus_kb_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: unexpected RuntimeError: boom (a bug in mile-meta; rerun with "
        "MILE_META_DEBUG=1 for the traceback and report it)"
    )


# -- piped output ----------------------------------------------------------------------------
def test_piped_tables_are_not_cut_to_80_columns(corpus_kb_path: Path, tmp_path: Path) -> None:
    # a long path makes the table's title wider than 80 columns
    deep = tmp_path / ("a-rather-long-folder-name-" * 4)
    deep.mkdir()
    kb = deep / "kb.sqlite"
    kb.symlink_to(corpus_kb_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mile_meta.cli import main; sys.exit(main())",
            "kb",
            "stats",
            "--kb",
            str(kb),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert str(kb) in result.stdout  # whole, not "…"
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) > 80
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe


# -- patterns validate with the documented glob -----------------------------------------------
def test_patterns_validate_accepts_the_documented_glob() -> None:
    folder = resources_root() / "corpora" / "patterns"
    files = sorted(str(p) for p in folder.glob("*.md"))
    assert any(f.endswith("README.md") for f in files)
    result = CliRunner().invoke(main, ["patterns", "validate", *files])
    assert result.exit_code == 0, result.output
    assert "README.md (not a pattern)" in result.stderr
    assert f"{len(files) - 1} of {len(files) - 1} files valid" in result.stderr
    only_readme = CliRunner().invoke(main, ["patterns", "validate", str(folder / "README.md")])
    assert only_readme.exit_code == 2


# -- task inference --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "metric", "expected", "why"),
    [
        (np.arange(5_500) % 11, None, "multiclass", "11 consecutive whole numbers"),
        (np.arange(300) % 4 + 1, None, "multiclass", "class codes"),
        # rings-like counts: few values relative to the rows but with gaps in the tail
        (np.r_[np.arange(1, 28).repeat(150), [29] * 40], None, "regression", "gaps"),
        (np.arange(200) % 50, None, "regression", "distinct numbers"),  # 25 % of the rows
        (np.arange(200) % 50, "balanced_accuracy", "multiclass", "classification metric"),
        (np.arange(5_500) % 11, "rmse", "regression", "regression metric"),
        (np.linspace(0, 1, 100), None, "regression", "distinct numbers"),
    ],
)
def test_explain_task_type(values: np.ndarray, metric: str | None, expected: str, why: str) -> None:
    task, reason = explain_task_type(pd.Series(values), metric)
    assert task == expected and why in reason


def test_integer_coded_classes_are_multiclass_without_task(
    corpus_kb_path: Path, tmp_path: Path
) -> None:
    data = _coded_classes(tmp_path / "coded.csv")
    kb = ["--kb", str(corpus_kb_path)]
    result = CliRunner().invoke(main, ["recommend", str(data), "--target", "y", "--top", "2", *kb])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("task: multiclass, inferred from 'y': it holds 11 consecutive")
    assert "(pass --task to override)" in result.stderr
    with_metric = CliRunner().invoke(
        main,
        [
            "recommend",
            str(data),
            "--target",
            "y",
            "--metric",
            "balanced_accuracy",
            "--top",
            "2",
            *kb,
        ],
    )
    assert with_metric.exit_code == 0, with_metric.output
    overridden = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(data),
            "--target",
            "y",
            "--task",
            "regression",
            "--pipeline",
            "Ridge",
            "--cv",
            "2",
            "--no-record",
            "--no-cache",
            *kb,
        ],
    )
    assert overridden.exit_code == 0, overridden.output
    assert "task:" not in overridden.stderr  # given, not inferred
    assert "root_mean_squared_error" in overridden.stdout
