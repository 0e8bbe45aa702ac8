"""The HTML report of a search: one self-contained file, plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mile_meta.search._results import SearchResult

__all__ = ["render_report"]

_ORIGIN_COLOURS = {
    "warm_start": "#1b9e77",
    "default": "#7570b3",
    "optimizer": "#d95f02",
    "pinned": "#666",
}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b00}
.grid{display:grid;grid-template-columns:max-content auto;gap:2px 16px}.muted{color:#777}
img{max-width:100%}code{font-size:.9em}
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _score_over_time(result: SearchResult) -> str:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 3.6))
    stages = sorted({e.fidelity.rung for e in result.evaluations})
    colours = plt.get_cmap("viridis")
    for stage in stages:
        points = [e for e in result.evaluations if e.fidelity.rung == stage and e.score is not None]
        if points:
            fidelity = points[0].fidelity
            axis.scatter(
                [e.finished_seconds for e in points],
                [float(e.score or 0.0) for e in points],
                s=18,
                alpha=0.7,
                color=colours(stage / max(len(stages) - 1, 1) * 0.85),
                label=f"evaluated on {fidelity.label}",
            )
    if result.history:
        times = [t for t, _, _ in result.history] + [result.elapsed_seconds]
        scores = [s for _, s, _ in result.history]
        axis.step(
            times, [*scores, scores[-1]], where="post", color="#c0392b", lw=2, label="best so far"
        )
    failed = [e for e in result.evaluations if e.score is None]
    if failed:
        low = axis.get_ylim()[0]
        axis.scatter(
            [e.finished_seconds for e in failed],
            [low] * len(failed),
            marker="x",
            color="#b00",
            label="failed / stopped",
        )
    axis.axvline(result.budget_seconds, color="#999", ls="--", lw=1)
    axis.set_xlabel("seconds since the start")
    axis.set_ylabel(result.metric)
    axis.set_title("Best score over time")
    axis.legend(fontsize=8, loc="best")
    return _png(figure)


def _leaderboard_plot(result: SearchResult) -> str:
    import matplotlib.pyplot as plt

    board = result.leaderboard
    board = board[board["status"] == "ok"]
    top_stage = board["stage"].max() if not board.empty else 0
    board = board[board["stage"] == top_stage].head(15).iloc[::-1]
    figure, axis = plt.subplots(figsize=(8, 0.35 * max(len(board), 3) + 1))
    labels = [f"{d[:60]}" for d in board["description"]]
    axis.barh(
        range(len(board)),
        board["score"],
        xerr=board["std"].fillna(0),
        color=[_ORIGIN_COLOURS.get(o, "#999") for o in board["origin"]],
        alpha=0.85,
    )
    axis.set_yticks(range(len(board)), labels, fontsize=7)
    if len(board):
        low = float((board["score"] - board["std"].fillna(0)).min())
        high = float((board["score"] + board["std"].fillna(0)).max())
        pad = (high - low) * 0.1 or 0.01
        axis.set_xlim(low - pad, high + pad)
    axis.set_xlabel(f"{result.metric} (cross-validated, ± std over folds)")
    axis.set_title("Leaderboard (green: warm start, purple: default, orange: optimizer)")
    return _png(figure)


def _pruning_plot(result: SearchResult) -> str | None:
    import matplotlib.pyplot as plt

    cuts = [c for c in result.cuts if c.kept_share is not None]
    if not cuts:
        return None
    figure, axis = plt.subplots(figsize=(8, 0.3 * len(cuts) + 1))
    colours = ["#c0392b" if c.source == "prior" else "#7f8c8d" for c in cuts]
    axis.barh(range(len(cuts)), [max(c.kept_share or 0, 0.01) for c in cuts], color=colours)
    axis.set_yticks(range(len(cuts)), [f"{c.kind}: {c.target}" for c in cuts], fontsize=7)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of the space kept (0 = dropped)")
    axis.set_title("What was pruned (red: by the prior, grey: by your constraints)")
    return _png(figure)


def _table(rows: list[dict[str, Any]], columns: list[str], numeric: set[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, float):
                text = f"{value:.4g}" if value == value else ""
            else:
                text = "" if value is None else str(value)
            css = ' class="num"' if column in numeric else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_report(result: SearchResult) -> str:
    """The report as one HTML document."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    best = result.best
    facts = [
        ("dataset", f"{result.dataset_name} ({result.n_rows} rows, {result.task_type})"),
        ("preset", result.preset),
        (
            "metric",
            f"{result.metric} ({'higher' if result.higher_is_better else 'lower'} is better), {result.cv}-fold CV",
        ),
        (
            "budget",
            f"{result.budget_seconds:.1f} s; used {result.elapsed_seconds:.1f} s ({result.stopped_because})",
        ),
        (
            "evaluations",
            f"{len(result.evaluations)} ({sum(e.status not in ('ok', 'stopped') for e in result.evaluations)} failed)",
        ),
        ("seed", str(result.seed)),
    ]
    if best is not None:
        facts.append(("best pipeline", best.candidate.spec.describe()))
        facts.append(
            (
                "score",
                f"{best.score:.4f} ± {best.std or 0:.4f} on {best.fidelity.label}"
                if best.score is not None
                else "not scored: nothing completed in time",
            )
        )
        facts.append(("why it was tried", best.candidate.reason))
        if result.refit_rows is not None:
            facts.append(
                (
                    "refit",
                    f"on {result.refit_rows} rows in {result.refit_seconds or 0:.2f} s, {result.model_bytes or 0:,} bytes pickled",
                )
            )
    grid = "".join(
        f"<div class='muted'>{html.escape(k)}</div><div>{html.escape(v)}</div>" for k, v in facts
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>mile-meta search: {html.escape(result.dataset_name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>mile-meta search on {html.escape(result.dataset_name)}</h1><div class='grid'>{grid}</div>",
    ]
    if best is not None:
        parts.append(
            f"<h2>Model</h2><pre><code>{html.escape(best.candidate.spec.to_json())}</code></pre>"
        )
    parts.append(
        f"<h2>Best score over time</h2><img alt='best score over time' src='data:image/png;base64,{_score_over_time(result)}'>"
    )
    if any(e.status == "ok" for e in result.evaluations):
        parts.append(
            f"<h2>Leaderboard</h2><img alt='leaderboard' src='data:image/png;base64,{_leaderboard_plot(result)}'>"
        )
    board = result.leaderboard.head(100).to_dict(orient="records")
    parts.append(
        _table(
            board,
            [
                "rank",
                "description",
                "score",
                "std",
                "fit_seconds",
                "fidelity",
                "status",
                "reason",
                "error",
            ],
            {"rank", "score", "std", "fit_seconds"},
        )
    )
    parts.append("<h2>What was pruned and why</h2>")
    pruning = _pruning_plot(result)
    if pruning:
        parts.append(f"<img alt='pruning' src='data:image/png;base64,{pruning}'>")
    if result.cuts:
        parts.append(
            _table(
                [c.__dict__ for c in result.cuts],
                ["kind", "target", "source", "before", "after", "reason"],
                set(),
            )
        )
    else:
        parts.append("<p class='muted'>Nothing was pruned.</p>")
    parts.append("<h2>Warm start</h2>")
    if result.initial_design:
        parts.append(
            _table(
                [
                    {"description": c.spec.describe(), "reason": c.reason}
                    for c in result.initial_design
                ],
                ["description", "reason"],
                set(),
            )
        )
    else:
        parts.append(
            "<p class='muted'>No initial design: the optimizer proposed every candidate.</p>"
        )
    parts.append("<h2>Fidelity schedule</h2>")
    parts.append(
        _table(
            [
                {
                    "stage": f.rung,
                    "rows": f.rows,
                    "fraction": f.fraction,
                    "expected rank agreement": f.rank_agreement,
                }
                for f in result.fidelities
            ],
            ["stage", "rows", "fraction", "expected rank agreement"],
            {"stage", "rows", "fraction", "expected rank agreement"},
        )
    )
    if result.notes:
        parts.append(
            "<h2>Notes</h2><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
            + "</ul>"
        )
    parts.append("</body></html>")
    return "".join(parts)
