"""``mile-meta examples``: the bundled datasets are package data, listed and found by name."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.config import resources_root
from mile_meta.examples import EXAMPLES, example_path


def test_every_example_is_package_data_with_its_target() -> None:
    for name, example in EXAMPLES.items():
        path = example_path(name)
        assert path.is_relative_to(resources_root())
        frame = pd.read_csv(path)
        assert example.target in frame.columns and len(frame) == example.rows


def test_cli_prints_the_path_and_lists() -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["examples", "credit-g"])
    assert printed.exit_code == 0 and printed.output.strip() == str(example_path("credit-g"))
    listed = json.loads(runner.invoke(main, ["examples", "--json"]).output)
    assert [row["name"] for row in listed] == list(EXAMPLES)


def test_unknown_example_is_one_line() -> None:
    result = CliRunner().invoke(main, ["examples", "nope"])
    assert result.exit_code != 0
    assert "no bundled example 'nope'; choose one of: credit-g" in result.output
