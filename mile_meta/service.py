"""The local HTTP service: recommendations and priors over HTTP, bound to loopback by default.

    mile-meta serve --port 8765            # OpenAPI docs at http://127.0.0.1:8765/docs

``POST /recommend`` and ``POST /priors`` take either JSON meta-features
(``{"meta_features": {...}, "task_type": "binary", ...}``) or a multipart upload of a CSV or
Parquet file with a ``target`` field. Every answer has a typed response model (see
``/openapi.json``), so a client generator gets real types.

Hostile or broken input gets a 4xx answer whose ``detail`` is one line naming the problem and
the fix, never a server path: 400 unreadable or too deeply nested body, 413 body over the size
limit (1 MB for JSON, ``max_upload_bytes`` for uploads), 415 unsupported content type, 422
invalid request (missing target, empty or unreadable file, meta-features that are not finite
or counts that are negative, unknown metric or format). Uploads are written to a private
temporary file whose name never comes from the client, and removed when the request ends.

The interactive docs at ``/docs`` load Swagger UI from the ``swagger-ui-bundle`` package
installed with the ``serve`` extra, served by this process under ``/docs-assets``: nothing
is fetched from a CDN, and the service reaches no other host.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mile_meta import __version__
from mile_meta.errors import MileMetaError

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "HealthResponse",
    "PriorsRequest",
    "PriorsResponse",
    "RecommendRequest",
    "RecommendResponse",
    "VersionResponse",
    "create_app",
]

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024  # meta-features are a few kilobytes; anything near this is abuse
MAX_JSON_DEPTH = 16  # the deepest valid request is 2 levels
_MAX_META_FEATURES = 1000
_UPLOAD_SUFFIXES = {".csv": ".csv", ".tsv": ".tsv", ".txt": ".csv", ".parquet": ".parquet"}
_UPLOAD_SUFFIXES[".pq"] = ".parquet"


# -- requests -----------------------------------------------------------------------------------
class RecommendRequest(BaseModel):
    """Rank pipelines from OpenML-style meta-features."""

    model_config = ConfigDict(extra="forbid")

    meta_features: dict[str, float] = Field(
        ..., description="OpenML quality names to values, e.g. NumberOfInstances"
    )
    task_type: Literal["binary", "multiclass", "regression"] | None = Field(
        None, description="inferred from NumberOfClasses when absent"
    )
    metric: str | None = Field(
        None, max_length=100, description="e.g. balanced_accuracy, roc_auc, rmse"
    )
    top: int = Field(10, ge=1, le=1000)
    exclude_datasets: list[str | int] = Field(
        default_factory=list,
        max_length=100_000,
        description="knowledge-base datasets to ignore (OpenML ids)",
    )
    dataset_name: str = Field("dataset", max_length=200)

    @field_validator("meta_features")
    @classmethod
    def _finite_and_counts_non_negative(cls, values: dict[str, float]) -> dict[str, float]:
        if not values:
            raise ValueError("no meta-features; send at least NumberOfInstances")
        if len(values) > _MAX_META_FEATURES:
            raise ValueError(f"more than {_MAX_META_FEATURES} meta-features; send fewer")
        for name, value in values.items():
            if len(name) > 200:
                raise ValueError(f"meta-feature name longer than 200 characters: {name[:40]!r}…")
            if not math.isfinite(value):
                raise ValueError(f"{name} is {value}; every meta-feature must be a finite number")
            if name.startswith("Number") and value < 0:
                raise ValueError(f"{name} is {value:g}; counts cannot be negative")
        return values


class PriorsRequest(RecommendRequest):
    """Export the prior from OpenML-style meta-features."""

    format: str = Field(
        "json", max_length=50, description="optuna, configspace, flaml, hyperopt, raytune, json"
    )


# -- responses ----------------------------------------------------------------------------------
class HealthResponse(BaseModel):
    """The service is up and its knowledge base readable (no file paths are shown)."""

    status: Literal["ok"]
    datasets: int = Field(description="datasets in the knowledge base")


class VersionResponse(BaseModel):
    mile_meta: str
    prior_schema_version: int
    knowledge_base_checksum: str | None
    prior_formats: list[str]


class EvidenceItem(BaseModel):
    """A knowledge-base dataset behind a recommendation and the pipeline's result there."""

    dataset_id: str
    dataset_name: str | None = None
    distance: float | None = None
    score: float | None = None
    rank_on_dataset: int | None = None


