"""Reading and writing pattern files: front matter plus ``## `` sections in a fixed order.

The front matter is a deliberately small, strict subset of YAML: one ``key: value`` or
``key: [a, b]`` per line, values quoted with JSON double quotes only when they would
otherwise be ambiguous. Keeping it this small means no YAML dependency and no surprises
(YAML would read ``task: no`` as ``False``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from mile_meta.errors import PatternError
from mile_meta.patterns._model import (
    AUTONOMY_LEVELS,
    DATA_SIZES,
    DATA_TYPES,
    KNOWN_QUESTIONS,
    SECTIONS,
    STAGES,
    TASKS,
    Pattern,
    PatternIssue,
)

__all__ = ["load_pattern", "parse_pattern", "read_pattern_file", "write_pattern"]

_FENCE = "---"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-z0-9]+(?:[ -][a-z0-9]+)*$")
_FRONT_MATTER_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)$")
_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*$")

_LIST_KEYS = ("stages", "autonomy", "tags", "questions")
_REQUIRED_KEYS = (
    "name",
    "stages",
    "autonomy",
    "task",
    "data_type",
    "data_size",
    "tags",
    "questions",
)
_OPTIONAL_KEYS = ("author", "source")
_FRONT_MATTER_KEYS = _REQUIRED_KEYS + _OPTIONAL_KEYS

# Keys whose values come from a fixed vocabulary, and which lists must not be empty.
_VOCABULARY: dict[str, tuple[str, ...]] = {
    "stages": STAGES,
    "autonomy": AUTONOMY_LEVELS,
    "questions": KNOWN_QUESTIONS,
    "task": TASKS,
    "data_type": DATA_TYPES,
    "data_size": DATA_SIZES,
}
_NON_EMPTY_LISTS = ("stages", "autonomy", "questions")


# Called with (line number, message) for each problem found.
_Report: TypeAlias = Callable[[int, str], None]


class _ValueProblem(Exception):
    pass


@dataclass
class _Section:
    heading: str
    line: int
    lines: list[str]


def parse_pattern(text: str, path: str | Path | None = None) -> Pattern:
    """Parse the markdown of one pattern; ``path`` is used in messages and must match ``name``.

    Raises :class:`~mile_meta.errors.PatternError` naming the file, line and problem of the
    first thing wrong (use :func:`validate_pattern_file` to see every problem at once).
    """
    pattern, issues = read_pattern_text(text, path)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise PatternError(f"{issues[0]}{more}")
    assert pattern is not None
    return pattern


def load_pattern(path: str | Path) -> Pattern:
    """Read and parse one pattern file; raises :class:`~mile_meta.errors.PatternError`."""
    pattern, issues = read_pattern_file(path)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise PatternError(f"{issues[0]}{more}")
    assert pattern is not None
    return pattern


def read_pattern_file(path: str | Path) -> tuple[Pattern | None, list[PatternIssue]]:
    """Read one file: the pattern (None if it cannot be built) and every problem found."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [PatternIssue(str(path), 1, f"not UTF-8 text ({error.reason})")]
    except OSError as error:
        return None, [PatternIssue(str(path), 1, f"cannot read file ({error.strerror})")]
    return read_pattern_text(text, path)


def read_pattern_text(
    text: str, path: str | Path | None = None
) -> tuple[Pattern | None, list[PatternIssue]]:
    """Parse without raising: the pattern (None if it cannot be built) and every problem."""
    where = str(path) if path is not None else "<string>"
    issues: list[PatternIssue] = []

    def report(line: int, message: str) -> None:
        issues.append(PatternIssue(where, line, message))

    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    front_end = _find_front_matter_end(lines, report)
    if front_end is None:
        return None, issues
    values = _parse_front_matter(lines[1:front_end], report)
    _check_front_matter(values, front_end + 1, path, report)
    sections = _split_sections(lines, front_end + 1, report)
    texts = _check_sections(sections, len(lines), report)
    issues.sort(key=lambda issue: issue.line)
    if issues:
        return None, issues

    def scalar(key: str) -> str:
        value = values[key][0]
        assert isinstance(value, str)
        return value

    def items(key: str) -> tuple[str, ...]:
        value = values[key][0]
        assert isinstance(value, tuple)
        return value

    pattern = Pattern(
        name=scalar("name"),
        title=texts["Pattern Name"],
        stages=items("stages"),
        autonomy=items("autonomy"),
        task=scalar("task"),
        data_type=scalar("data_type"),
        data_size=scalar("data_size"),
        tags=items("tags"),
        questions=items("questions"),
        context=texts["Context"],
        problem=texts["Problem"],
        forces=texts["Forces"],
        goal=texts["Goal"],
        information_need=texts["Information Need"],
        solution=texts["Solution"],
        result=texts["Result / Resulting Context"],
        rationale=texts["Rationale"],
        related_patterns=texts["Related Patterns"],
        known_uses=texts["Known Uses & Limitations"],
        author=scalar("author"),
        source=scalar("source"),
        path=Path(path) if path is not None else None,
    )
    return pattern, []


