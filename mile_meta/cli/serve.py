"""``mile-meta serve``: recommendations and priors over HTTP, on loopback by default."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from mile_meta.cli._common import kb_option, open_knowledge_base
from mile_meta.errors import MileMetaError

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on.")
@click.option(
    "--max-upload-mb",
    default=50,
    show_default=True,
    help="Largest accepted upload, in megabytes (larger ones get 413).",
)
@kb_option
def command(host: str, port: int, max_upload_mb: int, kb_path: Path | None) -> None:
    """Serve /recommend, /priors, /health and /version (OpenAPI docs at /docs).

    Binds to 127.0.0.1 unless --host says otherwise; the service has no authentication, so
    expose it beyond this machine only behind something that adds it.

    \b
    Example:
      mile-meta serve --port 8765 --kb kb.sqlite
      curl -s localhost:8765/priors -H 'content-type: application/json' \\
        -d '{"meta_features": {"NumberOfInstances": 1000, "NumberOfClasses": 2}}'
    """
    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise MileMetaError(
            f"mile-meta serve needs the serve extra ({', '.join(missing)} not installed): "
            "pip install 'mile-meta[serve]' (or pip install -e '.[serve]' in a checkout)"
        )
    import uvicorn

    from mile_meta.service import create_app

    with open_knowledge_base(kb_path) as kb:  # fail before binding
        resolved = kb.path
    if host not in _LOOPBACK:
        click.echo(
            f"warning: listening on {host}, not loopback; the service has no authentication",
            err=True,
        )
    app = create_app(resolved, max_upload_bytes=max_upload_mb * 1024 * 1024)
    click.echo(f"mile-meta serving {resolved} at http://{host}:{port} (docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
