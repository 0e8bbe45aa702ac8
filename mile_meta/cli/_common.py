"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["echo_json", "json_option", "kb_option", "open_knowledge_base"]


def kb_option(function: F) -> F:
    """``--kb PATH``: the knowledge base file (default: ``$MILE_META_KB`` or the user data folder)."""
    return click.option(
        "--kb",
        "kb_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Knowledge base file (default: $MILE_META_KB or the per-user data folder).",
    )(function)


def json_option(function: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(
        function
    )


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=_default, allow_nan=False))


def open_knowledge_base(kb_path: Path | None, *, must_exist: bool = True) -> Any:
    """Open the knowledge base named by ``--kb`` (or the default).

    A named file must exist; the default one is built from the bundled corpus snapshot on
    first use, so a fresh install answers its first ``recommend`` without a separate step.
    """
    from mile_meta.config import default_kb_path
    from mile_meta.kb import KnowledgeBase

    if kb_path is None and must_exist and not default_kb_path().exists():
        from mile_meta.kb import build_knowledge_base

        click.echo(
            f"building the default knowledge base at {default_kb_path()} (first run, about 30 s)",
            err=True,
        )
        build_knowledge_base(default_kb_path())
    return KnowledgeBase.open(kb_path, must_exist=must_exist)
