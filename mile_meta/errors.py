"""Errors that reach the user.

Every error raised for bad input is a :class:`MileMetaError` whose message is one line naming
the problem and the fix; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "DataError",
    "KnowledgeBaseError",
    "MileMetaError",
    "ModelError",
    "PatternError",
]


class MileMetaError(Exception):
    """Base class of the errors mile-meta reports to its users."""


class KnowledgeBaseError(MileMetaError):
    """The knowledge base file is missing, corrupt, too new, or the request is not allowed."""


class CorpusError(MileMetaError):
    """A corpus file is missing, corrupt, or not the version we expect."""


class DataError(MileMetaError):
    """The user's dataset cannot be used as given (missing target, one class, unreadable file)."""


class ModelError(MileMetaError):
    """A saved meta-learner cannot be used with this knowledge base."""


class PatternError(MileMetaError):
    """A practitioner pattern file does not follow the template."""
