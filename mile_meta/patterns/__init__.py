"""Practitioner patterns: what a practitioner needs to know at a pipeline stage, and why.

A pattern is a markdown file with front matter (``name``, ``stages``, ``autonomy``,
``task``, ``data_type``, ``data_size``, ``tags``, ``questions``, optional ``author`` and
``source``) and the sections of :data:`SECTIONS` in order. The bundled corpus lives in
``corpora/patterns``; it works without a knowledge base (:func:`load_corpus`) and is
searchable once stored in one (:func:`ingest_corpus`, :func:`search_patterns`).

Example::

    from mile_meta.kb import KnowledgeBase
    from mile_meta.patterns import ensure_corpus, search_patterns

    kb = KnowledgeBase.open("kb.sqlite", must_exist=False)
    ensure_corpus(kb)
    for hit in search_patterns(kb, "rare positives cross-validation", level="cruise"):
        print(hit.name, hit.score)
"""

from __future__ import annotations

from mile_meta.patterns._corpus import (
    corpus_directory,
    corpus_files,
    load_corpus,
    validate_corpus,
    validate_pattern_file,
)
from mile_meta.patterns._format import load_pattern, parse_pattern, write_pattern
from mile_meta.patterns._graph import pattern_graph
from mile_meta.patterns._model import (
    AUTONOMY_LEVELS,
    DATA_SIZES,
    DATA_TYPES,
    KNOWN_QUESTIONS,
    SECTIONS,
    STAGES,
    TASKS,
    Pattern,
    PatternHit,
    PatternIssue,
)
from mile_meta.patterns._store import (
    add_patterns,
    ensure_corpus,
    get_pattern,
    ingest_corpus,
    list_patterns,
    resolve_level,
    resolve_stage,
    resolve_task,
    search_patterns,
)

__all__ = [
    "AUTONOMY_LEVELS",
    "DATA_SIZES",
    "DATA_TYPES",
    "KNOWN_QUESTIONS",
    "SECTIONS",
    "STAGES",
    "TASKS",
    "Pattern",
    "PatternHit",
    "PatternIssue",
    "add_patterns",
    "corpus_directory",
    "corpus_files",
    "ensure_corpus",
    "get_pattern",
    "ingest_corpus",
    "list_patterns",
    "load_corpus",
    "load_pattern",
    "parse_pattern",
    "pattern_graph",
    "resolve_level",
    "resolve_stage",
    "resolve_task",
    "search_patterns",
    "validate_corpus",
    "validate_pattern_file",
    "write_pattern",
]