class RecommendationItem(BaseModel):
    rank: int
    pipeline_id: str
    family: str
    origin_key: str | None = None
    description: str
    spec: dict[str, Any] = Field(description="the pipeline as data (PipelineSpec.to_dict)")
    predicted_score: float | None = None
    interval: list[float | None] = Field(description="[lower, upper] of the predicted score")
    expected_fit_seconds: float | None = None
    observed_score: float | None = None
    evidence: list[EvidenceItem]


class ProbeItem(BaseModel):
    pipeline_id: str
    mean: float | None = None
    std: float | None = None
    fit_seconds: float | None = None


class FailedProbeItem(BaseModel):
    pipeline_id: str
    error: str


class RecommendResponse(BaseModel):
    """The ranking for one dataset, best first, with the evidence behind each pipeline."""

    dataset: str
    task_type: str
    metric: str
    higher_is_better: bool
    knowledge_base_metric: str | None = None
    meta_learner: str
    seconds: float
    excluded_datasets: list[str]
    recommendations: list[RecommendationItem]
    probes: list[ProbeItem] = Field(default_factory=list)
    failed_probes: list[FailedProbeItem] = Field(default_factory=list)
    meta_features: dict[str, float | None]


class PriorsResponse(BaseModel):
    """The prior in the requested tool's terms; tool-specific fields are kept as they come."""

    model_config = ConfigDict(extra="allow")

    format: str
    starting_points: list[dict[str, Any]] = Field(
        description="the recommended configurations, in the tool's own parameter names"
    )
    report: list[str] = Field(description="what the tool cannot express, one note each")
    prior: dict[str, Any] = Field(description="the prior itself (docs/prior-schema.json)")
    module: str | None = Field(None, description="the file `mile-meta priors -o` would write")


class ErrorResponse(BaseModel):
    detail: str = Field(description="one line naming the problem and the fix")


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "unreadable or too deeply nested body"),
        (413, "body over the size limit"),
        (415, "unsupported content type"),
        (422, "invalid request or data"),
        (503, "knowledge base unavailable"),
    )
}


# -- request bodies in the OpenAPI document -------------------------------------------------------
_UPLOAD_FIELDS = {
    "type": "object",
    "required": ["file", "target"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV or Parquet"},
        "target": {"type": "string"},
        "task_type": {"type": "string", "enum": ["binary", "multiclass", "regression"]},
        "metric": {"type": "string"},
        "top": {"type": "integer", "default": 10},
        "exclude_datasets": {"type": "string", "description": "comma-separated ids"},
    },
}


def _request_body(model: type[BaseModel], extra_fields: dict[str, Any]) -> dict[str, Any]:
    upload = json.loads(json.dumps(_UPLOAD_FIELDS))
    upload["properties"].update(extra_fields)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "multipart/form-data": {"schema": upload},
            },
        }
    }


# -- limits -------------------------------------------------------------------------------------
class _BodySizeLimit:
    """Answer 413 once a request body passes ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        megabytes = self.limit / 1024 / 1024
        body = json.dumps(
            {"detail": f"upload larger than {megabytes:g} MB; send a smaller file or meta-features"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


# -- keeping server paths out of answers -----------------------------------------------------------
class _Scrubber:
    """Replaces this machine's paths (knowledge base, temporary folder, home) in messages."""

    def __init__(self, kb_path: Path) -> None:
        replacements = {
            str(kb_path): "the knowledge base",
            str(kb_path.parent): "the knowledge-base folder",
            tempfile.gettempdir(): "<temporary folder>",
            str(Path.home()): "~",
        }
        self._pairs = sorted(replacements.items(), key=lambda pair: -len(pair[0]))

    def __call__(self, text: str, upload: _Upload | None = None) -> str:
        if upload is not None:
            text = text.replace(upload.path, upload.filename)
        for path, placeholder in self._pairs:
            if path and path != "/":
                text = text.replace(path, placeholder)
        # any other absolute path left (a library's message) is reduced to its file name
        text = re.sub(r"(?<![\w.:/])/(?:[\w.+-]+/)+([\w.+-]+)", r"\1", text)
        first = text.strip().splitlines()[0] if text.strip() else "invalid request"
        return first[:500]


