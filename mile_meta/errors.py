"""Errors that reach the user.

Every error raised for bad input is a :class:`MileMetaError` whose message is one line naming
the problem and the fix. The CLI prints it and exits with the error's ``exit_code``: 2 for a
usage error (a value on the command line is wrong: an unknown target column, metric, pattern
or a missing file), 1 for a runtime error (the file's contents, the knowledge base's state, a
computation or the network failed), as click does for its own errors.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "DataError",
    "KnowledgeBaseError",
    "MileMetaError",
    "ModelError",
    "PatternError",
    "UsageError",
]


class MileMetaError(Exception):
    """Base class of the errors mile-meta reports to its users.

    ``usage=True`` marks the error as the caller's usage error (exit status 2); otherwise it
    is a runtime error (exit status 1). The class keeps saying *what* failed, the flag *whose
    move* it is, so ``except DataError`` catches both an unknown target and an empty file.
    """

    exit_code: int = 1

    def __init__(self, *args: object, usage: bool = False) -> None:
        super().__init__(*args)
        if usage:
            self.exit_code = 2


class UsageError(MileMetaError):
    """A value given on the command line (or as an argument) cannot be used as given."""

    exit_code = 2


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
