"""Content-addressed keys: a key names a result by everything it was computed from.

A key is the hash of its parent's key and what the step adds (its spec, the version of the
library that runs it), so a key can only match when the whole chain upstream matches: the
data, the target, the folds, every earlier step and the library versions.
"""

from __future__ import annotations

import functools
import importlib
import platform
from typing import Any

import joblib

__all__ = ["chain_key", "component_version", "environment_token"]

# Libraries whose version can change any result (numerics, splitting, encoders).
_CORE_LIBRARIES = ("numpy", "scipy", "pandas", "sklearn", "joblib")


@functools.cache
def environment_token() -> tuple[str, ...]:
    """Python and core library versions, plus mile-meta's own (it holds the preprocessing)."""
    from mile_meta import __version__

    versions = [f"python={platform.python_version()}", f"mile_meta={__version__}"]
    for name in _CORE_LIBRARIES:
        module = importlib.import_module(name)
        versions.append(f"{name}={getattr(module, '__version__', '?')}")
    return tuple(versions)


@functools.cache
def component_version(import_path: str) -> str:
    """Version of the library a component comes from (``lightgbm:LGBMClassifier`` → lightgbm's)."""
    top = import_path.split(":")[0].split(".")[0]
    try:
        module = importlib.import_module(top)
    except ImportError:  # building the step fails later with the library's own message
        return f"{top}=missing"
    return f"{top}={getattr(module, '__version__', '?')}"


def chain_key(parent: str, *parts: Any) -> str:
    """The key of a step: ``parent``'s key and what the step adds, hashed by joblib
    (which hashes numpy arrays by content and containers element by element)."""
    return str(joblib.hash((parent, parts), hash_name="sha1"))
