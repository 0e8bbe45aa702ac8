"""The workbench: a web page where recommending, editing, evaluating and searching meet.

``mile-meta ui`` serves it on 127.0.0.1; from Python::

    from mile_meta.ui import create_app
    app = create_app("kb.sqlite", data_dir="workbench-data")   # a FastAPI application

It needs the ``ui`` extra (FastAPI, uvicorn, plotly): ``pip install 'mile-meta[ui]'``. Every
script, style and font the page loads is served by the workbench itself (plotly's bundled
JavaScript from the installed package), so it works with no internet access.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mile_meta.errors import MileMetaError

__all__ = ["UI_REQUIREMENTS", "create_app", "default_data_dir", "missing_requirements"]

UI_REQUIREMENTS = ("fastapi", "uvicorn", "plotly")


def missing_requirements() -> list[str]:
    """The packages of the ``ui`` extra that are not installed."""
    return [name for name in UI_REQUIREMENTS if importlib.util.find_spec(name) is None]


def default_data_dir() -> Path:
    """Where uploads and cached folds go: ``workbench/`` beside the default knowledge base."""
    from mile_meta.config import default_kb_path

    return default_kb_path().parent / "workbench"


def create_app(
    kb_path: str | Path,
    *,
    data_dir: str | Path | None = None,
    max_upload_bytes: int = 50 * 1024 * 1024,
    loopback_only: bool = True,
) -> Any:
    """The workbench's FastAPI application on the knowledge base at ``kb_path``.

    Uploaded files are kept in ``data_dir/uploads`` (default :func:`default_data_dir`);
    larger uploads than ``max_upload_bytes`` are refused with HTTP 413.
    """
    missing = missing_requirements()
    if missing:
        raise MileMetaError(
            f"the workbench needs the ui extra ({', '.join(missing)} not installed): "
            "pip install 'mile-meta[ui]' (or pip install -e '.[ui]' in a checkout)"
        )
    from mile_meta.ui._app import create_app as build
    from mile_meta.ui._workbench import Workbench

    workbench = Workbench(
        Path(kb_path),
        Path(data_dir) if data_dir is not None else default_data_dir(),
        max_upload_bytes=max_upload_bytes,
    )
    return build(workbench, loopback_only=loopback_only)
