"""`mile-meta patterns ...` through click's test runner, against real knowledge-base files."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from pattern_samples import GOOD_PATTERN

from mile_meta.cli import main
from mile_meta.cli.patterns import command
from mile_meta.patterns import corpus_files, load_corpus, write_pattern


@pytest.fixture
def kb_file(patterns_kb_file, tmp_path):
    """A private copy of the session's corpus knowledge base."""
    copy = tmp_path / "kb.sqlite"
    shutil.copy(patterns_kb_file, copy)
    return copy


def run(*arguments: str):
    return CliRunner().invoke(main, ["patterns", *arguments], catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(command.commands))
def test_every_subcommand_has_help_with_an_example(name):
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "mile-meta patterns" in result.output


def test_group_is_registered_with_the_main_command():
    result = CliRunner().invoke(main, ["--help"])
    assert "patterns" in result.output
    assert set(command.commands) == {"list", "show", "search", "validate", "add", "answer"}


def test_validate_corpus_files_exits_zero():
    paths = [str(path) for path in corpus_files()]
    result = run("validate", *paths)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"{len(paths)} of {len(paths)} files valid" in result.stderr


def test_validate_reports_each_problem_on_one_line_and_exits_one(tmp_path):
    good = tmp_path / "check-the-folds.md"
    good.write_text(write_pattern(GOOD_PATTERN), encoding="utf-8")
    bad = tmp_path / "broken.md"
    bad.write_text(
        write_pattern(GOOD_PATTERN)
        .replace("name: check-the-folds", "name: broken")
        .replace("## Solution", "## Soluton")
        .replace("stages: [model validation]", "stages: [validation]")
        .replace("repeated-cv-for-small-datasets.md", "missing-pattern.md"),
        encoding="utf-8",
    )
    result = run("validate", str(good), str(bad))
    assert result.exit_code == 1
    lines = result.stdout.strip().split("\n")
    # The link is only checked once the file parses, and "Soluton" is not also "missing".
    assert len(lines) == 2
    assert lines[0].startswith(f'{bad}:3: bad value for "stages"')
    assert f"{bad}:" in lines[1] and 'unknown section "Soluton"' in lines[1]


def test_validate_reports_unresolved_links_with_their_line(tmp_path):
    path = tmp_path / "check-the-folds.md"
    text = write_pattern(GOOD_PATTERN).replace("repeated-cv-for-small-datasets", "missing-one")
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.split("\n"), 1) if "missing-one.md" in row)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.strip() == (
        f'{path}:{line}: related pattern "missing-one" not found '
        '(no file "missing-one.md" in the corpus)'
    )


