"""What a crawl covers: a benchmark suite, task ids, a task tag, or one flow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mile_meta.errors import MileMetaError

__all__ = ["CrawlScope", "ScopeKind"]

ScopeKind = Literal["suite", "tasks", "tag", "flow"]
_KINDS: tuple[ScopeKind, ...] = ("suite", "tasks", "tag", "flow")


@dataclass(frozen=True)
class CrawlScope:
    """One crawl scope; ``key`` (``suite:99``, ``tasks:3,31``, ``tag:x``, ``flow:8353``) names it
    in the crawl-state tables.

    Task-based scopes list evaluations per task (listing ``task/<id>``); a flow scope lists
    the flow's evaluations on every task (listing ``flow/<id>``) and fetches the tasks it meets.
    """

    kind: ScopeKind
    value: str

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise MileMetaError(
                f"unknown crawl scope kind {self.kind!r}; use one of {', '.join(_KINDS)}"
            )
        if not self.value.strip():
            raise MileMetaError(f"a {self.kind} scope needs a value, e.g. --{self.kind} 99")

    @classmethod
    def suite(cls, suite: int | str) -> CrawlScope:
        """A benchmark suite by id (99) or alias (OpenML-CC18)."""
        return cls("suite", str(suite).strip())

    @classmethod
    def tasks(cls, task_ids: Iterable[int | str]) -> CrawlScope:
        ids = sorted({_positive_id(t, "task") for t in task_ids})
        if not ids:
            raise MileMetaError("a tasks scope needs at least one task id, e.g. --task 3")
        return cls("tasks", ",".join(str(i) for i in ids))

    @classmethod
    def tag(cls, tag: str) -> CrawlScope:
        return cls("tag", tag.strip())

    @classmethod
    def flow(cls, flow_id: int | str) -> CrawlScope:
        return cls("flow", str(_positive_id(flow_id, "flow")))

    @classmethod
    def parse(cls, key: str) -> CrawlScope:
        """The scope named by ``key`` (as stored in the crawl-state tables)."""
        kind, sep, value = key.partition(":")
        if not sep or kind not in _KINDS:
            raise MileMetaError(
                f"{key!r} is not a crawl scope; expected e.g. suite:99 or tasks:3,31"
            )
        return cls(kind, value)  # type: ignore[arg-type,unused-ignore]  # kind checked above

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def task_ids(self) -> list[int]:
        """The task ids of a ``tasks`` scope (other scopes resolve theirs from OpenML)."""
        if self.kind != "tasks":
            return []
        return [int(t) for t in self.value.split(",")]

    def __str__(self) -> str:
        return self.key


def _positive_id(value: int | str, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MileMetaError(f"{what} id {value!r} is not a number; pass e.g. --{what} 3") from None
    if number <= 0:
        raise MileMetaError(f"{what} id {number} must be positive")
    return number
