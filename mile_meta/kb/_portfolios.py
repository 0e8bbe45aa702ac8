"""Reading the portfolios AutoML tools ship, as the portfolio sources stored them.

A portfolio position is an evaluation in the metric ``portfolio_rank`` (1 = tried first) on
a portfolio dataset (see :mod:`mile_meta.sources._portfolio`); this module holds the one
query that reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mile_meta.kb._store import KnowledgeBase

__all__ = ["PORTFOLIO_METRIC", "PortfolioPosition", "portfolio_positions"]

PORTFOLIO_METRIC = "portfolio_rank"


@dataclass(frozen=True)
class PortfolioPosition:
    """One configuration's ``rank`` (1-based) in one tool's portfolio.

    ``portfolio`` names the ranked list within the source (``zeroshot_2023/binary``,
    ``all/binary/03``); ``spec_json`` is a pipeline spec when ``runnable``, else the tool's
    own description; ``origin_key`` is the tool's name for the configuration.
    """

    source: str
    portfolio: str
    task_type: str
    rank: int
    pipeline_id: str
    spec_json: str
    runnable: bool
    origin_key: str


def portfolio_positions(
    kb: KnowledgeBase,
    *,
    sources: Iterable[str] | None = None,
    task_type: str | None = None,
) -> list[PortfolioPosition]:
    """Every stored portfolio position, by source, portfolio and rank.

    ``task_type`` keeps the portfolios for that task (``binary`` and ``multiclass`` also
    match portfolios stored for ``classification``).
    """
    where = ["e.metric = ?"]
    params: list[Any] = [PORTFOLIO_METRIC]
    if sources is not None:
        names = list(sources)
        where.append(f"e.source IN ({','.join('?' * len(names))})")
        params.extend(names)
    if task_type is not None:
        accepted = [task_type]
        if task_type in ("binary", "multiclass"):
            accepted.append("classification")
        where.append(f"t.task_type IN ({','.join('?' * len(accepted))})")
        params.extend(accepted)
    rows = kb.db.execute(
        "SELECT e.source, d.origin_key, t.task_type, e.value, e.pipeline_id, p.spec_json,"
        " p.runnable, e.run_key"
        " FROM evaluations e"
        " JOIN tasks t ON t.task_id = e.task_id"
        " JOIN pipelines p ON p.pipeline_id = e.pipeline_id"
        " JOIN dataset_origins d ON d.dataset_id = e.dataset_id AND d.source = e.source"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY e.source, d.origin_key, e.value",
        params,
    ).fetchall()
    return [
        PortfolioPosition(
            source=row[0],
            portfolio=row[1],
            task_type=row[2],
            rank=int(row[3]),
            pipeline_id=row[4],
            spec_json=row[5],
            runnable=bool(row[6]),
            origin_key=row[7] or "",
        )
        for row in rows
    ]
