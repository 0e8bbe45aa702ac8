"""A small thread-safe cache of the most recently used values (least recently used go first).

What the recommender reads from a knowledge base (a fitted learner, an evaluations frame, fit
time scaling) is kept per key (file, content version, view, ...) so the service, the workbench
and the benchmarks do not re-read it for every request. The value is computed outside the lock:
two threads may compute the same key once each, but none waits on another's slow read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["RecentlyUsed"]

V = TypeVar("V")


class RecentlyUsed(Generic[V]):
    """At most ``size`` values by key; ``get(key, compute)`` returns the kept one or computes it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
