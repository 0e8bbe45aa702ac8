"""The user's clock: a search's budget counts from the start of the command, not of the loop.

``mile-meta search --budget 10s`` should be over 10 s after the user pressed Enter, so the
interpreter's start-up, the imports, reading the data and writing the report all count.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = [
    "MAX_BUDGET_SECONDS",
    "command_clock_start",
    "is_command_process",
    "process_clock_start",
    "seconds_since_process_start",
]

# Longer budgets are refused: a typo (99999999h) rather than a plan; a month is plenty.
MAX_BUDGET_SECONDS = 30 * 24 * 3600.0


def seconds_since_process_start() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere 0, i.e. from now)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as handle:
            # the command name (field 2) may hold spaces: fields are counted after its ")"
            started = int(handle.read().rsplit(")", 1)[1].split()[19]) / ticks
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    return max(0.0, uptime - started)


def process_clock_start() -> float:
    """The ``time.perf_counter()`` value at which this process started."""
    return time.perf_counter() - seconds_since_process_start()


def is_command_process() -> bool:
    """Whether this process is the ``mile-meta`` command (not a test runner or a notebook
    that calls the command's function)."""
    launched = Path(sys.argv[0])
    if launched.name == "__main__.py":  # python -m mile_meta, not python -m pytest
        return launched.parent.name == "mile_meta"
    return launched.name in ("mile-meta", "mile-meta.exe")


def command_clock_start() -> float:
    """When the user's clock started: the process's start when this process is the
    ``mile-meta`` command, else now (a command invoked inside a longer-lived process, such as a
    test runner or a notebook, starts its clock when it is called)."""
    return process_clock_start() if is_command_process() else time.perf_counter()
