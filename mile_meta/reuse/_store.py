"""The reuse store: step results kept in memory and on disk, the least valuable evicted first.

Value follows Helix (Xin et al., VLDB 2018): a result is worth keeping in proportion to what
recomputing it costs and in inverse proportion to the room it takes. Eviction is
GreedyDual-Size (Cao & Irani, 1997), which adds recency to that ratio: each entry has a
priority ``clock + cost / size``; the lowest goes first and the clock rises to its priority, so
an entry nobody asks for again slowly loses to newer ones however costly it was. A hit renews
the priority.

Helix also decides what to *materialize*: a result goes to disk only when reading it back is
faster than computing it again (``size / DISK_BYTES_PER_SECOND`` below its cost), so cheap,
bulky outputs stay in memory only and the disk holds what pays.

The disk tier is a :class:`diskcache.Cache` (SQLite plus files, safe across processes) holding
pickled payloads, with a :class:`diskcache.Index` of (priority, cost, size) beside it; the
store keeps the sum of sizes under ``max_disk_bytes``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DISK_BYTES_PER_SECOND",
    "NO_CACHE_ENV_VAR",
    "ReuseStore",
    "StoreInfo",
    "default_store",
    "default_store_folder",
    "inspect_store",
    "remove_store",
    "reuse_enabled",
]

NO_CACHE_ENV_VAR = "MILE_META_NO_CACHE"
# A conservative read speed (pickle load included): below it, recomputing beats reading.
DISK_BYTES_PER_SECOND = 200e6
_DISK_LATENCY_SECONDS = 0.002
_CLOCK = "__clock__"
_MB = 1 << 20


@dataclass(frozen=True)
class StoreInfo:
    """What a store holds: entries and bytes in memory and on disk, hits and misses so far."""

    folder: Path | None
    memory_entries: int
    memory_bytes: int
    disk_entries: int
    disk_bytes: int
    max_memory_bytes: int
    max_disk_bytes: int
    hits: int
    misses: int


@dataclass
class _Entry:
    value: Any
    size: int
    cost: float
    priority: float


def _array_bytes(value: Any) -> int | None:
    """Bytes held by arrays (and tuples / dicts of them); None for anything else."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes) if value.dtype != object else None
    if isinstance(value, tuple | list):
        total = 0
        for item in value:
            size = _array_bytes(item)
            if size is None:
                return None
            total += size
        return total + 64
    if isinstance(value, dict):
        return _array_bytes(list(value.values()))
    if value is None or isinstance(value, int | float | str | bool | slice):
        return 64
    return None


