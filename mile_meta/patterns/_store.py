"""Patterns in the knowledge base: transactional upsert, full-text search, listing, lookup.

The tables are created by migration ``m0002_patterns``; this module only reads and writes
rows. Every function takes the open :class:`~mile_meta.kb.KnowledgeBase` and uses its
``db`` (a ``sqlite_utils.Database``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mile_meta.config import resources_root
from mile_meta.errors import PatternError
from mile_meta.kb.migrations.m0002_patterns import FTS_COLUMNS
from mile_meta.patterns._corpus import corpus_files, load_corpus, unresolved_links
from mile_meta.patterns._format import parse_pattern, read_pattern_file, write_pattern
from mile_meta.patterns._model import AUTONOMY_LEVELS, STAGES, TASKS, Pattern, PatternHit

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "CORPUS_AUTHOR",
    "CORPUS_SOURCE",
    "add_patterns",
    "ensure_corpus",
    "get_pattern",
    "information_need_summary",
    "ingest_corpus",
    "list_patterns",
    "resolve_level",
    "resolve_stage",
    "resolve_task",
    "search_patterns",
]

CORPUS_AUTHOR = "mile-meta developers"
CORPUS_SOURCE = "mile-meta pattern corpus"
_CORPUS_PATH_PREFIX = "corpora/patterns/"

# bm25 weight of each indexed column (same order as FTS_COLUMNS): a match in the title,
# tags or information need says more about what a pattern is for than one in the prose.
_COLUMN_WEIGHTS = {
    "name": 4.0,
    "title": 8.0,
    "tags": 5.0,
    "context": 1.0,
    "problem": 2.0,
    "forces": 1.0,
    "goal": 2.0,
    "information_need": 4.0,
    "solution": 1.5,
    "result": 1.0,
    "rationale": 1.0,
    "known_uses": 0.5,
}

# Words too common to say anything about which pattern is meant.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "this",
        "to",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)

# A task filter matches the patterns written for that task or for a broader one.
_TASKS_SERVED_BY: dict[str, tuple[str, ...]] = {
    "binary": ("binary", "classification", "any"),
    "multiclass": ("multiclass", "classification", "any"),
    "classification": ("classification", "binary", "multiclass", "any"),
    "regression": ("regression", "any"),
}

_STAGE_ALIASES = {
    "hpo": "hyperparameter optimization & architecture search",
    "nas": "hyperparameter optimization & architecture search",
    "validation": "model validation",
}


def add_patterns(
    kb: KnowledgeBase,
    paths: Iterable[str | Path],
    author: str | None = None,
    source: str | None = None,
) -> int:
    """Add or update the patterns in ``paths``; returns how many were new or changed.

    All or nothing: every file is parsed and every related-pattern link checked (against
    the files given and the patterns already stored) before anything is written, and the
    writes happen in one transaction. ``author`` and ``source`` fill in for files whose
    front matter names none. Adding the same files again changes nothing and returns 0.
    """
    patterns = []
    issues = []
    for path in paths:
        pattern, found = read_pattern_file(path)
        issues += found
        if pattern is not None:
            patterns.append(pattern)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise PatternError(f"{issues[0]}{more}")
    return _store(kb, patterns, author=author, source=source)


def ingest_corpus(kb: KnowledgeBase) -> int:
    """Bring the bundled corpus into the knowledge base; returns how many were new or changed.

    Corpus patterns no longer in the corpus (renamed or withdrawn) are removed.
    """
    patterns = load_corpus()
    names = {pattern.name for pattern in patterns}
    written = _store(kb, patterns, author=CORPUS_AUTHOR, source=CORPUS_SOURCE)
    stale = [
        row["name"]
        for row in kb.db.query(
            "SELECT name FROM patterns WHERE path LIKE ?", [_CORPUS_PATH_PREFIX + "%"]
        )
        if row["name"] not in names
    ]
    if stale:
        with kb.db.atomic():
            for name in stale:
                kb.db.execute("DELETE FROM pattern_links WHERE pattern = ?", [name])
                kb.db.execute("DELETE FROM patterns WHERE name = ?", [name])
    return written + len(stale)


def ensure_corpus(kb: KnowledgeBase) -> int:
    """Ingest the bundled corpus if any of its patterns is missing; returns how many were written.

    Cheap when the corpus is already there (one query, no file is parsed), so commands can
    call it on every run.
    """
    stored = {row["name"] for row in kb.db.query("SELECT name FROM patterns")}
    if all(path.stem in stored for path in corpus_files()):
        return 0
    return ingest_corpus(kb)


def get_pattern(kb: KnowledgeBase, name: str) -> Pattern:
    """The stored pattern called ``name``; raises PatternError (with suggestions) if absent."""
    rows = list(kb.db.query("SELECT markdown, path FROM patterns WHERE name = ?", [name]))
    if not rows:
        names = [row["name"] for row in kb.db.query("SELECT name FROM patterns")]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise PatternError(f'no pattern named "{name}" in the knowledge base{hint}', usage=True)
    return _pattern_from_row(rows[0])


def list_patterns(
    kb: KnowledgeBase,
    stage: str | None = None,
    level: str | None = None,
    task: str | None = None,
) -> list[Pattern]:
    """Stored patterns matching every filter given, in pipeline-stage order, then by name.

    ``stage`` and ``level`` accept any unambiguous prefix ("hyperparameter", "cruise");
    ``task`` matches patterns written for that task or a broader one ("binary" also finds
    "classification" and "any" patterns).
    """
    where, parameters = _filters(stage=stage, level=level, task=task)
    rows = kb.db.query(f"SELECT markdown, path FROM patterns p WHERE 1 = 1 {where}", parameters)
    patterns = [_pattern_from_row(row) for row in rows]
    patterns.sort(key=lambda pattern: (STAGES.index(pattern.stages[0]), pattern.name))
    return patterns


def search_patterns(
    kb: KnowledgeBase,
    text: str,
    stage: str | None = None,
    level: str | None = None,
    task: str | None = None,
    limit: int = 10,
) -> list[PatternHit]:
    """Patterns whose text matches ``text``, best first (SQLite FTS5, bm25 ranking).

    ``text`` is plain language ("which hyperparameters matter for boosting?"): its words,
    stemmed, are searched for with OR, so a pattern matching more and rarer words ranks
    higher. The filters work as in :func:`list_patterns`.
    """
    if limit < 1:
        raise PatternError(f"limit must be at least 1, got {limit}", usage=True)
    query = _fts_query(text)
    where, parameters = _filters(stage=stage, level=level, task=task)
    weights = ", ".join(str(_COLUMN_WEIGHTS[column]) for column in FTS_COLUMNS)
    sql = f"""
        SELECT p.name, p.title, p.stages, p.autonomy, p.task, p.questions,
               bm25(patterns_fts, {weights}) AS rank,
               snippet(patterns_fts, -1, '[', ']', '…', 16) AS snippet
        FROM patterns_fts JOIN patterns p ON p.rowid = patterns_fts.rowid
        WHERE patterns_fts MATCH ? {where}
        ORDER BY rank, p.name
        LIMIT ?
    """
    rows = kb.db.query(sql, [query, *parameters, limit])
    return [
        PatternHit(
            name=row["name"],
            title=row["title"],
            # bm25 is more negative for better matches; flip it so higher means better.
            score=round(-float(row["rank"]), 6),
            snippet=" ".join(row["snippet"].split()),
            stages=tuple(json.loads(row["stages"])),
            autonomy=tuple(json.loads(row["autonomy"])),
            task=row["task"],
            questions=tuple(json.loads(row["questions"])),
        )
        for row in rows
    ]


def resolve_stage(value: str) -> str:
    """The stage named by ``value``: exact, an alias (hpo, nas) or an unambiguous prefix."""
    alias = _STAGE_ALIASES.get(_key(value))
    return alias or _resolve(value, STAGES, "stage")


def resolve_level(value: str) -> str:
    """The autonomy level named by ``value`` (exact or an unambiguous prefix, any case)."""
    return _resolve(value, AUTONOMY_LEVELS, "autonomy level")


def resolve_task(value: str) -> str:
    """The task named by ``value`` (one of TASKS, any case)."""
    return _resolve(value, TASKS, "task", prefixes=False)


def information_need_summary(pattern: Pattern, max_chars: int = 200) -> str:
    """The first sentence of the Information Need section, for graph labels and links."""
    text = " ".join(pattern.information_need.split())
    sentence = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
    if len(sentence) > max_chars:
        sentence = sentence[: max_chars - 1].rstrip() + "…"
    return sentence


def _store(
    kb: KnowledgeBase,
    patterns: Sequence[Pattern],
    *,
    author: str | None,
    source: str | None,
) -> int:
    names = [pattern.name for pattern in patterns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise PatternError(f"two files define the pattern {', '.join(repeated)}; names are unique")
    existing = {
        row["name"]: row
        for row in kb.db.query("SELECT name, markdown, path, added_at FROM patterns")
    }
    known = set(names) | set(existing)
    for pattern in patterns:
        problems = unresolved_links(pattern, known.__contains__)
        if problems:
            raise PatternError(f"{problems[0]} (add the linked pattern in the same call, or first)")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = []
    for pattern in patterns:
        filled = replace(
            pattern, author=pattern.author or author or "", source=pattern.source or source or ""
        )
        row = _row(filled, now)
        previous = existing.get(pattern.name)
        if previous is not None:
            if previous["markdown"] == row["markdown"] and previous["path"] == row["path"]:
                continue
            row["added_at"] = previous["added_at"]
        rows.append((filled, row))
    if not rows:
        return 0
    with kb.db.atomic():
        for pattern, row in rows:
            kb.db.table("patterns").upsert(row, pk="name")
            kb.db.execute("DELETE FROM pattern_links WHERE pattern = ?", [pattern.name])
            kb.db.table("pattern_links").insert_all(
                [
                    {"pattern": pattern.name, "kind": kind, "target": target}
                    for kind, target in _links(pattern)
                ],
                pk=("pattern", "kind", "target"),
            )
    return len(rows)


def _row(pattern: Pattern, added_at: str) -> dict[str, Any]:
    return {
        "name": pattern.name,
        "title": pattern.title,
        "stages": json.dumps(list(pattern.stages)),
        "autonomy": json.dumps(list(pattern.autonomy)),
        # Tags are stored as JSON like the other lists; the FTS tokenizer ignores the
        # brackets and quotes, so tag words are searchable as they are.
        "tags": json.dumps(list(pattern.tags)),
        "questions": json.dumps(list(pattern.questions)),
        "task": pattern.task,
        "data_type": pattern.data_type,
        "data_size": pattern.data_size,
        "context": pattern.context,
        "problem": pattern.problem,
        "forces": pattern.forces,
        "goal": pattern.goal,
        "information_need": pattern.information_need,
        "solution": pattern.solution,
        "result": pattern.result,
        "rationale": pattern.rationale,
        "related_patterns": pattern.related_patterns,
        "known_uses": pattern.known_uses,
        "markdown": write_pattern(pattern),
        "author": pattern.author,
        "source": pattern.source,
        "path": _stored_path(pattern.path),
        "added_at": added_at,
    }


def _links(pattern: Pattern) -> list[tuple[str, str]]:
    links = [("stage", stage) for stage in pattern.stages]
    links += [("related", name) for name in pattern.related]
    links += [("question", question) for question in pattern.questions]
    links.append(("information_need", information_need_summary(pattern)))
    return links


def _stored_path(path: Path | None) -> str:
    """Paths inside the repository are stored relative to it, so the KB file can move."""
    if path is None:
        return ""
    resolved = path.resolve()
    try:
        return resolved.relative_to(resources_root()).as_posix()
    except ValueError:
        return str(resolved)


def _pattern_from_row(row: dict[str, Any]) -> Pattern:
    pattern = parse_pattern(row["markdown"])
    if not row["path"]:
        return pattern
    path = Path(row["path"])
    return replace(pattern, path=path if path.is_absolute() else resources_root() / path)


def _filters(*, stage: str | None, level: str | None, task: str | None) -> tuple[str, list[Any]]:
    """SQL conditions on the `patterns p` rows, and their parameters."""
    clauses: list[str] = []
    parameters: list[Any] = []
    if stage is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(p.stages) WHERE value = ?)")
        parameters.append(resolve_stage(stage))
    if level is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(p.autonomy) WHERE value = ?)")
        parameters.append(resolve_level(level))
    if task is not None:
        resolved = resolve_task(task)
        if resolved != "any":
            served_by = _TASKS_SERVED_BY[resolved]
            clauses.append(f"p.task IN ({', '.join('?' for _ in served_by)})")
            parameters.extend(served_by)
    return "".join(f" AND {clause}" for clause in clauses), parameters


def _fts_query(text: str) -> str:
    words = [word.lower() for word in re.findall(r"\w+", text)]
    wanted = [word for word in words if word not in _STOPWORDS and len(word) > 1]
    if not wanted:
        raise PatternError(
            f"search text {text!r} has no words to search for; "
            "use `mile-meta patterns list` to see every pattern",
            usage=True,
        )
    # Each word quoted, so FTS5 operators in the user's text (AND, NEAR, -, *) stay words.
    return " OR ".join(f'"{word}"' for word in dict.fromkeys(wanted))


def _key(value: str) -> str:
    return re.sub(r"[^a-z0-9&]", "", value.lower())


def _resolve(value: str, choices: tuple[str, ...], what: str, *, prefixes: bool = True) -> str:
    key = _key(value)
    exact = [choice for choice in choices if _key(choice) == key]
    if exact:
        return exact[0]
    matches = [choice for choice in choices if prefixes and key and _key(choice).startswith(key)]
    if len(matches) == 1:
        return matches[0]
    found = f"ambiguous {what}" if matches else f"unknown {what}"
    candidates = matches or list(choices)
    raise PatternError(f'{found} "{value}" (expected one of: {", ".join(candidates)})', usage=True)
