"""Practitioner patterns: the patterns, their typed links, and a full-text index.

``patterns`` holds one row per pattern (lists as JSON text, one column per section, the
canonical markdown); ``pattern_links`` holds the edges of the pattern graph (kind is one
of stage, related, question, information_need); ``patterns_fts`` is an FTS5 index kept in
step with ``patterns`` by triggers.

Statements run one by one through ``db.execute`` rather than ``executescript``, because
``executescript`` would commit the transaction the migration runs in.
"""

from __future__ import annotations

import sqlite_utils

# Columns of `patterns` indexed for full-text search (the name and tags too, so a search
# for "leakage" finds `detect-target-leakage` even if the prose says "leaked").
FTS_COLUMNS = (
    "name",
    "title",
    "tags",
    "context",
    "problem",
    "forces",
    "goal",
    "information_need",
    "solution",
    "result",
    "rationale",
    "known_uses",
)


def upgrade(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE patterns (
            name TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            stages TEXT NOT NULL,        -- JSON list of stage names
            autonomy TEXT NOT NULL,      -- JSON list of autonomy levels
            tags TEXT NOT NULL,          -- JSON list
            questions TEXT NOT NULL,     -- JSON list of knowledge-base question ids
            task TEXT NOT NULL,
            data_type TEXT NOT NULL,
            data_size TEXT NOT NULL,
            context TEXT NOT NULL,
            problem TEXT NOT NULL,
            forces TEXT NOT NULL,
            goal TEXT NOT NULL,
            information_need TEXT NOT NULL,
            solution TEXT NOT NULL,
            result TEXT NOT NULL,
            rationale TEXT NOT NULL,
            related_patterns TEXT NOT NULL,
            known_uses TEXT NOT NULL,
            markdown TEXT NOT NULL,      -- canonical file text, parses back to the pattern
            author TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            path TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL       -- ISO 8601, UTC, when first added
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pattern_links (
            pattern TEXT NOT NULL REFERENCES patterns(name) ON DELETE CASCADE,
            kind TEXT NOT NULL
                CHECK (kind IN ('stage', 'related', 'question', 'information_need')),
            target TEXT NOT NULL,
            PRIMARY KEY (pattern, kind, target)
        )
        """
    )
    db.execute("CREATE INDEX pattern_links_by_target ON pattern_links (kind, target)")

    columns = ", ".join(FTS_COLUMNS)
    new_values = ", ".join(f"new.{column}" for column in FTS_COLUMNS)
    old_values = ", ".join(f"old.{column}" for column in FTS_COLUMNS)
    db.execute(
        f"CREATE VIRTUAL TABLE patterns_fts USING fts5 ({columns}, "
        "content='patterns', tokenize='porter unicode61')"
    )
    # The standard external-content triggers: FTS5 removes a row by being told its old values.
    db.execute(
        f"""
        CREATE TRIGGER patterns_ai AFTER INSERT ON patterns BEGIN
            INSERT INTO patterns_fts (rowid, {columns}) VALUES (new.rowid, {new_values});
        END
        """
    )
    db.execute(
        f"""
        CREATE TRIGGER patterns_ad AFTER DELETE ON patterns BEGIN
            INSERT INTO patterns_fts (patterns_fts, rowid, {columns})
                VALUES ('delete', old.rowid, {old_values});
        END
        """
    )
    db.execute(
        f"""
        CREATE TRIGGER patterns_au AFTER UPDATE ON patterns BEGIN
            INSERT INTO patterns_fts (patterns_fts, rowid, {columns})
                VALUES ('delete', old.rowid, {old_values});
            INSERT INTO patterns_fts (rowid, {columns}) VALUES (new.rowid, {new_values});
        END
        """
    )
