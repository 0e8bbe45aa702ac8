"""The example datasets shipped with mile-meta, so every command can be tried on an install.

    mile-meta examples                       # list them
    mile-meta recommend "$(mile-meta examples credit-g)" --target class

The files are package data (``mile_meta/resources/corpora/examples``): they are there in a
wheel, a ``pipx``/``uv tool`` install or an editable checkout alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mile_meta.config import resources_root
from mile_meta.errors import MileMetaError

__all__ = ["EXAMPLES", "Example", "example_path"]


@dataclass(frozen=True)
class Example:
    """One bundled dataset: its name, file, target column and what it is."""

    name: str
    file_name: str
    target: str
    rows: int
    description: str

    @property
    def path(self) -> Path:
        """The file in the installed package data."""
        return resources_root() / "corpora" / "examples" / self.file_name


EXAMPLES: dict[str, Example] = {
    "credit-g": Example(
        name="credit-g",
        file_name="credit-g.csv",
        target="class",
        rows=1000,
        description="German credit (OpenML 31): good or bad credit risk, 20 attributes",
    ),
}


def example_path(name: str) -> Path:
    """The path of the bundled example ``name`` (e.g. ``credit-g``)."""
    try:
        example = EXAMPLES[name]
    except KeyError:
        known = ", ".join(sorted(EXAMPLES))
        raise MileMetaError(f"no bundled example {name!r}; choose one of: {known}") from None
    if not example.path.is_file():
        raise MileMetaError(
            f"the bundled example {name!r} is missing from the installed package "
            f"({example.file_name}); reinstall mile-meta"
        )
    return example.path
