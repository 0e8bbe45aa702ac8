"""Paged, filtered, sorted reads of the knowledge base's main tables (the workbench's browser).

A page is one ``LIMIT``/``OFFSET`` query on an indexed order, so paging through hundreds of
thousands of evaluations never loads more than one page; the total is counted with the same
filter. Tables, columns and sort keys are checked against :data:`BROWSABLE` before any SQL is
built, so a caller's text never becomes SQL; filter values are bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mile_meta.errors import KnowledgeBaseError

if TYPE_CHECKING:
    from mile_meta.kb._store import KnowledgeBase

__all__ = ["BROWSABLE", "Page", "browse"]

# table -> the columns shown, in order (the first is the default sort)
BROWSABLE: dict[str, tuple[str, ...]] = {
    "datasets": ("dataset_id", "name", "openml_id", "n_rows", "n_features", "n_classes"),
    "pipelines": ("pipeline_id", "family", "task_type", "runnable", "spec_json"),
    "evaluations": (
        "dataset_id",
        "pipeline_id",
        "metric",
        "value",
        "source",
        "fold",
        "seed",
        "train_size",
        "runtime_seconds",
    ),
}

MAX_PAGE_ROWS = 500


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` to ``offset + len(rows)`` of ``total`` matching rows."""

    table: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    offset: int
    total: int


def browse(
    kb: KnowledgeBase,
    table: str,
    *,
    filters: dict[str, str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """One page of ``table`` where each column in ``filters`` matches its text.

    A filter value matches exactly on ids and numbers and as a case-insensitive substring
    (``LIKE``) on names, families and metrics.
    """
    if table not in BROWSABLE:
        raise KnowledgeBaseError(f"cannot browse {table!r}; use one of {', '.join(BROWSABLE)}")
    columns = BROWSABLE[table]
    order = sort or columns[0]
    if order not in columns:
        raise KnowledgeBaseError(
            f"{table} has no column {order!r}; sort by one of {', '.join(columns)}"
        )
    if not 1 <= limit <= MAX_PAGE_ROWS:
        raise KnowledgeBaseError(f"a page holds 1 to {MAX_PAGE_ROWS} rows, not {limit}")
    if offset < 0:
        raise KnowledgeBaseError(f"offset must be 0 or more, not {offset}")
    where: list[str] = []
    params: list[Any] = []
    for column, value in (filters or {}).items():
        text = str(value).strip()
        if not text:
            continue
        if column not in columns:
            raise KnowledgeBaseError(
                f"{table} has no column {column!r}; filter on one of {', '.join(columns)}"
            )
        if column in ("name", "family", "metric", "source", "task_type", "spec_json"):
            where.append(f"{column} LIKE ?")
            params.append(f"%{text}%")
        else:
            where.append(f"{column} = ?")
            params.append(_number_or_text(text))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    total = int(kb.db.execute(f"SELECT count(*) FROM {table}{clause}", params).fetchone()[0])
    direction = "DESC" if descending else "ASC"
    rows = kb.db.execute(
        f"SELECT {', '.join(columns)} FROM {table}{clause}"
        f" ORDER BY {order} {direction} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return Page(table, columns, tuple(tuple(row) for row in rows), offset, total)


def _number_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