def test_validate_json(tmp_path):
    path = tmp_path / "check-the-folds.md"
    path.write_text(write_pattern(GOOD_PATTERN).replace("task: binary", "task: ranking"), "utf-8")
    result = run("validate", str(path), str(corpus_files()[0]), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert [entry["valid"] for entry in payload["files"]] == [False, True]
    assert payload["files"][0]["issues"][0]["line"] == 5


def test_list_json(kb_file):
    result = run("list", "--kb", str(kb_file), "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == len(load_corpus())
    assert {"name", "title", "stages", "autonomy", "questions", "related"} <= set(rows[0])


def test_list_filters_in_text(kb_file):
    result = run("list", "--kb", str(kb_file), "--stage", "ensembling", "--level", "autopilot")
    assert result.exit_code == 0
    assert "greedy-ensemble-from-the-search-history — " in result.stdout
    assert "stack-diverse-model-families" not in result.stdout  # cruise-control only


def test_show_text_and_json(kb_file):
    result = run("show", "defaults-or-tuning", "--kb", str(kb_file))
    assert result.exit_code == 0
    assert result.stdout.startswith("---\nname: defaults-or-tuning\n")
    payload = json.loads(run("show", "defaults-or-tuning", "--kb", str(kb_file), "--json").stdout)
    assert payload["sections"]["Pattern Name"] == "Defaults or tuning?"
    assert payload["path"].endswith("corpora/patterns/defaults-or-tuning.md")


def test_search_text_and_json(kb_file):
    result = run("search", "latency ensemble", "--kb", str(kb_file), "--limit", "2")
    assert result.exit_code == 0
    assert "skip-the-ensemble-under-a-latency-budget" in result.stdout.split("\n")[0]
    hits = json.loads(
        run("search", "rare positives", "--kb", str(kb_file), "--level", "cruise", "--json").stdout
    )
    assert hits[0]["name"] == "stratified-cv-for-rare-positives"
    assert all("cruise-control" in hit["autonomy"] for hit in hits)


def test_errors_exit_two_with_a_one_line_message(kb_file):
    result = CliRunner().invoke(
        main, ["patterns", "list", "--kb", str(kb_file), "--stage", "model"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        'Error: ambiguous stage "model" (expected one of: model selection, model validation)'
    )
    result = CliRunner().invoke(main, ["patterns", "show", "nope", "--kb", str(kb_file)])
    assert result.exit_code == 2 and result.stderr.startswith('Error: no pattern named "nope"')


def test_a_mistyped_kb_is_an_error_not_a_new_empty_store(tmp_path):
    kb_path = tmp_path / "typo.sqlite"
    result = CliRunner().invoke(main, ["patterns", "list", "--kb", str(kb_path)])
    assert result.exit_code != 0
    assert "no knowledge base at" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not kb_path.exists()


def test_add_starts_a_new_knowledge_base_holding_the_corpus(tmp_path, good_text):
    kb_path = tmp_path / "new.sqlite"
    path = tmp_path / "check-the-folds.md"
    path.write_text(good_text, encoding="utf-8")
    assert run("add", str(path), "--kb", str(kb_path)).exit_code == 0
    listed = json.loads(run("list", "--kb", str(kb_path), "--json").stdout)
    assert len(listed) == len(load_corpus()) + 1


def test_first_command_on_a_fresh_machine_builds_the_default_kb(tmp_path, monkeypatch):
    """No command may leave an empty default knowledge base that `recommend` would then use."""
    from mile_meta.kb import KnowledgeBase

    default = tmp_path / "data" / "kb.sqlite"
    default.parent.mkdir()
    monkeypatch.setenv("MILE_META_KB", str(default))
    result = run("list", "--json")
    assert result.exit_code == 0
    with KnowledgeBase.open(default, must_exist=True) as kb:
        assert kb.db["evaluations"].count > 100_000
        assert kb.db["patterns"].count == len(load_corpus())
    assert not default.with_name("kb.sqlite.partial").exists()


def test_add_then_find(kb_file, tmp_path):
    path = tmp_path / "check-the-folds.md"
    path.write_text(write_pattern(GOOD_PATTERN), encoding="utf-8")
    result = run("add", str(path), "--kb", str(kb_file), "--source", "test suite")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 of 1 pattern(s) new or changed")
    again = json.loads(
        run("add", str(path), "--kb", str(kb_file), "--source", "test suite", "--json").stdout
    )
    assert again["new_or_changed"] == 0
    shown = json.loads(run("show", "check-the-folds", "--kb", str(kb_file), "--json").stdout)
    assert shown["source"] == "test suite"


def test_add_bad_file_writes_nothing(kb_file, tmp_path):
    good = tmp_path / "check-the-folds.md"
    good.write_text(write_pattern(GOOD_PATTERN), encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["patterns", "add", str(good), str(bad), "--kb", str(kb_file)]
    )
    assert result.exit_code == 1  # the file's contents: a runtime error, not a usage error
    assert f"{bad}:1: the file must start with a front-matter block" in result.stderr
    missing = CliRunner().invoke(
        main, ["patterns", "show", "check-the-folds", "--kb", str(kb_file)]
    )
    assert missing.exit_code == 2
