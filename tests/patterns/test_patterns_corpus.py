"""The bundled corpus: every file valid, links resolve, stages and autonomy levels covered."""

from __future__ import annotations

from collections import Counter

import pytest

from mile_meta.patterns import (
    AUTONOMY_LEVELS,
    KNOWN_QUESTIONS,
    STAGES,
    corpus_directory,
    corpus_files,
    load_corpus,
    validate_corpus,
    validate_pattern_file,
)

# The stages from cleaning through model validation must each be well covered.
CORE_STAGES = (
    "cleaning",
    "feature engineering",
    "model selection",
    "hyperparameter optimization & architecture search",
    "ensembling",
    "model validation",
)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_corpus_is_valid():
    assert validate_corpus() == []


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.stem)
def test_every_corpus_file_validates(path):
    assert validate_pattern_file(path) == []


def test_corpus_size_and_unique_names(corpus):
    assert len(corpus) >= 32
    names = [pattern.name for pattern in corpus]
    assert len(set(names)) == len(names)
    assert all(pattern.path is not None and pattern.path.stem == pattern.name for pattern in corpus)


def test_every_stage_from_cleaning_to_validation_has_several_patterns(corpus):
    per_stage = Counter(stage for pattern in corpus for stage in pattern.stages)
    for stage in CORE_STAGES:
        assert per_stage[stage] >= 4, (stage, per_stage[stage])
    for stage in ("data acquisition", "labeling", "deployment", "monitoring", "improvement"):
        assert per_stage[stage] >= 1, stage
    assert set(per_stage) == set(STAGES)


def test_every_autonomy_level_has_several_patterns(corpus):
    per_level = Counter(level for pattern in corpus for level in pattern.autonomy)
    assert set(per_level) == set(AUTONOMY_LEVELS)
    assert min(per_level.values()) >= 8


def test_every_question_serves_some_pattern(corpus):
    used = Counter(question for pattern in corpus for question in pattern.questions)
    assert set(used) == set(KNOWN_QUESTIONS)


def test_every_pattern_links_to_another_that_exists(corpus):
    names = {pattern.name for pattern in corpus}
    for pattern in corpus:
        assert pattern.related, f"{pattern.name} links to no related pattern"
        assert set(pattern.related) <= names


def test_patterns_are_concrete(corpus):
    # A practitioner's account has numbers in its context: sizes, budgets, rates.
    for pattern in corpus:
        assert any(character.isdigit() for character in pattern.context), pattern.name
        assert len(pattern.solution.split()) >= 60, pattern.name


def test_readme_states_template_and_licence():
    readme = (corpus_directory() / "README.md").read_text(encoding="utf-8")
    assert "CC-BY-4.0" in readme
    assert "mile-meta developers" in readme
    assert "## Information Need" in readme
