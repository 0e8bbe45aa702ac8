"""A fast reader for OpenML evaluation lists (``evaluation/list/...``), the crawler's hot path.

openml 0.15.1 reads these pages with ``xmltodict`` into dicts and then objects, 12,000 to
20,000 evaluations per second on one core: slower than the knowledge base writes them. Here
expat checks the document (C speed, so a truncated or malformed page is refused as a whole)
and one regular expression per field collects that field of every ``<oml:evaluation>`` in
document order; rows are typed tuples. When some evaluation lacks a field (a measure
listed without a value), the page is read evaluation by evaluation instead. Same result as
openml's reading, checked by the tests on recorded pages.
"""

from __future__ import annotations

import html
import re
import xml.parsers.expat
from typing import NamedTuple

from mile_meta.sources.openml._transport import OpenMLCrawlError

__all__ = ["ListedEvaluation", "parse_evaluation_list"]

_ROOT = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?<oml:evaluations[\s>]")
_FIELD = re.compile(r"<oml:(\w+)>([^<]*)</oml:\1>")
_REQUIRED = ("run_id", "task_id", "setup_id", "flow_id", "data_id", "function")
_COLUMNS = (
    "run_id",
    "task_id",
    "setup_id",
    "flow_id",
    "flow_name",
    "data_id",
    "data_name",
    "function",
    "upload_time",
    "uploader",
    "value",
)
_COLUMN_PATTERNS = {name: re.compile(rf"<oml:{name}>([^<]*)</oml:{name}>") for name in _COLUMNS}


class ListedEvaluation(NamedTuple):
    """One row of an OpenML evaluation list: a run's aggregate value for one measure.

    ``value`` is None when OpenML lists the run without a value for this measure (only
    per-fold values or array data).
    """

    run_id: int
    task_id: int
    setup_id: int
    flow_id: int
    flow_name: str
    data_id: int
    data_name: str
    function: str
    upload_time: str
    uploader: int | None
    value: float | None


def _text(raw: str) -> str:
    return html.unescape(raw) if "&" in raw else raw


def _check_well_formed(body: str) -> None:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as error:
        raise OpenMLCrawlError(
            f"OpenML sent a malformed evaluation list ({error}); nothing of it was written, "
            "rerun with --resume"
        ) from None


def parse_evaluation_list(
    body: str | bytes, *, check_well_formed: bool = True
) -> list[ListedEvaluation]:
    """The evaluations of one ``evaluation/list`` page, in the order OpenML listed them.

    ``check_well_formed=False`` skips the expat pass, for bodies the transport has already
    checked.
    """
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not _ROOT.match(text[:512]):
        raise OpenMLCrawlError(
            "OpenML's answer to an evaluation listing is not an <oml:evaluations> document; "
            "check --server (it should end in /api/v1/xml)"
        )
    if check_well_formed:
        _check_well_formed(text)
    try:
        rows = _read_columns(text)
        if rows is None:
            rows = _read_blocks(text)
    except ValueError as error:
        raise OpenMLCrawlError(
            f"an evaluation in OpenML's list has an unreadable number ({error}); nothing of "
            "the page was written"
        ) from None
    return rows


def _read_columns(text: str) -> list[ListedEvaluation] | None:
    """Every field of every evaluation at once; None unless each evaluation has each field once."""
    count = text.count("<oml:evaluation>")
    columns = {name: pattern.findall(text) for name, pattern in _COLUMN_PATTERNS.items()}
    if any(len(column) != count for column in columns.values()):
        return None
    if any(not item.strip() for name in _REQUIRED for item in columns[name]):
        return None  # an empty required field: let the careful reader name it
    names = [_text(item) for item in columns["flow_name"]] if "&" in text else columns["flow_name"]
    data_names = (
        [_text(item) for item in columns["data_name"]] if "&" in text else columns["data_name"]
    )
    functions = (
        [_text(item) for item in columns["function"]] if "&" in text else columns["function"]
    )
    values = [_number(item) for item in columns["value"]]
    uploaders = [int(item) if item.strip() else None for item in columns["uploader"]]
    return [
        ListedEvaluation(*fields)
        for fields in zip(
            map(int, columns["run_id"]),
            map(int, columns["task_id"]),
            map(int, columns["setup_id"]),
            map(int, columns["flow_id"]),
            names,
            map(int, columns["data_id"]),
            data_names,
            functions,
            columns["upload_time"],
            uploaders,
            values,
            strict=True,
        )
    ]


def _number(raw: str) -> float | None:
    raw = raw.strip()
    return float(raw) if raw and raw != "null" else None


def _read_blocks(text: str) -> list[ListedEvaluation]:
    rows: list[ListedEvaluation] = []
    for block in text.split("<oml:evaluation>")[1:]:
        fields = dict(_FIELD.findall(block))
        missing = [name for name in _REQUIRED if not fields.get(name, "").strip()]
        if missing:
            raise OpenMLCrawlError(
                f"an evaluation in OpenML's list lacks {', '.join(missing)}; nothing of the "
                "page was written, rerun with --resume (report it if it persists)"
            )
        uploader = fields.get("uploader", "").strip()
        rows.append(
            ListedEvaluation(
                run_id=int(fields["run_id"]),
                task_id=int(fields["task_id"]),
                setup_id=int(fields["setup_id"]),
                flow_id=int(fields["flow_id"]),
                flow_name=_text(fields.get("flow_name", "")),
                data_id=int(fields["data_id"]),
                data_name=_text(fields.get("data_name", "")),
                function=_text(fields["function"]),
                upload_time=fields.get("upload_time", ""),
                uploader=int(uploader) if uploader else None,
                value=_number(fields.get("value", "")),
            )
        )
    return rows
