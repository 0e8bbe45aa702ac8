"""The reuse store: bounded tiers, value-weighted eviction, persistence, damage tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mile_meta.reuse import ReuseStore, default_store, inspect_store, remove_store


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_memory_keeps_the_costly_small_result_over_the_cheap_big_one() -> None:
    store = ReuseStore(max_memory_bytes=4 << 20)
    costly = np.ones(1000)  # 8 kB that took 5 s
    store.put("costly", costly, cost_seconds=5.0)
    for index in range(6):  # 800 kB each that took 1 ms: they crowd each other out
        store.put(f"cheap{index}", np.ones(100_000), cost_seconds=0.001)
    assert store.get("costly") is not None
    assert store.info().memory_bytes <= 4 << 20
    assert sum(store.get(f"cheap{i}") is not None for i in range(6)) < 6


def test_stored_arrays_are_read_only() -> None:
    store = ReuseStore()
    store.put("a", (np.zeros(3), np.ones(2)), cost_seconds=1.0)
    first, _ = store.get("a")
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1.0


def test_disk_survives_the_process_and_stays_under_its_limit(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    limit = 3 << 20
    store = ReuseStore(folder, max_disk_bytes=limit, max_memory_bytes=1 << 20)
    rng = np.random.default_rng(0)
    for index in range(40):  # 40 x 400 kB = 16 MB offered to a 3 MB disk
        store.put(f"k{index}", rng.random(50_000), cost_seconds=1.0 + index % 3)
    info = store.info()
    assert 0 < info.disk_bytes <= limit
    store.close()
    assert _folder_bytes(folder) <= limit + (1 << 20)  # plus SQLite's own pages
    again = ReuseStore(folder, max_disk_bytes=limit)
    kept = [key for key in (f"k{i}" for i in range(40)) if again.get(key) is not None]
    assert kept and len(kept) < 40
    # the last one written is still there, the costlier ones outlast the cheap ones
    assert "k39" in kept
    assert inspect_store(folder).disk_entries == len(kept) + 0
    again.close()
    assert remove_store(folder) > 0 and not folder.exists()


def test_what_is_cheaper_to_recompute_stays_off_the_disk(tmp_path: Path) -> None:
    store = ReuseStore(tmp_path / "store")
    store.put("bulky-cheap", np.ones(2_000_000), cost_seconds=0.001)  # 16 MB made in 1 ms
    store.put("small-costly", np.ones(10), cost_seconds=2.0)
    assert store.info().disk_entries == 1
    store.close()
    reopened = ReuseStore(tmp_path / "store")
    assert reopened.get("bulky-cheap") is None and reopened.get("small-costly") is not None


def test_a_damaged_payload_is_a_miss(tmp_path: Path) -> None:
    store = ReuseStore(tmp_path / "store")
    store.put("k", np.arange(10.0), cost_seconds=1.0)
    store._disk.set("k", b"not a pickle")  # a torn write from a killed process
    fresh = ReuseStore(tmp_path / "store")
    assert fresh.get("k") is None
    fresh.put("k", np.arange(10.0), cost_seconds=1.0)
    assert ReuseStore(tmp_path / "store").get("k") is not None


def test_reuse_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_store(False) is None
    assert default_store() is not None
    monkeypatch.setenv("MILE_META_NO_CACHE", "1")
    assert default_store() is None