def _one_line(error: ValidationError | RequestValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where or 'request'}: {message}"


# -- the application ------------------------------------------------------------------------------
def create_app(
    kb_path: str | Path | None = None, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> FastAPI:
    """The FastAPI application serving the knowledge base at ``kb_path`` (default location
    when None)."""
    from mile_meta.config import default_kb_path
    from mile_meta.kb import KnowledgeBase

    resolved = Path(kb_path).expanduser() if kb_path is not None else default_kb_path()
    scrub = _Scrubber(resolved)
    app = FastAPI(
        title="mile-meta",
        version=__version__,
        description="What to try first on a dataset, and the prior to give your optimizer.",
        docs_url=None,  # served below from locally installed assets, never a CDN
        redoc_url=None,  # ReDoc ships no offline bundle on PyPI; /docs covers it
    )
    _mount_docs(app)

    @app.exception_handler(MileMetaError)
    async def _bad_input(request: Request, error: MileMetaError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": scrub(str(error))})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": scrub(_one_line(error))})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=error.status_code,
            content={"detail": scrub(str(error.detail))},
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # a bug, not bad input: say so without the traceback or any path
        return JSONResponse(
            status_code=500,
            content={"detail": f"internal error ({type(error).__name__}); please report it"},
        )

    def open_kb() -> KnowledgeBase:
        return KnowledgeBase.open(resolved, must_exist=True)

    @app.get(
        "/health",
        summary="Is the service up and the knowledge base readable?",
        response_model=HealthResponse,
        responses={503: _ERRORS[503]},
    )
    def health() -> HealthResponse:
        try:
            with open_kb() as kb:
                datasets = kb.dataset_count()
        except MileMetaError as error:
            raise HTTPException(status_code=503, detail=scrub(str(error))) from None
        return HealthResponse(status="ok", datasets=datasets)

    @app.get(
        "/version",
        summary="Versions of mile-meta, the prior schema and the knowledge base",
        response_model=VersionResponse,
    )
    def version() -> VersionResponse:
        from mile_meta.priors import FORMATS, SCHEMA_VERSION

        checksum = None
        if resolved.exists():
            with open_kb() as kb:
                checksum = kb.checksum()
        return VersionResponse(
            mile_meta=__version__,
            prior_schema_version=SCHEMA_VERSION,
            knowledge_base_checksum=checksum,
            prior_formats=list(FORMATS),
        )

    errors: dict[int | str, dict[str, Any]] = {code: _ERRORS[code] for code in (400, 413, 415, 422)}

    @app.post(
        "/recommend",
        summary="Rank pipelines from meta-features (JSON) or an uploaded CSV (multipart)",
        openapi_extra=_request_body(RecommendRequest, {}),
        response_model=RecommendResponse,
        responses=errors,
    )
    async def recommend_endpoint(request: Request) -> dict[str, Any]:
        parsed = await _parse(request, RecommendRequest, scrub)
        return await run_in_threadpool(_recommend, parsed, open_kb, scrub)

    @app.post(
        "/priors",
        summary="The prior for an optimizer, from meta-features (JSON) or an uploaded CSV",
        openapi_extra=_request_body(
            PriorsRequest, {"format": {"type": "string", "default": "json"}}
        ),
        response_model=PriorsResponse,
        responses=errors,
    )
    async def priors_endpoint(request: Request) -> dict[str, Any]:
        parsed = await _parse(request, PriorsRequest, scrub)
        return await run_in_threadpool(_priors, parsed, open_kb, scrub)

    app.add_middleware(_BodySizeLimit, limit=max_upload_bytes)
    return app


