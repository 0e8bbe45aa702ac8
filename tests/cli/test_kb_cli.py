"""The kb commands through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from mile_meta.cli import _COMMANDS, main


def test_every_command_is_documented_with_an_example() -> None:
    runner = CliRunner()
    for name in main.list_commands(click.Context(main)):
        assert _COMMANDS[name][1], f"{name} has no one-line help"
        command = main.get_command(click.Context(main), name)
        assert command is not None
        commands = [command]
        for group in commands:
            if isinstance(group, click.Group):
                commands += list(group.commands.values())
        for sub in commands:
            assert sub.help and "Example" in sub.help, f"{name} {sub.name}: help lacks an example"
            for param in sub.params:
                if isinstance(param, click.Option) and param.name != "help":
                    assert param.help, f"{name} {sub.name} {param.opts[0]}: option has no help"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, result.output


def test_build_stats_show_query(tmp_path: Path) -> None:
    runner = CliRunner()
    kb = str(tmp_path / "kb.sqlite")
    built = runner.invoke(main, ["kb", "build", "--source", "oboe", "--kb", kb, "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.output)[0]["counts"]["evaluations"] == 91_542

    stats = runner.invoke(main, ["kb", "stats", "--kb", kb, "--json"])
    payload = json.loads(stats.output)
    assert payload["per_source"]["oboe"] == {
        "datasets": 418,
        "evaluations": 91_542,
        "pipelines": 219,
        "qualities": 836,
        "tasks": 418,
    }

    shown = runner.invoke(main, ["kb", "show", "dataset", "31", "--kb", kb, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["best_pipelines"]["balanced_error_rate"][0]["value"] < 0.3

    query = runner.invoke(
        main, ["kb", "query", "SELECT count(*) AS n FROM evaluations", "--kb", kb, "--json"]
    )
    assert json.loads(query.output) == [{"n": 91_542}]

    refused = runner.invoke(main, ["kb", "query", "DELETE FROM evaluations", "--kb", kb])
    assert refused.exit_code == 2 and "read-only" in refused.output


def test_wrong_kb_path_exits_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["kb", "stats", "--kb", str(tmp_path / "missing.sqlite")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "mile-meta kb build" in result.output


def test_kb_env_var_is_the_default(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("MILE_META_KB", str(path))
    result = CliRunner().invoke(main, ["kb", "build", "--source", "oboe"])
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_unknown_source_is_refused_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    result = CliRunner().invoke(
        main, ["kb", "build", "--source", "oboe", "--source", "nope", "--kb", str(path)]
    )
    assert result.exit_code == 2 and "unknown source 'nope'" in result.output
    assert not path.exists()


def test_components_names_the_metrics_it_can_rank_by(corpus_kb_path: Path) -> None:
    runner = CliRunner()
    kb = ["--kb", str(corpus_kb_path)]
    result = runner.invoke(main, ["kb", "components", "--metric", "accuracy", "--json", *kb])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["TabularPreprocessor"] > 0  # the alias resolved
    result = runner.invoke(main, ["kb", "components", "--metric", "r2", *kb])
    assert result.exit_code == 2 and "holds no r2 results; use one of" in result.output
    result = runner.invoke(main, ["kb", "components", "--metric", "acuracy", *kb])
    assert result.exit_code == 2 and "unknown metric 'acuracy'" in result.output
