"""The workbench's web application: a JSON API over :class:`Workbench` and one page.

Everything the page loads comes from this server: the page, its script and style (written
for mile-meta, in ``mile_meta/ui/static``) and plotly's bundled JavaScript, served from the
installed ``plotly`` package. Nothing is fetched from the internet.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.resources
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mile_meta import __version__
from mile_meta.errors import DataError, KnowledgeBaseError, MileMetaError
from mile_meta.ui._workbench import Workbench, WorkbenchError, json_safe

__all__ = ["create_app"]

_STATIC = Path(str(importlib.resources.files("mile_meta.ui") / "static"))
_STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise WorkbenchError("plotly's bundled JavaScript is missing; reinstall plotly", 500)
    return path


class _Compressed:
    """plotly.min.js gzipped once (about 4.8 MB raw, 1.4 MB compressed)."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    def get(self) -> bytes:
        if self.body is None:
            self.body = gzip.compress(_plotly_js().read_bytes(), compresslevel=6)
        return self.body


def _status_of(error: MileMetaError) -> int:
    if isinstance(error, WorkbenchError):
        return error.status
    from mile_meta.kb import StaleSessionError

    if isinstance(error, StaleSessionError):
        return 409
    if isinstance(error, DataError | KnowledgeBaseError):
        return 400
    return 400