def write_pattern(pattern: Pattern) -> str:
    """The markdown of ``pattern``; :func:`parse_pattern` reads it back to an equal pattern."""
    out = [_FENCE]
    for key in _FRONT_MATTER_KEYS:
        value = getattr(pattern, key)
        if key in _LIST_KEYS:
            out.append(f"{key}: [{', '.join(value)}]")
        elif key in _OPTIONAL_KEYS and not value:
            continue
        else:
            out.append(f"{key}: {_format_scalar(value)}")
    out.append(_FENCE)
    for heading in SECTIONS:
        out += ["", f"## {heading}", "", pattern.section_text(heading)]
    return "\n".join(out) + "\n"


def _format_scalar(value: str) -> str:
    # Quote only what would otherwise read back differently (or as a list).
    if not value or value != value.strip() or value[0] in '["' or "\n" in value:
        return json.dumps(value, ensure_ascii=False)
    return value


def _find_front_matter_end(lines: list[str], report: _Report) -> int | None:
    if not lines or lines[0].strip() != _FENCE:
        report(1, 'the file must start with a front-matter block opened by a "---" line')
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == _FENCE:
            return index
    report(1, 'the front-matter block opened on line 1 is never closed by a "---" line')
    return None


def _parse_front_matter(
    lines: list[str], report: _Report
) -> dict[str, tuple[str | tuple[str, ...], int]]:
    """Key -> (value, line number); the first line of ``lines`` is line 2 of the file."""
    values: dict[str, tuple[str | tuple[str, ...], int]] = {}
    for offset, line in enumerate(lines):
        line_number = offset + 2
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _FRONT_MATTER_LINE.match(line)
        if not match:
            report(line_number, f"front-matter line is not `key: value`: {line.strip()!r}")
            continue
        key, raw = match.group(1), match.group(2).strip()
        if key not in _FRONT_MATTER_KEYS:
            report(
                line_number,
                f'unknown front-matter key "{key}" {_expected(key, _FRONT_MATTER_KEYS)}',
            )
            continue
        if key in values:
            report(
                line_number,
                f'front-matter key "{key}" given twice (first on line {values[key][1]})',
            )
            continue
        try:
            value = _parse_value(raw, as_list=key in _LIST_KEYS)
        except _ValueProblem as problem:
            report(line_number, f'bad value for "{key}": {problem}')
            continue
        values[key] = (value, line_number)
    return values


def _parse_value(raw: str, *, as_list: bool) -> str | tuple[str, ...]:
    if as_list:
        if not (raw.startswith("[") and raw.endswith("]")):
            raise _ValueProblem(f"expected a list like [a, b], got {raw!r}")
        inner = raw[1:-1].strip()
        if not inner:
            return ()
        items = tuple(item.strip() for item in inner.split(","))
        if any(not item for item in items):
            raise _ValueProblem(f"empty item in {raw!r}")
        if any(char in item for item in items for char in '[]"'):
            raise _ValueProblem(f"list items cannot contain brackets or quotes: {raw!r}")
        return items
    if not raw:
        raise _ValueProblem("no value given")
    if raw.startswith("["):
        raise _ValueProblem(f"expected a single value, got the list {raw!r}")
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise _ValueProblem(f"unterminated or malformed quoted string ({error.msg})") from None
        if not isinstance(value, str):
            raise _ValueProblem(f"expected a string, got {raw!r}")
        return value
    return raw


