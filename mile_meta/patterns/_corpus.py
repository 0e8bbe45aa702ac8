"""The bundled pattern corpus and whole-file validation (including links between patterns)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from mile_meta.config import resources_root
from mile_meta.errors import PatternError
from mile_meta.patterns._format import read_pattern_file
from mile_meta.patterns._model import Pattern, PatternIssue

__all__ = [
    "corpus_directory",
    "corpus_files",
    "load_corpus",
    "unresolved_links",
    "validate_corpus",
    "validate_pattern_file",
]

# Files in a pattern folder that are not patterns.
_NOT_PATTERNS = frozenset({"README.md"})


def corpus_directory() -> Path:
    """The folder of the bundled corpus: ``corpora/patterns`` in the package data."""
    return resources_root() / "corpora" / "patterns"


def corpus_files(directory: str | Path | None = None) -> list[Path]:
    """The pattern files of a folder (default: the bundled corpus), sorted by name."""
    folder = Path(directory) if directory is not None else corpus_directory()
    if not folder.is_dir():
        raise PatternError(f"{folder}: pattern folder not found")
    return sorted(path for path in folder.glob("*.md") if path.name not in _NOT_PATTERNS)


def load_corpus(directory: str | Path | None = None) -> list[Pattern]:
    """Every pattern of a folder (default: the bundled corpus), without a knowledge base.

    Raises :class:`~mile_meta.errors.PatternError` for the first problem, including a
    related-pattern link that does not resolve inside the folder.
    """
    issues = validate_corpus(directory)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise PatternError(f"{issues[0]}{more}")
    patterns = []
    for path in corpus_files(directory):
        pattern, _ = read_pattern_file(path)
        assert pattern is not None
        patterns.append(pattern)
    return patterns


def validate_pattern_file(path: str | Path, known_names: Iterable[str] = ()) -> list[PatternIssue]:
    """Every problem in one pattern file, each naming its line; empty if the file is valid.

    A related-pattern link resolves when the named pattern is a file beside this one, a
    pattern of the bundled corpus, or one of ``known_names``.
    """
    pattern, issues = read_pattern_file(path)
    if pattern is None:
        return issues
    folder = Path(path).parent
    known = set(known_names)

    def resolves(name: str) -> bool:
        return (
            name in known
            or (folder / f"{name}.md").is_file()
            or (corpus_directory() / f"{name}.md").is_file()
        )

    return unresolved_links(pattern, resolves)


def validate_corpus(directory: str | Path | None = None) -> list[PatternIssue]:
    """Every problem in a folder of patterns: bad files, duplicate names, dangling links."""
    files = corpus_files(directory)
    issues: list[PatternIssue] = []
    patterns: list[Pattern] = []
    for path in files:
        pattern, found = read_pattern_file(path)
        issues += found
        if pattern is not None:
            patterns.append(pattern)
    names = {path.stem for path in files}
    for pattern in patterns:
        issues += unresolved_links(pattern, names.__contains__)
    return issues


def unresolved_links(pattern: Pattern, resolves: Callable[[str], bool]) -> list[PatternIssue]:
    """Issues for related-pattern links of ``pattern`` that ``resolves(name)`` rejects."""
    where = str(pattern.path) if pattern.path is not None else "<string>"
    issues = []
    for name in pattern.related:
        if name == pattern.name:
            message = f'related pattern "{name}" links the pattern to itself'
        elif not resolves(name):
            message = f'related pattern "{name}" not found (no file "{name}.md" in the corpus)'
        else:
            continue
        issues.append(PatternIssue(where, _line_of_link(pattern, name), message))
    return issues


def _line_of_link(pattern: Pattern, name: str) -> int:
    """The file line holding the link to ``name``, or 1 when the file cannot be reread."""
    if pattern.path is None:
        return 1
    try:
        lines = pattern.path.read_text(encoding="utf-8").split("\n")
    except OSError:
        return 1
    link = re.compile(rf"\]\(\s*(?:\./)?{re.escape(name)}\.md\s*\)")
    for number, line in enumerate(lines, start=1):
        if link.search(line):
            return number
    return 1
