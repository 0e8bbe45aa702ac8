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

from mile_meta.errors import KnowledgeBaseError

__all__ = ["KB_ENV_VAR", "cache_dir", "default_kb_path", "resources_root"]

KB_ENV_VAR = "MILE_META_KB"
CACHE_ENV_VAR = "MILE_META_CACHE"


def default_kb_path() -> Path:
    """The knowledge base used when no path is given: ``$MILE_META_KB`` or the user data folder.

    ``$MILE_META_KB`` is held to the same rules as ``--kb``: a path into a folder that does
    not exist is refused (a typo must not silently build a new 100 MB knowledge base), and
    so is a folder. Only the per-user data folder is created on first use.
    """
    from_env = os.environ.get(KB_ENV_VAR)
    if from_env is not None and from_env.strip():
        path = Path(from_env.strip()).expanduser()
        if path.is_dir():
            raise KnowledgeBaseError(
                f"{KB_ENV_VAR}={from_env} is a folder; set it to the knowledge base file, "
                f"e.g. {path / 'kb.sqlite'}",
                usage=True,
            )
        if not path.parent.is_dir():
            raise KnowledgeBaseError(
                f"{KB_ENV_VAR}={from_env} names a file in folder {path.parent}, which does not "
                "exist; create the folder or fix the variable",
                usage=True,
            )
        return path
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
