"""``mile-meta examples``: the bundled example datasets and where they are installed."""

from __future__ import annotations

import click

from mile_meta.cli._common import echo_json, json_option


@click.command("examples")
@click.argument("name", required=False)
@json_option
def command(name: str | None, as_json: bool) -> None:
    """List the bundled example datasets, or print the path of the one called NAME.

    The path works wherever mile-meta is installed (wheel, pipx, editable checkout), so any
    command can be tried on real data right after installing.

    \b
    Example:
      mile-meta examples
      mile-meta recommend "$(mile-meta examples credit-g)" --target class
    """
    from mile_meta.examples import EXAMPLES, example_path

    if name is not None:
        path = example_path(name)
        if as_json:
            echo_json({"name": name, "path": str(path), "target": EXAMPLES[name].target})
        else:
            click.echo(str(path))
        return
    rows = [
        {
            "name": example.name,
            "target": example.target,
            "rows": example.rows,
            "description": example.description,
            "path": str(example.path),
        }
        for example in EXAMPLES.values()
    ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['name']}  --target {row['target']}  ({row['rows']} rows) {row['description']}"
        )
        click.echo(f"  {row['path']}")
