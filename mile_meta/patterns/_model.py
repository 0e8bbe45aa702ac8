"""The pattern record and the controlled vocabulary its front matter is checked against."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

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
]

STAGES: tuple[str, ...] = (
    "data acquisition",
    "labeling",
    "cleaning",
    "feature engineering",
    "model selection",
    "hyperparameter optimization & architecture search",
    "ensembling",
    "model validation",
    "deployment",
    "monitoring",
    "improvement",
)
"""The stages of the ML pipeline, in pipeline order."""

AUTONOMY_LEVELS: tuple[str, ...] = ("user-driven", "cruise-control", "autopilot")
"""Who drives: the human, the human with the system proposing, or the system alone."""

KNOWN_QUESTIONS: tuple[str, ...] = (
    "what_to_try_first",
    "which_hyperparameters_matter",
    "how_much_more_data_helps",
    "expected_fit_time",
    "small_sample_reliability",
    "similar_datasets",
    "how_candidates_compare",
)
"""Knowledge-base questions a pattern's information need can be served by."""

TASKS: tuple[str, ...] = ("any", "classification", "binary", "multiclass", "regression")
"""Learning tasks; ``classification`` covers binary and multiclass, ``any`` covers all."""

DATA_TYPES: tuple[str, ...] = ("any", "tabular", "text", "image", "time series", "mixed")

DATA_SIZES: tuple[str, ...] = ("any", "small", "medium", "large")
"""Rows in the training data: small < 10,000 ≤ medium < 1,000,000 ≤ large."""

SECTIONS: tuple[str, ...] = (
    "Pattern Name",
    "Context",
    "Problem",
    "Forces",
    "Goal",
    "Information Need",
    "Solution",
    "Result / Resulting Context",
    "Rationale",
    "Related Patterns",
    "Known Uses & Limitations",
)
"""The section headings of a pattern file, in the order they must appear."""

# Section heading -> Pattern field holding its text.
SECTION_FIELDS: dict[str, str] = {
    "Pattern Name": "title",
    "Context": "context",
    "Problem": "problem",
    "Forces": "forces",
    "Goal": "goal",
    "Information Need": "information_need",
    "Solution": "solution",
    "Result / Resulting Context": "result",
    "Rationale": "rationale",
    "Related Patterns": "related_patterns",
    "Known Uses & Limitations": "known_uses",
}

# A related pattern is linked as a markdown link to its file, `[Title](name.md)`, so the
# links also work when the corpus is browsed as plain markdown.
_RELATED_LINK = re.compile(r"\]\(\s*(?:\./)?([a-z0-9]+(?:-[a-z0-9]+)*)\.md\s*\)")


@dataclass(frozen=True)
class Pattern:
    """One practitioner pattern: front matter plus the text of each section.

    ``path`` records where the pattern was read from; it does not take part in equality,
    so a pattern read from a file equals the same pattern parsed from a string.
    """

    name: str
    title: str
    stages: tuple[str, ...]
    autonomy: tuple[str, ...]
    task: str
    data_type: str
    data_size: str
    tags: tuple[str, ...]
    questions: tuple[str, ...]
    context: str
    problem: str
    forces: str
    goal: str
    information_need: str
    solution: str
    result: str
    rationale: str
    related_patterns: str
    known_uses: str
    author: str = ""
    source: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def related(self) -> tuple[str, ...]:
        """Names of the patterns linked from the Related Patterns section, in order."""
        names = _RELATED_LINK.findall(self.related_patterns)
        return tuple(dict.fromkeys(names))

    def section_text(self, heading: str) -> str:
        """The text under ``heading`` (one of :data:`SECTIONS`)."""
        return str(getattr(self, SECTION_FIELDS[heading]))


@dataclass(frozen=True)
class PatternIssue:
    """One problem found in a pattern file; ``str()`` gives ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class PatternHit:
    """A search result: the pattern, how well it matched and where.

    ``score`` is SQLite's bm25 relevance with the sign flipped, so higher is better;
    ``snippet`` is a short excerpt with the matched words in ``[brackets]``.
    """

    name: str
    title: str
    score: float
    snippet: str
    stages: tuple[str, ...]
    autonomy: tuple[str, ...]
    task: str
    questions: tuple[str, ...]
