"""The local HTTP service: recommendations and priors over HTTP, bound to loopback by default.

    mile-meta serve --port 8765            # OpenAPI docs at http://127.0.0.1:8765/docs

``POST /recommend`` and ``POST /priors`` take either JSON meta-features
(``{"meta_features": {...}, "task_type": "binary", ...}``) or a multipart upload of a CSV or
Parquet file with a ``target`` field. Bad input gets a 4xx answer whose ``detail`` is one line
naming the problem and the fix: 400 unreadable body, 413 upload over the size limit, 415
unsupported content type, 422 invalid request (missing target, unknown metric or format).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mile_meta import __version__
from mile_meta.errors import MileMetaError

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "create_app"]

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class RecommendRequest(BaseModel):
    """Rank pipelines from OpenML-style meta-features."""

    meta_features: dict[str, float] = Field(
        ..., description="OpenML quality names to values, e.g. NumberOfInstances"
    )
    task_type: Literal["binary", "multiclass", "regression"] | None = Field(
        None, description="inferred from NumberOfClasses when absent"
    )
    metric: str | None = Field(None, description="e.g. balanced_accuracy, roc_auc, rmse")
    top: int = Field(10, ge=1, le=1000)
    exclude_datasets: list[str | int] = Field(
        default_factory=list, description="knowledge-base datasets to ignore (OpenML ids)"
    )
    dataset_name: str = "dataset"


class PriorsRequest(RecommendRequest):
    """Export the prior from OpenML-style meta-features."""

    format: str = Field("json", description="optuna, configspace, flaml, hyperopt, raytune, json")


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


def _one_line(error: ValidationError | RequestValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return f"{where or 'request'}: {first.get('msg', 'invalid')}"


def create_app(
    kb_path: str | Path | None = None, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> FastAPI:
    """The FastAPI application serving the knowledge base at ``kb_path`` (default location
    when None)."""
    from mile_meta.config import default_kb_path
    from mile_meta.kb import KnowledgeBase

    resolved = Path(kb_path).expanduser() if kb_path is not None else default_kb_path()
    app = FastAPI(
        title="mile-meta",
        version=__version__,
        description="What to try first on a dataset, and the prior to give your optimizer.",
    )

    @app.exception_handler(MileMetaError)
    async def _bad_input(request: Request, error: MileMetaError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(error)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _one_line(error)})

    def open_kb() -> KnowledgeBase:
        return KnowledgeBase.open(resolved, must_exist=True)

    @app.get("/health", summary="Is the service up and the knowledge base readable?")
    def health() -> dict[str, Any]:
        try:
            with open_kb() as kb:
                datasets = kb.db["datasets"].count
        except MileMetaError as error:
            raise HTTPException(status_code=503, detail=str(error)) from None
        return {"status": "ok", "knowledge_base": str(resolved), "datasets": datasets}

    @app.get("/version", summary="Versions of mile-meta, the prior schema and the knowledge base")
    def version() -> dict[str, Any]:
        from mile_meta.priors import FORMATS, SCHEMA_VERSION

        checksum = None
        if resolved.exists():
            with open_kb() as kb:
                checksum = kb.checksum()
        return {
            "mile_meta": __version__,
            "prior_schema_version": SCHEMA_VERSION,
            "knowledge_base_checksum": checksum,
            "prior_formats": list(FORMATS),
        }

    @app.post(
        "/recommend",
        summary="Rank pipelines from meta-features (JSON) or an uploaded CSV (multipart)",
        openapi_extra=_request_body(RecommendRequest, {}),
    )
    async def recommend_endpoint(request: Request) -> dict[str, Any]:
        parsed = await _parse(request, RecommendRequest)
        return await run_in_threadpool(_recommend, parsed, open_kb)

    @app.post(
        "/priors",
        summary="The prior for an optimizer, from meta-features (JSON) or an uploaded CSV",
        openapi_extra=_request_body(
            PriorsRequest, {"format": {"type": "string", "default": "json"}}
        ),
    )
    async def priors_endpoint(request: Request) -> dict[str, Any]:
        parsed = await _parse(request, PriorsRequest)
        return await run_in_threadpool(_priors, parsed, open_kb)

    app.add_middleware(_BodySizeLimit, limit=max_upload_bytes)
    return app


class _Upload(BaseModel):
    """A parsed multipart request: the data file saved to disk and the form fields."""

    path: str
    target: str
    task_type: Literal["binary", "multiclass", "regression"] | None = None
    metric: str | None = None
    top: int = Field(10, ge=1, le=1000)
    exclude_datasets: list[str] = Field(default_factory=list)
    format: str = "json"
    name: str = "upload"


async def _parse(request: Request, model: type[RecommendRequest]) -> RecommendRequest | _Upload:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HTTPException(
                status_code=400, detail="the body is not valid JSON; send a JSON object"
            ) from None
        try:
            return model.model_validate(payload)
        except ValidationError as error:
            raise HTTPException(status_code=422, detail=_one_line(error)) from None
    if content_type == "multipart/form-data":
        return await _parse_upload(request)
    raise HTTPException(
        status_code=415,
        detail=f"unsupported content type {content_type or 'none'!r}; send application/json "
        "meta-features or a multipart/form-data upload",
    )


async def _parse_upload(request: Request) -> _Upload:
    try:
        form = await request.form()
    except _TooLarge:
        raise
    except Exception as error:
        raise HTTPException(
            status_code=400, detail=f"cannot read the multipart body ({error}); resend the file"
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
    filename = upload.filename or "upload.csv"
    suffix = "".join(Path(filename).suffixes) or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
        try:
            while chunk := await upload.read(1024 * 1024):
                handle.write(chunk)
        except BaseException:  # over the size limit or a dropped connection: keep no copy
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
            raise
    fields: dict[str, Any] = {
        "path": handle.name,
        "target": target,
        "name": Path(filename).stem or "upload",
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
        Path(handle.name).unlink(missing_ok=True)
        raise HTTPException(status_code=422, detail=_one_line(error)) from None


def _recommend(parsed: RecommendRequest | _Upload, open_kb: Any) -> dict[str, Any]:
    from mile_meta.data import load_dataset
    from mile_meta.recommend import (
        recommend,
        recommend_from_metafeatures,
        task_type_from_metafeatures,
    )

    with _removing_upload(parsed), open_kb() as kb:
        if isinstance(parsed, _Upload):
            dataset = load_dataset(
                parsed.path, parsed.target, task_type=parsed.task_type, name=parsed.name
            )
            report = recommend(
                dataset,
                kb=kb,
                metric=parsed.metric,
                top=parsed.top,
                exclude_datasets=parsed.exclude_datasets,
                record_probes=False,
            )
        else:
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


def _priors(parsed: RecommendRequest | _Upload, open_kb: Any) -> dict[str, Any]:
    from mile_meta.priors import build_prior, exporter

    format_name = parsed.format if isinstance(parsed, _Upload | PriorsRequest) else "json"
    with _removing_upload(parsed):
        chosen = exporter(format_name)  # an unknown format fails before any work
        if isinstance(parsed, _Upload):
            data: Any = parsed.path
            target, name = parsed.target, parsed.name
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
