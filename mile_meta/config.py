"""Where mile-meta keeps its files.

The knowledge base lives in a per-user data folder unless ``--kb PATH`` or the
``MILE_META_KB`` environment variable names another file; downloaded corpora are cached
in the per-user cache folder unless ``MILE_META_CACHE`` says otherwise.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import platformdirs

__all__ = ["KB_ENV_VAR", "cache_dir", "default_kb_path", "resources_root"]

KB_ENV_VAR = "MILE_META_KB"
CACHE_ENV_VAR = "MILE_META_CACHE"


def default_kb_path() -> Path:
    """The knowledge base used when no path is given: ``$MILE_META_KB`` or the user data folder."""
    from_env = os.environ.get(KB_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir("mile-meta")) / "knowledge-base.sqlite"


def cache_dir() -> Path:
    """Folder for downloaded corpus packages: ``$MILE_META_CACHE`` or the user cache folder."""
    from_env = os.environ.get(CACHE_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_cache_dir("mile-meta"))


def resources_root() -> Path:
    """The package data folder holding ``corpora/`` and ``models/`` (shipped in the wheel)."""
    # Files in an installed package are plain files for every installer we support (wheels
    # are unpacked), so a Path is enough; zip imports are not supported.
    return Path(str(importlib.resources.files("mile_meta") / "resources")).resolve()
