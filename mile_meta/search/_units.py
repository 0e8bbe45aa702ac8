"""Durations ("60s", "5m", "1h", "90") and sizes ("50MB", "2GB", "1000") as the CLI accepts them."""

from __future__ import annotations

import re

from mile_meta.search._errors import SearchError

__all__ = ["parse_duration", "parse_size"]

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*$"
)
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_BYTES_PER_UNIT = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``text``: ``"60s"``, ``"5m"``, ``"1h"``, ``"1.5m"``, or a bare number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text).lower())
        if match is None:
            raise SearchError(
                f"cannot read the duration {text!r}; write it like 60s, 5m, 1h or 90 (seconds)"
            )
        unit = (match[2] or "s")[0] if match[2] != "ms" else "ms"
        seconds = float(match[1]) * _SECONDS_PER_UNIT[unit]
    if seconds <= 0:
        raise SearchError(f"a duration must be positive, got {text!r}")
    return seconds


def parse_size(text: str | int | float) -> int:
    """Bytes in ``text``: ``"50MB"``, ``"2GB"``, ``"512KiB"`` or a bare number of bytes."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        size = float(text)
    else:
        match = _SIZE.match(str(text))
        if match is None:
            raise SearchError(f"cannot read the size {text!r}; write it like 50MB, 2GB or 1000000")
        unit = (match[2] or "").lower()
        prefix = unit[:1] if unit[:1] in ("k", "m", "g", "t") else ""
        if prefix and "i" in unit:  # KiB, MiB: powers of 1024
            factor = 1024 ** ("kmgt".index(prefix) + 1)
        else:
            factor = _BYTES_PER_UNIT[prefix]
        size = float(match[1]) * factor
    if size <= 0:
        raise SearchError(f"a size must be positive, got {text!r}")
    return int(size)
