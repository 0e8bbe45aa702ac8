"""Parsing and writing pattern files: good files, every kind of bad file, round-trips."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pattern_samples import GOOD_PATTERN

from mile_meta.errors import MileMetaError, PatternError
from mile_meta.patterns import (
    AUTONOMY_LEVELS,
    DATA_SIZES,
    DATA_TYPES,
    KNOWN_QUESTIONS,
    SECTIONS,
    STAGES,
    TASKS,
    Pattern,
    load_pattern,
    parse_pattern,
    validate_pattern_file,
    write_pattern,
)


def _line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


def test_known_questions_are_the_agreed_ids():
    assert KNOWN_QUESTIONS == (
        "what_to_try_first",
        "which_hyperparameters_matter",
        "how_much_more_data_helps",
        "expected_fit_time",
        "small_sample_reliability",
        "similar_datasets",
        "how_candidates_compare",
    )


def test_good_text_parses_to_the_pattern(good_text):
    pattern = parse_pattern(good_text)
    assert pattern == GOOD_PATTERN
    assert pattern.related == ("repeated-cv-for-small-datasets",)
    assert pattern.section_text("Information Need").startswith("How much")


def test_load_pattern_records_the_path(write_file, good_text):
    path = write_file("check-the-folds", good_text)
    pattern = load_pattern(path)
    assert pattern.path == path
    assert pattern == GOOD_PATTERN  # the path does not take part in equality


def test_pattern_is_frozen():
    with pytest.raises(AttributeError):
        GOOD_PATTERN.name = "other"  # type: ignore[misc]


def test_writer_puts_sections_in_template_order(good_text):
    headings = [line[3:] for line in good_text.split("\n") if line.startswith("## ")]
    assert headings == list(SECTIONS)
    assert good_text.startswith("---\nname: check-the-folds\n")
    assert "author: Test Author" in good_text
    assert "source:" not in good_text  # empty optional keys are left out


def test_crlf_line_endings_and_byte_order_mark_are_accepted(good_text):
    assert parse_pattern("\ufeff" + good_text.replace("\n", "\r\n")) == GOOD_PATTERN


def test_quoted_scalars_round_trip():
    pattern = replace(GOOD_PATTERN, author='"Quoted", [bracketed]', source="  padded  ")
    text = write_pattern(pattern)
    assert 'author: "\\"Quoted\\", [bracketed]"' in text
    assert parse_pattern(text) == pattern


# -- bad files --------------------------------------------------------------------------


def _error(text: str, path: str = "corpora/patterns/check-the-folds.md") -> str:
    with pytest.raises(PatternError) as caught:
        parse_pattern(text, path)
    message = str(caught.value)
    assert "\n" not in message, "error messages are one line"
    assert isinstance(caught.value, MileMetaError)
    return message


def test_unknown_section_names_file_line_and_expected_sections(good_text):
    text = good_text.replace("## Solution", "## Soluton")
    line = _line_of(text, "## Soluton")
    message = _error(text)
    assert message.startswith(
        f'corpora/patterns/check-the-folds.md:{line}: unknown section "Soluton"'
    )
    assert 'did you mean "Solution"?' in message
    assert "expected one of: Pattern Name, Context," in message


def test_missing_section_names_where_it_was_expected(good_text):
    text = re.sub(r"## Goal\n\nA stable estimate.\n\n", "", good_text)
    message = _error(text)
    line = _line_of(text, "## Information Need")
    assert message.startswith(f"corpora/patterns/check-the-folds.md:{line}: ")
    assert 'missing section "Goal" (expected before "Information Need")' in message


def test_missing_last_section(good_text):
    text = good_text.split("## Known Uses & Limitations")[0]
    message = _error(text)
    assert 'missing section "Known Uses & Limitations" (expected at the end)' in message


def test_out_of_order_section(good_text):
    goal = "## Goal\n\nA stable estimate.\n\n"
    text = good_text.replace(goal, "").replace("## Rationale", goal + "## Rationale")
    message = _error(text)
    assert f":{_line_of(text, '## Goal')}: " in message
    assert 'section "Goal" is out of order: it must come before "Information Need"' in message


def test_repeated_section(good_text):
    text = good_text + "\n## Context\n\nAgain.\n"
    message = _error(text)
    assert 'section "Context" appears twice (first on line' in message


def test_empty_section(good_text):
    text = good_text.replace("A stable estimate.", "")
    assert 'section "Goal" is empty' in _error(text)


def test_title_must_be_one_line(good_text):
    text = good_text.replace("Check the folds\n", "Check the folds\nand more\n")
    assert 'section "Pattern Name" must be one line' in _error(text)


def test_text_before_the_first_section(good_text):
    text = good_text.replace("---\n\n## Pattern Name", "---\n\nStray text\n\n## Pattern Name")
    message = _error(text)
    assert f":{_line_of(text, 'Stray text')}: text before the first section" in message


def test_bad_stage_value_names_the_line_and_the_allowed_stages(good_text):
    text = good_text.replace("stages: [model validation]", "stages: [model validaton, cleaning]")
    message = _error(text)
    assert message.startswith("corpora/patterns/check-the-folds.md:3: ")
    assert 'bad value for "stages": "model validaton"' in message
    assert 'did you mean "model validation"?' in message
    assert "data acquisition" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("autonomy: [user-driven, cruise-control]", "autonomy: [autopilot, manual]", '"manual"'),
        ("task: binary", "task: ranking", 'bad value for "task": "ranking"'),
        ("data_type: tabular", "data_type: graph", 'bad value for "data_type"'),
        ("data_size: small", "data_size: tiny", 'bad value for "data_size"'),
        (
            "questions: [small_sample_reliability]",
            "questions: [answer_everything]",
            'bad value for "questions": "answer_everything"',
        ),
        ("questions: [small_sample_reliability]", "questions: []", '"questions" must name'),
        ("stages: [model validation]", "stages: model validation", "expected a list like [a, b]"),
        ("task: binary", "task: [binary]", "expected a single value"),
        (
            "tags: [cross-validation, variance]",
            "tags: [Cross_Validation]",
            'bad tag "Cross_Validation"',
        ),
        ("tags: [cross-validation, variance]", "tags: [a, , b]", "empty item"),
        (
            "stages: [model validation]",
            "stages: [cleaning, cleaning]",
            "lists cleaning more than once",
        ),
        ("name: check-the-folds", "name: Check The Folds", 'bad name "Check The Folds"'),
        (
            "name: check-the-folds",
            "name: other-name",
            'does not match the file name "check-the-folds.md"',
        ),
        ("task: binary", "task: binary\ncolour: blue", 'unknown front-matter key "colour"'),
        ("task: binary", "task: binary\ntask: regression", 'key "task" given twice (first on line'),
        ("task: binary", "this is not a key value line", "front-matter line is not `key: value`"),
        ("author: Test Author", 'author: "unterminated', "malformed quoted string"),
        ("task: binary\n", "", 'missing front-matter key "task"'),
    ],
)
def test_bad_front_matter(good_text, old, new, expected):
    assert old in good_text
    text = good_text.replace(old, new, 1)
    message = _error(text)
    assert expected in message
    assert re.match(r"^corpora/patterns/check-the-folds\.md:\d+: ", message)


def test_front_matter_must_open_and_close(good_text):
    assert "must start with a front-matter block" in _error("## Pattern Name\n\nX\n")
    assert "never closed" in _error(good_text.replace("---\n\n## Pattern", "\n## Pattern", 1))


def test_all_problems_are_reported_by_validate(write_file, good_text):
    text = good_text.replace("task: binary", "task: ranking").replace("## Goal", "## Goals")
    path = write_file("check-the-folds", text)
    issues = validate_pattern_file(path)
    messages = [issue.message for issue in issues]
    assert any("ranking" in message for message in messages)
    assert any('unknown section "Goals"' in message for message in messages)
    assert [issue.line for issue in issues] == sorted(issue.line for issue in issues)
    assert str(issues[0]).startswith(f"{path}:{issues[0].line}: ")
    with pytest.raises(PatternError, match=r"\(and \d+ more\)"):
        load_pattern(path)


def test_unreadable_files_are_issues_not_crashes(tmp_path):
    missing = validate_pattern_file(tmp_path / "nope.md")
    assert len(missing) == 1 and "cannot read file" in missing[0].message
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "not UTF-8" in validate_pattern_file(binary)[0].message


# -- round trips ------------------------------------------------------------------------

_SLUG = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
_TAG = st.from_regex(r"[a-z0-9]{1,6}([ -][a-z0-9]{1,6})?", fullmatch=True)
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r")


def _is_section_text(text: str) -> bool:
    return (
        bool(text)
        and text == text.strip()
        and not any(re.match(r"##(?!#)", line) for line in text.split("\n"))
    )


# Stripping instead of filtering keeps hypothesis from discarding most examples.
_SECTION_TEXT = st.text(_CHARS, min_size=1, max_size=40).map(str.strip).filter(_is_section_text)
_TITLE = _SECTION_TEXT.map(lambda text: text.replace("\n", " ")).filter(_is_section_text)
_SCALAR = st.text(_CHARS, max_size=30)


def _subset(choices: tuple[str, ...], min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(choices), min_size=min_size, unique=True).map(tuple)


_PATTERNS = st.builds(
    Pattern,
    name=_SLUG,
    title=_TITLE,
    stages=_subset(STAGES),
    autonomy=_subset(AUTONOMY_LEVELS),
    task=st.sampled_from(TASKS),
    data_type=st.sampled_from(DATA_TYPES),
    data_size=st.sampled_from(DATA_SIZES),
    tags=st.lists(_TAG, unique=True, max_size=4).map(tuple),
    questions=_subset(KNOWN_QUESTIONS),
    context=_SECTION_TEXT,
    problem=_SECTION_TEXT,
    forces=_SECTION_TEXT,
    goal=_SECTION_TEXT,
    information_need=_SECTION_TEXT,
    solution=_SECTION_TEXT,
    result=_SECTION_TEXT,
    rationale=_SECTION_TEXT,
    related_patterns=_SECTION_TEXT,
    known_uses=_SECTION_TEXT,
    author=_SCALAR,
    source=_SCALAR,
)


@settings(max_examples=100, deadline=None)
@given(_PATTERNS)
def test_parse_of_write_is_identity(pattern):
    text = write_pattern(pattern)
    assert parse_pattern(text) == pattern
    assert write_pattern(parse_pattern(text)) == text


def test_every_corpus_file_round_trips():
    from mile_meta.patterns import load_corpus

    for pattern in load_corpus():
        assert parse_pattern(write_pattern(pattern)) == pattern
