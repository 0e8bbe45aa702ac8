"""The generated battery (issue 18 item 2): malformed and extreme files through every
data-taking command.

Every case must end in exit 0, or in exit 1 (runtime error) / 2 (usage error) with exactly
one ``Error:`` line naming the problem, never a traceback nor the catch-all "unexpected"
message, and the knowledge base unchanged (row counts after each case, integrity check at
the end). The named cases of the issue also check their exit status and message.

Size: ``len(named_cases())`` named cases x ``len(COMMANDS)`` commands, plus
``GENERATED_EXAMPLES`` hypothesis-generated files per command (derandomized, so CI runs the
same cases; set ``MILE_META_BATTERY_EXAMPLES`` for a deeper local run).
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from robust_inputs import FileCase, generated_files, named_cases

from mile_meta.cli import main

GENERATED_EXAMPLES = int(os.environ.get("MILE_META_BATTERY_EXAMPLES", "12"))

Argv = Callable[[Path, str, Path, Path], list[str]]

# command -> argv for (data file, target, knowledge base, scratch folder); none may write
COMMANDS: dict[str, Argv] = {
    "recommend": lambda data, target, kb, tmp: [
        "recommend",
        str(data),
        "--target",
        target,
        "--top",
        "3",
        "--no-record",
        "--kb",
        str(kb),
    ],
    "evaluate": lambda data, target, kb, tmp: [
        "evaluate",
        str(data),
        "--target",
        target,
        "--pipeline",
        "DecisionTreeClassifier",
        "--cv",
        "2",
        "--no-record",
        "--no-cache",
        "--kb",
        str(kb),
    ],
    "priors": lambda data, target, kb, tmp: [
        "priors",
        str(data),
        "--target",
        target,
        "--top",
        "2",
        "--kb",
        str(kb),
    ],
    "patterns answer": lambda data, target, kb, tmp: [
        "patterns",
        "answer",
        "baseline-before-automl",
        "--data",
        str(data),
        "--target",
        target,
        "--kb",
        str(kb),
    ],
    "search": lambda data, target, kb, tmp: [
        "search",
        str(data),
        "--target",
        target,
        "--budget",
        "3s",
        "--no-record",
        "--out",
        str(tmp / "model"),
        "--kb",
        str(kb),
    ],
}
# where the CLI prints the inferred task (the others leave it to the payload)
_TASK_LINE = {"recommend", "evaluate", "patterns answer"}
_INFO_PREFIXES = ("warning:", "task:", "skipped ")


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as connection:
        result = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("datasets", "pipelines", "evaluations", "sources", "patterns")
        }
    connection.close()
    return result


def check_case(command: str, case: FileCase, kb: Path, folder: Path, *, exact: bool) -> None:
    data = case.write(folder)
    before = counts(kb)
    with warnings.catch_warnings(record=True) as caught:
        # the CLI prints warnings as "warning: ..." lines; under pytest they are caught here
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, COMMANDS[command](data, case.target, kb, folder))
    stderr = result.stderr + "".join(f"warning: {w.message}\n" for w in caught)
    where = f"{command} on {case.name}: exit {result.exit_code}\n{stderr[-2000:]}"
    assert "Traceback" not in result.output, where
    assert result.exit_code in (0, 1, 2), where
    if result.exit_code != 0:
        errors = [
            line for line in stderr.strip().splitlines() if not line.startswith(_INFO_PREFIXES)
        ]
        assert len(errors) == 1 and errors[0].startswith("Error: "), where
        assert "unexpected" not in errors[0], where
    if exact:
        assert result.exit_code in case.codes, where
        if case.says and (result.exit_code != 0 or command in _TASK_LINE):
            assert case.says in stderr, where
    assert counts(kb) == before, where


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", named_cases(), ids=lambda case: case.name)
def test_named_bad_inputs(command: str, case: FileCase, battery_kb: Path, tmp_path: Path) -> None:
    if command == "search" and case.codes == (0,):
        pytest.skip("a valid file makes search spend its whole budget (tests/search covers that)")
    check_case(command, case, battery_kb, tmp_path, exact=True)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "search"])
def test_generated_files(command: str, battery_kb: Path, tmp_path_factory) -> None:
    @settings(
        max_examples=GENERATED_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=generated_files())
    def run(case: FileCase) -> None:
        check_case(command, case, battery_kb, tmp_path_factory.mktemp("case"), exact=True)

    run()


def test_the_knowledge_base_is_intact_after_the_battery(battery_kb: Path) -> None:
    with sqlite3.connect(battery_kb) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
