"""Numbered schema migrations of the knowledge base.

Each module ``mNNNN_<name>.py`` defines ``upgrade(db)``; they run in number order, each in
its own transaction, and are recorded in ``schema_migrations``. The schema version of a
knowledge base is the highest number applied. Never edit a migration that has shipped: add
the next number instead.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

__all__ = ["Migration", "all_migrations"]

_MODULE_NAME = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[sqlite_utils.Database], None]


def all_migrations() -> list[Migration]:
    """Every migration shipped with this version of mile-meta, in the order they apply."""
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        match = _MODULE_NAME.match(module_info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found.append(Migration(int(match.group(1)), match.group(2), module.upgrade))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found
