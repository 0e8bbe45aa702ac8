"""`mile-meta patterns answer` and `answer_pattern` against a real knowledge-base file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mile_meta.cli import main

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "corpora" / "examples" / "credit-g.csv"


def run(*arguments: str):
    return CliRunner().invoke(main, ["patterns", *arguments], catch_exceptions=False)


def test_answer_prints_each_question_with_its_evidence(module_kb_path):
    result = run(
        "answer",
        "will-more-data-help",
        "--data",
        str(EXAMPLE_CSV),
        "--target",
        "class",
        "--kb",
        str(module_kb_path),
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("will-more-data-help — ")
    assert "for credit-g (1,000 rows, 20 features, binary); 2 questions" in out
    first = out.index("== how_much_more_data_helps:")
    second = out.index("== expected_fit_time:")
    assert first < second  # the pattern's order
    assert out.count("evidence: sources: ") == 2
    assert "Doubling credit-g from 1,000 to 2,000 rows" in out


def test_answer_json_parses_and_follows_the_pattern(module_kb_path):
    from mile_meta.kb import KnowledgeBase
    from mile_meta.patterns import get_pattern

    name = "tune-only-the-hyperparameters-that-matter"
    result = run(
        "answer",
        name,
        "--data",
        str(EXAMPLE_CSV),
        "--target",
        "class",
        "--kb",
        str(module_kb_path),
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    with KnowledgeBase.open(module_kb_path, must_exist=True) as kb:
        expected = list(get_pattern(kb, name).questions)
    assert [a["question"] for a in payload["answers"]] == expected
    assert payload["dataset"] == {
        "name": "credit-g",
        "rows": 1000,
        "features": 20,
        "task_type": "binary",
    }
    for answer in payload["answers"]:
        assert answer["answered"], answer["summary"]
        assert answer["table"] and answer["evidence"]["datasets"]


def test_unknown_pattern_exits_2_with_one_line(module_kb_path):
    result = run(
        "answer",
        "will-more-data-hepl",
        "--data",
        str(EXAMPLE_CSV),
        "--target",
        "class",
        "--kb",
        str(module_kb_path),
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('Error: no pattern named "will-more-data-hepl"')
    assert "will-more-data-help" in lines[0]  # the suggestion


def test_missing_target_column_exits_2(module_kb_path):
    result = run(
        "answer",
        "will-more-data-help",
        "--data",
        str(EXAMPLE_CSV),
        "--target",
        "klass",
        "--kb",
        str(module_kb_path),
    )
    assert result.exit_code == 2
    assert "target column 'klass' not found" in result.stderr


def test_without_lcdb_the_curve_questions_say_how_to_add_it(writable_kb_path, credit_g):
    from mile_meta.kb import KnowledgeBase
    from mile_meta.questions import QuestionContext, answer_question

    with KnowledgeBase.open(writable_kb_path, must_exist=True) as kb:
        with kb.transaction():
            kb.db.execute("DELETE FROM evaluations WHERE source = 'lcdb'")
        context = QuestionContext(credit_g, kb)
        for question_id in ("how_much_more_data_helps", "small_sample_reliability"):
            answer = answer_question(question_id, credit_g, kb, context=context)
            assert not answer.answered
            assert "mile-meta kb build --source lcdb" in answer.summary
        fit = answer_question("expected_fit_time", credit_g, kb, context=context)
    assert fit.answered
    assert "linear growth assumed" in fit.summary
    assert {row.rows_exponent for row in fit.table} == {1.0}


@pytest.mark.parametrize("name", ["answer"])
def test_answer_help_has_an_example(name):
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "mile-meta patterns answer" in result.output
