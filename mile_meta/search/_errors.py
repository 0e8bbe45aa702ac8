"""The error a search reports before doing any work: a constraint or a setting it cannot honour."""

from __future__ import annotations

from mile_meta.errors import MileMetaError

__all__ = ["SearchError"]


class SearchError(MileMetaError):
    """The search cannot run as asked (an unsatisfiable constraint, a bad budget or pin)."""
