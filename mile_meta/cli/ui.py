"""``mile-meta ui``: the workbench web page, on loopback by default."""

from __future__ import annotations

from pathlib import Path

import click

from mile_meta.cli._common import kb_option, open_knowledge_base

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback).")
@click.option(
    "--port", default=8766, show_default=True, type=click.IntRange(0, 65535), help="Port."
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Required to bind an address other than loopback: the workbench has no authentication.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for uploads and cached folds (default: workbench/ beside the knowledge base).",
)
@click.option(
    "--max-upload-mb",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest accepted upload, in megabytes.",
)
@kb_option
def command(
    host: str,
    port: int,
    allow_remote: bool,
    data_dir: Path | None,
    max_upload_mb: int,
    kb_path: Path | None,
) -> None:
    """Open the workbench: data in, recommendations with evidence, edit and evaluate
    pipelines, compare versions, run cruise-control searches and browse the knowledge base.

    Serves http://127.0.0.1:8766 and works without internet access. Binding another address
    needs --allow-remote (anyone who reaches the port can use the workbench).

    \b
    Example:
      mile-meta ui
      mile-meta ui --port 9000 --kb kb.sqlite --data-dir ~/workbench
    """
    from mile_meta.errors import MileMetaError
    from mile_meta.ui import create_app, default_data_dir, missing_requirements

    missing = missing_requirements()
    if missing:
        raise MileMetaError(
            f"mile-meta ui needs the ui extra ({', '.join(missing)} not installed): "
            "pip install 'mile-meta[ui]' (or pip install -e '.[ui]' in a checkout)"
        )
    remote = host not in _LOOPBACK
    if remote and not allow_remote:
        raise click.UsageError(
            f"--host {host} is not loopback; add --allow-remote to expose the workbench "
            "(it has no authentication)"
        )
    with open_knowledge_base(kb_path) as kb:  # fail (or build the default) before binding
        resolved = kb.path
    folder = data_dir if data_dir is not None else default_data_dir()
    if remote:
        click.echo(
            f"warning: listening on {host}, not loopback: anyone who reaches this port can "
            "read your knowledge base and run code-heavy searches; the workbench has no "
            "authentication",
            err=True,
        )
    app = create_app(
        resolved,
        data_dir=folder,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        loopback_only=not remote,
    )
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"mile-meta workbench on {resolved} at http://{shown}:{port} (uploads in {folder})",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