def _check_front_matter(
    values: dict[str, tuple[str | tuple[str, ...], int]],
    closing_line: int,
    path: str | Path | None,
    report: _Report,
) -> None:
    for key in _REQUIRED_KEYS:
        if key not in values:
            report(closing_line, f'missing front-matter key "{key}"')
    for key in _OPTIONAL_KEYS:
        values.setdefault(key, ("", closing_line))
    for key, (value, line) in values.items():
        if key in _VOCABULARY:
            allowed = _VOCABULARY[key]
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if item not in allowed:
                    report(
                        line,
                        f'bad value for "{key}": "{item}" {_expected(item, allowed)}',
                    )
        if isinstance(value, tuple):
            if key in _NON_EMPTY_LISTS and not value:
                report(line, f'"{key}" must name at least one value')
            repeated = sorted({item for item in value if value.count(item) > 1})
            if repeated:
                report(line, f'"{key}" lists {", ".join(repeated)} more than once')
        if key == "tags":
            for tag in value:
                if not _TAG.match(tag):
                    report(line, f'bad tag "{tag}": use lowercase words joined by spaces or "-"')
    if "name" in values:
        name, line = values["name"]
        if not _SLUG.match(str(name)):
            report(line, f'bad name "{name}": use lowercase letters, digits and "-" (a slug)')
        elif path is not None and Path(path).stem != name:
            report(
                line,
                f'name "{name}" does not match the file name "{Path(path).name}" '
                f'(rename the file to "{name}.md")',
            )


def _split_sections(lines: list[str], start: int, report: _Report) -> list[_Section]:
    sections: list[_Section] = []
    for index in range(start, len(lines)):
        line = lines[index]
        match = _HEADING.match(line)
        if match:
            sections.append(_Section(match.group(1), index + 1, []))
        elif sections:
            sections[-1].lines.append(line)
        elif line.strip():
            report(index + 1, f'text before the first section (expected "## {SECTIONS[0]}")')
    if not sections:
        report(len(lines), f'no sections found (expected "## {SECTIONS[0]}" first)')
    return sections


def _check_sections(sections: list[_Section], last_line: int, report: _Report) -> dict[str, str]:
    """Section heading -> stripped text, reporting unknown, repeated, misplaced, empty ones."""
    texts: dict[str, str] = {}
    first_line: dict[str, int] = {}
    misspelled: set[str] = set()  # known headings an unknown one was taken for
    for section in sections:
        heading = section.heading
        if heading not in SECTIONS:
            misspelled.update(difflib.get_close_matches(heading, SECTIONS, n=1, cutoff=0.6))
            report(
                section.line,
                f'unknown section "{heading}" {_expected(heading, SECTIONS)}',
            )
            continue
        if heading in first_line:
            report(
                section.line,
                f'section "{heading}" appears twice (first on line {first_line[heading]})',
            )
            continue
        later = [seen for seen in first_line if SECTIONS.index(seen) > SECTIONS.index(heading)]
        if later:
            report(
                section.line,
                f'section "{heading}" is out of order: it must come before "{later[0]}" '
                f"(line {first_line[later[0]]})",
            )
        first_line[heading] = section.line
        text = "\n".join(section.lines).strip()
        if not text:
            report(section.line, f'section "{heading}" is empty')
        elif heading == "Pattern Name" and "\n" in text:
            report(section.line, 'section "Pattern Name" must be one line: the title')
        texts[heading] = text
    for position, heading in enumerate(SECTIONS):
        # A misspelled heading was already reported with a suggestion; don't report it twice.
        if heading in first_line or heading in misspelled:
            continue
        following = [h for h in SECTIONS[position + 1 :] if h in first_line]
        if following:
            line = first_line[following[0]]
            report(line, f'missing section "{heading}" (expected before "{following[0]}")')
        else:
            report(last_line, f'missing section "{heading}" (expected at the end)')
    return texts


def _expected(word: str, choices: tuple[str, ...]) -> str:
    """``(did you mean "x"? expected one of: a, b)``, the suggestion only if one is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    suggestion = f'did you mean "{close[0]}"? ' if close else ""
    return f"({suggestion}expected one of: {', '.join(choices)})"