def _freeze(value: Any) -> Any:
    """Make arrays read-only: a consumer that writes into a shared result fails loudly."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple | list):
        for item in value:
            _freeze(item)
    elif isinstance(value, dict):
        for item in value.values():
            _freeze(item)
    return value


class ReuseStore:
    """Step results by key, in memory (``max_memory_bytes``) and, with ``folder``, on disk
    (``max_disk_bytes``). ``max_entries`` also bounds the memory tier's count.

    ``get`` returns None on a miss; ``put`` stores a value with the seconds it took to compute.
    Stored arrays are made read-only: they are shared by every later reader.
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        max_memory_bytes: int = 512 * _MB,
        max_disk_bytes: int = 1 << 30,
        max_entries: int = 4096,
    ) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.max_memory_bytes = max_memory_bytes
        self.max_disk_bytes = max_disk_bytes
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, _Entry] = {}
        self._memory_bytes = 0
        self._memory_clock = 0.0
        self._lock = threading.Lock()
        self._disk: Any = None
        self._meta: Any = None
        self._disk_bytes = 0
        if self.folder is not None:
            self._open_disk(self.folder)

    # -- disk tier ---------------------------------------------------------------------------
    def _open_disk(self, folder: Path) -> None:
        import diskcache

        folder.mkdir(parents=True, exist_ok=True)
        for legacy in folder.glob("*.npz"):  # the former fold cache's files
            legacy.unlink(missing_ok=True)
        # eviction is ours (by value); diskcache's own limit must never cut in first
        self._disk = diskcache.Cache(
            str(folder / "payloads"), size_limit=1 << 62, eviction_policy="none"
        )
        self._meta = diskcache.Index(str(folder / "index"))
        self._disk_bytes = self._scan_disk()[1]
        if self._disk_bytes > self.max_disk_bytes:
            self._evict_disk()

    def _scan_disk(self) -> tuple[dict[str, tuple[float, float, int]], int]:
        entries: dict[str, tuple[float, float, int]] = {}
        for key, meta in list(self._meta.items()):
            if key != _CLOCK and isinstance(meta, tuple) and len(meta) == 3:
                entries[key] = meta
        return entries, sum(size for _, _, size in entries.values())

    def _disk_get(self, key: str) -> Any | None:
        if self._disk is None:
            return None
        payload = self._disk.get(key)
        meta = self._meta.get(key)
        if payload is None or meta is None:
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # a file from another library version or a torn write: recompute
            self._disk_delete(key)
            return None
        _, cost, size = meta
        with contextlib.suppress(Exception):  # renewing the priority is a hint, not a must
            self._meta[key] = (self._disk_clock() + cost / max(size / _MB, 1e-6), cost, size)
        return value

    def _disk_clock(self) -> float:
        return float(self._meta.get(_CLOCK, 0.0))

    def _disk_put(self, key: str, payload: bytes, cost: float) -> None:
        size = len(payload)
        if size > self.max_disk_bytes // 4:  # one entry never crowds out most others
            return
        self._disk.set(key, payload)
        self._meta[key] = (self._disk_clock() + cost / max(size / _MB, 1e-6), cost, size)
        self._disk_bytes += size
        if self._disk_bytes > self.max_disk_bytes:
            self._evict_disk()

    def _disk_delete(self, key: str) -> None:
        self._disk.delete(key)
        with contextlib.suppress(KeyError):
            del self._meta[key]

    def _evict_disk(self) -> None:
        """Drop the lowest priorities until the disk holds 90 % of its limit."""
        entries, total = self._scan_disk()
        # payloads without an index row (a process killed between the two writes) go first
        for key in list(self._disk.iterkeys()):
            if key not in entries:
                self._disk.delete(key)
        clock = self._disk_clock()
        for key, (priority, _, size) in sorted(entries.items(), key=lambda item: item[1][0]):
            if total <= 0.9 * self.max_disk_bytes:
                break
            self._disk_delete(key)
            total -= size
            clock = max(clock, priority)
        self._meta[_CLOCK] = clock
        self._disk_bytes = total

    # -- memory tier -------------------------------------------------------------------------
    def _memory_put(self, key: str, value: Any, size: int, cost: float) -> None:
        if size > self.max_memory_bytes // 4:
            return
        old = self._memory.pop(key, None)
        if old is not None:
            self._memory_bytes -= old.size
        priority = self._memory_clock + cost / max(size / _MB, 1e-6)
        self._memory[key] = _Entry(value, size, cost, priority)
        self._memory_bytes += size
        while self._memory and (
            self._memory_bytes > self.max_memory_bytes or len(self._memory) > self.max_entries
        ):
            victim = min(self._memory, key=lambda k: self._memory[k].priority)
            entry = self._memory.pop(victim)
            self._memory_bytes -= entry.size
            self._memory_clock = max(self._memory_clock, entry.priority)

    # -- public ------------------------------------------------------------------------------
    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                entry.priority = self._memory_clock + entry.cost / max(entry.size / _MB, 1e-6)
                self.hits += 1
                return entry.value
            value = self._disk_get(key)
            if value is None:
                self.misses += 1
                return None
            _freeze(value)
            size = _array_bytes(value)
            meta = self._meta.get(key)
            cost = meta[1] if meta else 0.0
            self._memory_put(key, value, size if size is not None else meta[2], cost)
            self.hits += 1
            return value

    def put(self, key: str, value: Any, *, cost_seconds: float, persist: bool = True) -> None:
        """Keep ``value`` (which took ``cost_seconds`` to compute) in memory, and on disk when
        ``persist`` and reading it back would be faster than computing it again."""
        with self._lock:
            _freeze(value)
            size = _array_bytes(value)
            payload: bytes | None = None
            if size is None:  # a fitted model: its pickle is its size
                try:
                    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:  # an object that does not pickle is kept in memory only
                    size = 1 << 20
                else:
                    size = len(payload)
            self._memory_put(key, value, size, cost_seconds)
            if self._disk is None or not persist:
                return
            if size / DISK_BYTES_PER_SECOND + _DISK_LATENCY_SECONDS >= cost_seconds:
                return  # cheaper to recompute than to read back: not worth the disk
            if payload is None:
                payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            with contextlib.suppress(OSError):  # a full or read-only disk only costs the reuse
                self._disk_put(key, payload, cost_seconds)

    def info(self) -> StoreInfo:
        """Entries and bytes held, limits, hits and misses."""
        with self._lock:
            disk_entries, disk_bytes = 0, 0
            if self._meta is not None:
                entries, disk_bytes = self._scan_disk()
                disk_entries = len(entries)
            return StoreInfo(
                folder=self.folder,
                memory_entries=len(self._memory),
                memory_bytes=self._memory_bytes,
                disk_entries=disk_entries,
                disk_bytes=disk_bytes,
                max_memory_bytes=self.max_memory_bytes,
                max_disk_bytes=self.max_disk_bytes,
                hits=self.hits,
                misses=self.misses,
            )

    def clear(self) -> None:
        """Forget everything, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            self._memory_bytes = 0
            if self._disk is not None:
                self._disk.clear()
                self._meta.clear()
                self._disk_bytes = 0

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
            self._meta.cache.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a ReuseStore stays in its process; open one per process")


def default_store_folder() -> Path:
    """Where the shared store lives: ``<cache folder>/reuse`` (``$MILE_META_CACHE`` moves it)."""
    from mile_meta.config import cache_dir

    return cache_dir() / "reuse"


def reuse_enabled() -> bool:
    """False when ``$MILE_META_NO_CACHE`` is set to anything but ``0``/empty."""
    return os.environ.get(NO_CACHE_ENV_VAR, "").strip() in ("", "0")


def default_store(
    enabled: bool = True,
    *,
    disk: bool = True,
    max_memory_bytes: int = 512 * _MB,
    max_disk_bytes: int = 1 << 30,
) -> ReuseStore | None:
    """The store evaluate, probes and the search share, or None when reuse is off (``enabled``
    False or ``$MILE_META_NO_CACHE`` set). A folder that cannot be written leaves memory only."""
    if not enabled or not reuse_enabled():
        return None
    folder = default_store_folder() if disk else None
    try:
        return ReuseStore(folder, max_memory_bytes=max_memory_bytes, max_disk_bytes=max_disk_bytes)
    except (OSError, sqlite3.Error):  # a read-only or broken cache folder: memory only
        if folder is None:
            raise
        return ReuseStore(None, max_memory_bytes=max_memory_bytes, max_disk_bytes=max_disk_bytes)


def inspect_store(folder: Path) -> StoreInfo:
    """What the store in ``folder`` holds on disk (nothing is created if it does not exist)."""
    if not (folder / "index").is_dir():
        return StoreInfo(folder, 0, 0, 0, 0, 0, 1 << 30, 0, 0)
    store = ReuseStore(folder)
    try:
        return store.info()
    finally:
        store.close()


def remove_store(folder: Path) -> int:
    """Delete a store's folder; returns the bytes freed (used by ``mile-meta cache clear``)."""
    if not folder.exists():
        return 0
    freed = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder, ignore_errors=True)
    return freed