def create_app(workbench: Workbench, *, loopback_only: bool = True) -> FastAPI:
    """The FastAPI application serving ``workbench``.

    With ``loopback_only`` requests must name a loopback host, which keeps web pages from
    other sites out of the workbench through DNS rebinding.
    """
    app = FastAPI(title="mile-meta workbench", version=__version__, docs_url=None, redoc_url=None)
    if loopback_only:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=_LOOPBACK_HOSTS)
    plotly_js = _Compressed()
    app.state.workbench = workbench

    @app.exception_handler(MileMetaError)
    async def refused(request: Request, error: MileMetaError) -> JSONResponse:
        return JSONResponse({"error": str(error).splitlines()[0]}, status_code=_status_of(error))

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        # the page shows one line; the server's log keeps the traceback
        import traceback

        traceback.print_exception(error)
        first = (str(error).splitlines() or [""])[0]
        return JSONResponse(
            {
                "error": f"the workbench failed ({type(error).__name__}: {first}); see the server log"
            },
            status_code=500,
        )

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> JSONResponse:
        return JSONResponse({"error": str(error).splitlines()[0]}, status_code=400)

    # -- the page --------------------------------------------------------------------------
    # held in memory and answered on the event loop: no file read, no worker thread, so the
    # page comes at once even while a warm-up or an evaluation keeps the process busy
    pages = {name: (_STATIC / name).read_bytes() for name in _STATIC_FILES}
    revalidate = {"Cache-Control": "no-cache"}

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return Response(pages["index.html"], media_type="text/html", headers=revalidate)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in pages:
            return JSONResponse({"error": f"no file {name}"}, status_code=404)
        return Response(pages[name], media_type=_STATIC_FILES[name], headers=revalidate)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly(request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=86400"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = plotly_js.get()
            return Response(
                body,
                media_type="text/javascript",
                headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return FileResponse(_plotly_js(), media_type="text/javascript", headers=headers)

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "kb": str(workbench.kb_path)}

    # -- data in ---------------------------------------------------------------------------
    @app.put("/api/data/upload")
    async def upload(request: Request, filename: str) -> Any:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > workbench.max_upload_bytes:
            raise WorkbenchError(
                f"{filename} ({int(declared) / 1e6:.1f} MB) is larger than the upload limit of "
                f"{workbench.max_upload_bytes / 1e6:.0f} MB; open it by path instead, or restart "
                "with a larger --max-upload-mb",
                413,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > workbench.max_upload_bytes:
                raise WorkbenchError(
                    f"{filename} is larger than the upload limit of "
                    f"{workbench.max_upload_bytes / 1e6:.0f} MB; open it by path instead",
                    413,
                )
            chunks.append(chunk)
        return await run_in_threadpool(workbench.save_upload, filename, chunks)

    @app.post("/api/data/open")
    def open_path(payload: dict[str, Any]) -> Any:
        return workbench.open_path(str(payload.get("path") or ""))

    @app.post("/api/sessions")
    def create_session(payload: dict[str, Any]) -> Any:
        return workbench.create_session(
            str(payload.get("data_id") or ""),
            str(payload.get("target") or ""),
            task_type=payload.get("task_type") or None,
            metric=payload.get("metric") or None,
        )

    @app.get("/api/sessions")
    def sessions() -> Any:
        return workbench.sessions()

    @app.get("/api/sessions/{session_id}")
    def session(session_id: str) -> Any:
        return workbench.session(session_id)

    @app.get("/api/sessions/{session_id}/profile")
    def profile(session_id: str) -> Any:
        return workbench.profile(session_id)

    @app.get("/api/sessions/{session_id}/recommendations")
    def recommendations(session_id: str, top: int = 25) -> Any:
        return workbench.recommendations(session_id, top=max(1, min(top, 500)))

    @app.get("/api/sessions/{session_id}/recommendations/{pipeline_id}")
    def details(session_id: str, pipeline_id: str) -> Any:
        return workbench.details(session_id, pipeline_id)

    # -- editing and evaluating ------------------------------------------------------------
    @app.post("/api/sessions/{session_id}/form")
    def form(session_id: str, payload: dict[str, Any]) -> Any:
        return workbench.form(session_id, payload.get("spec"), payload.get("estimator"))

    @app.post("/api/validate")
    def validate(payload: dict[str, Any]) -> Any:
        return workbench.validate(list(payload.get("steps") or []))

    @app.post("/api/sessions/{session_id}/evaluate")
    def evaluate(session_id: str, payload: dict[str, Any]) -> Any:
        revision = payload.get("expected_revision")
        job = workbench.evaluate(
            session_id,
            list(payload.get("steps") or []),
            parent_id=payload.get("parent_id") or None,
            author=str(payload.get("author") or "user"),
            action=str(payload.get("action") or "edited"),
            expected_revision=int(revision) if revision is not None else None,
        )
        return job.summary()

    @app.get("/api/compare")
    def compare(a: str, b: str) -> Any:
        return workbench.compare(a, b)

    # -- searches --------------------------------------------------------------------------
    @app.post("/api/constraints/check")
    def check(payload: dict[str, Any]) -> Any:
        return workbench.check_constraints(str(payload.get("task_type") or "binary"), payload)

    @app.post("/api/sessions/{session_id}/search")
    def search(session_id: str, payload: dict[str, Any]) -> Any:
        return workbench.start_search(
            session_id, payload, replan=bool(payload.get("replan"))
        ).summary()

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> Any:
        found = workbench.jobs.get(job_id)
        if found is None:
            raise WorkbenchError(f"no job {job_id}", 404)
        return found.summary()

    @app.post("/api/jobs/{job_id}/stop")
    def stop(job_id: str) -> Any:
        found = workbench.jobs.get(job_id)
        if found is None:
            raise WorkbenchError(f"no job {job_id}", 404)
        found.stop_requested.set()
        return found.summary()

    @app.get("/api/jobs/{job_id}/events")
    async def events(job_id: str, request: Request, cursor: int = 0) -> Response:
        found = workbench.jobs.get(job_id)
        if found is None:
            raise WorkbenchError(f"no job {job_id}", 404)

        async def stream() -> Any:
            position = max(0, cursor)
            while True:
                new = await run_in_threadpool(found.wait_for_events, position, 1.0)
                for event in new:
                    position += 1
                    yield f"id: {position}\ndata: {json.dumps(json_safe(event), allow_nan=False)}\n\n"
                    if event.get("type") == "end":
                        return
                if not new:
                    yield ": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    # -- the knowledge base ----------------------------------------------------------------
    @app.get("/api/kb/browse/{table}")
    def browse(
        table: str,
        request: Request,
        offset: int = 0,
        limit: int = 50,
        sort: str | None = None,
        descending: bool = False,
    ) -> Any:
        filters = {
            key[len("filter_") :]: value
            for key, value in request.query_params.items()
            if key.startswith("filter_")
        }
        return workbench.browse(
            table, filters=filters, sort=sort, descending=descending, offset=offset, limit=limit
        )

    @app.post("/api/kb/query")
    def query(payload: dict[str, Any]) -> Any:
        return workbench.query(str(payload.get("sql") or ""))

    @app.get("/api/kb/patterns")
    def patterns(q: str = "") -> Any:
        return workbench.patterns(q)

    # -- plots -----------------------------------------------------------------------------
    @app.get("/api/sessions/{session_id}/neighbourhood")
    def neighbourhood(session_id: str) -> Any:
        return workbench.neighbourhood(session_id)

    @app.get("/api/sessions/{session_id}/answers/{question}")
    def answer(session_id: str, question: str) -> Any:
        return workbench.answer(session_id, question)

    return app