def _mount_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the installed ``swagger-ui-bundle`` package."""
    from fastapi.staticfiles import StaticFiles

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        swagger_ui_path = None

    if swagger_ui_path is not None:
        app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if swagger_ui_path is None:
            return HTMLResponse(
                "<p>The interactive docs need swagger-ui-bundle: "
                "<code>pip install 'mile-meta[serve]'</code>. The OpenAPI document is at "
                '<a href="/openapi.json">/openapi.json</a>.</p>'
            )
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="mile-meta API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


# -- parsing --------------------------------------------------------------------------------------
class _Upload(BaseModel):
    """A parsed multipart request: the data file saved to disk and the form fields."""

    path: str
    filename: str = "upload.csv"
    target: str = Field(max_length=1000)
    task_type: Literal["binary", "multiclass", "regression"] | None = None
    metric: str | None = Field(None, max_length=100)
    top: int = Field(10, ge=1, le=1000)
    exclude_datasets: list[str] = Field(default_factory=list)
    format: str = Field("json", max_length=50)
    name: str = "upload"


async def _parse(
    request: Request, model: type[RecommendRequest], scrub: _Scrubber
) -> RecommendRequest | _Upload:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await _parse_json(request, model)
    if content_type == "multipart/form-data":
        return await _parse_upload(request, scrub)
    raise HTTPException(
        status_code=415,
        detail=f"unsupported content type {content_type[:80] or 'none'!r}; send "
        "application/json meta-features or a multipart/form-data upload",
    )


async def _parse_json(request: Request, model: type[RecommendRequest]) -> RecommendRequest:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise HTTPException(
                status_code=413,
                detail=f"JSON body larger than {MAX_JSON_BYTES // 1024} kB; send only the "
                "meta-features (or upload the data file as multipart)",
            )
    try:
        payload = json.loads(bytes(body))
    except RecursionError:
        payload = None
        depth = MAX_JSON_DEPTH + 1
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(
            status_code=400, detail="the body is not valid JSON; send a JSON object"
        ) from None
    else:
        depth = _depth(payload, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise HTTPException(
            status_code=400,
            detail=f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels; send a flat "
            "object of meta-features",
        )
    if not isinstance(payload, dict):
        raise HTTPException(
            status_code=422, detail="request: the body must be a JSON object with meta_features"
        )
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise HTTPException(status_code=422, detail=_one_line(error)) from None


def _safe_name(filename: str) -> str:
    """The dataset name for an uploaded file: its stem, without any path, kept short."""
    stem = re.split(r"[\\/]", filename)[-1].split(".")[0]
    cleaned = re.sub(r"[^\w.-]+", "_", stem).strip("._")[:100]
    return cleaned or "upload"


async def _parse_upload(request: Request, scrub: _Scrubber) -> _Upload:
    try:
        form = await request.form()
    except _TooLarge:
        raise
    except Exception as error:
        raise HTTPException(
            status_code=400,
            detail=f"cannot read the multipart body ({scrub(str(error))}); resend the file",
        ) from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise HTTPException(
            status_code=422, detail="file: missing; upload the data as the multipart field 'file'"
        )
    target = form.get("target")
    if not isinstance(target, str) or not target.strip():
        raise HTTPException(
            status_code=422, detail="target: missing; send the target column's name as 'target'"
        )
    filename = (upload.filename or "upload.csv")[-255:]
    # the client's name only chooses the reader (by its last suffix); the file on disk gets a
    # name of our own, so no suffix chain or path in it reaches the filesystem
    suffix = _UPLOAD_SUFFIXES.get(os.path.splitext(filename)[1].lower(), ".csv")
    descriptor, temporary = tempfile.mkstemp(prefix="mile-meta-upload-", suffix=suffix)
    size = 0
    with os.fdopen(descriptor, "wb") as handle:
        try:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                handle.write(chunk)
        except BaseException:  # over the size limit or a dropped connection: keep no copy
            handle.close()
            Path(temporary).unlink(missing_ok=True)
            raise
    if size == 0:
        Path(temporary).unlink(missing_ok=True)
        raise HTTPException(
            status_code=422, detail=f"file: {_safe_name(filename)} is empty; upload a data file"
        )
    fields: dict[str, Any] = {
        "path": temporary,
        "filename": re.split(r"[\\/]", filename)[-1][:100] or "upload",
        "target": target,
        "name": _safe_name(filename),
    }
    for key in ("task_type", "metric", "top", "format"):
        value = form.get(key)
        if isinstance(value, str) and value.strip():
            fields[key] = value.strip()
    excluded = form.get("exclude_datasets")
    if isinstance(excluded, str) and excluded.strip():
        fields["exclude_datasets"] = [item.strip() for item in excluded.split(",") if item.strip()]
    try:
        return _Upload.model_validate(fields)
    except ValidationError as error:
        Path(temporary).unlink(missing_ok=True)
        raise HTTPException(status_code=422, detail=_one_line(error)) from None


# -- work -----------------------------------------------------------------------------------------
def _load_upload(parsed: _Upload, scrub: _Scrubber) -> Any:
    """The uploaded file as a Dataset, or a 422 naming what is wrong with it."""
    from mile_meta.data import load_dataset

    try:
        return load_dataset(
            parsed.path, parsed.target, task_type=parsed.task_type, name=parsed.name
        )
    except MileMetaError as error:
        raise HTTPException(status_code=422, detail=scrub(str(error), parsed)) from None
    except ImportError as error:
        raise HTTPException(
            status_code=422,
            detail=f"file: this service cannot read {parsed.filename} ({scrub(str(error))}); "
            "install the parquet extra on the server or upload a CSV",
        ) from None
    except Exception as error:  # the readers' own errors on malformed files
        raise HTTPException(
            status_code=422,
            detail=f"file: cannot read {parsed.filename} ({scrub(str(error), parsed)}); upload "
            "a valid CSV or Parquet file",
        ) from None


def _recommend(
    parsed: RecommendRequest | _Upload, open_kb: Any, scrub: _Scrubber
) -> dict[str, Any]:
    from mile_meta.recommend import (
        recommend,
        recommend_from_metafeatures,
        task_type_from_metafeatures,
    )

    with _removing_upload(parsed):
        if isinstance(parsed, _Upload):
            dataset = _load_upload(parsed, scrub)
            with open_kb() as kb:
                report = recommend(
                    dataset,
                    kb=kb,
                    metric=parsed.metric,
                    top=parsed.top,
                    exclude_datasets=parsed.exclude_datasets,
                    record_probes=False,
                )
        else:
            with open_kb() as kb:
                report = recommend_from_metafeatures(
                    parsed.meta_features,
                    parsed.task_type or task_type_from_metafeatures(parsed.meta_features),
                    kb=kb,
                    metric=parsed.metric,
                    top=parsed.top,
                    exclude_datasets=parsed.exclude_datasets,
                    dataset_name=parsed.dataset_name,
                )
    return report.to_dict()


@contextlib.contextmanager
def _removing_upload(parsed: RecommendRequest | _Upload) -> Iterator[None]:
    """The uploaded copy of the user's data lives only as long as the request, whatever fails."""
    try:
        yield
    finally:
        if isinstance(parsed, _Upload):
            Path(parsed.path).unlink(missing_ok=True)


def _priors(parsed: RecommendRequest | _Upload, open_kb: Any, scrub: _Scrubber) -> dict[str, Any]:
    from mile_meta.priors import build_prior, exporter

    format_name = parsed.format if isinstance(parsed, _Upload | PriorsRequest) else "json"
    with _removing_upload(parsed):
        chosen = exporter(format_name)  # an unknown format fails before any work
        data: Any
        if isinstance(parsed, _Upload):
            data, target, name = _load_upload(parsed, scrub), None, parsed.name
        else:
            data, target, name = parsed.meta_features, None, parsed.dataset_name
        with open_kb() as kb:
            prior = build_prior(
                data,
                target,
                kb=kb,
                metric=parsed.metric,
                top=parsed.top,
                task_type=parsed.task_type,
                exclude_datasets=parsed.exclude_datasets,
                name=name,
            )
    exported = chosen.export(prior)
    payload = exported.payload()
    if format_name != "json":
        payload["module"] = chosen.module_source(exported)
    return payload
