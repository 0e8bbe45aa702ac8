"""Runtimes that turn the portable prior into each tool's objects, importing only that tool.

Each ``_<tool>_module.py`` here imports nothing from mile-meta except the runtimes it builds
on, on lines marked ``# standalone: inlined``. :func:`standalone_source` concatenates the
runtimes a tool needs into the body of one module without those lines — the module
``mile-meta priors -o`` writes — and mile-meta imports the same files, so the written module
and the package share one implementation.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

__all__ = ["RUNTIMES", "standalone_source"]

# tool -> the runtime files its module needs, in order
RUNTIMES: dict[str, tuple[str, ...]] = {
    "optuna": ("_common_module.py", "_optuna_module.py"),
    "hyperopt": ("_common_module.py", "_hyperopt_module.py"),
    "raytune": ("_common_module.py", "_optuna_module.py", "_raytune_module.py"),
    "flaml": ("_common_module.py", "_flaml_module.py"),
}

_MARK = "# standalone: inlined"


def _body(name: str) -> str:
    """A runtime file without its docstring, ``__future__`` import and inlined imports."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    first = tree.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        assert first.end_lineno is not None
        lines = lines[first.end_lineno :]
    kept = [
        line
        for line in lines
        if _MARK not in line and line.strip() != "from __future__ import annotations"
    ]
    return "\n".join(kept).strip("\n")


def _literal(text: str) -> str:
    """A raw triple-quoted literal when safe, else repr()."""
    if "'''" not in text and not text.endswith("\\") and "\r" not in text:
        return "r'''" + text + "'''"
    return repr(text)


def standalone_source(
    tool: str, docstring: str, data: Mapping[str, Any], runtime_class: str, names: Sequence[str]
) -> str:
    """The module for ``tool``: ``docstring``, the runtimes, ``PRIOR`` (``data``), ``EXPORTED
    = runtime_class(PRIOR)`` and the ``names`` lines (Python statements)."""
    parts = [
        f"# ---- {name} " + "-" * (70 - len(name)) + "\n" + _body(name) for name in RUNTIMES[tool]
    ]
    text = json.dumps(data, indent=1, allow_nan=False)
    return (
        f'"""{docstring}"""\n\n'
        "from __future__ import annotations\n\n"
        "import json\n\n"
        + "\n\n\n".join(parts)
        + "\n\n\n# ---- the prior "
        + "-" * 60
        + "\n"
        + f"PRIOR = json.loads({_literal(text)})\n"
        + f"EXPORTED = {runtime_class}(PRIOR)\n"
        + "STARTING_POINTS = EXPORTED.starting_points\n"
        + "REPORT = EXPORTED.report\n"
        + "".join(f"{line}\n" for line in names)
    )
