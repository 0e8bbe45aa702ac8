"""Corpus sources: each a plug-in yielding typed records with provenance.

``available_sources()`` lists the offline corpora the default knowledge base is built from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mile_meta.sources._base import Source, sha256_of

__all__ = [
    "DEFAULT_SOURCES",
    "Source",
    "available_sources",
    "make_source",
    "portfolio_sources",
    "sha256_of",
    "snapshot_writers",
]

DEFAULT_SOURCES = (
    "oboe",
    "lcdb",
    "autosklearn",
    "defaults",
)


def available_sources() -> dict[str, type[Source]]:
    """Offline corpus sources by name (imported lazily: each pulls in its translator)."""
    from mile_meta.sources.autosklearn import AutoSklearnSource
    from mile_meta.sources.defaults import DefaultsSource
    from mile_meta.sources.lcdb import LcdbSource
    from mile_meta.sources.oboe import OboeSource

    return {
        "oboe": OboeSource,
        "lcdb": LcdbSource,
        "autosklearn": AutoSklearnSource,
        "defaults": DefaultsSource,
        **portfolio_sources(),
    }


def make_source(name: str, snapshot_dir: Path | None = None) -> Source:
    """The offline source called ``name`` reading ``snapshot_dir`` (default: the bundled snapshot)."""
    from mile_meta.errors import MileMetaError

    sources = available_sources()
    if name not in sources:
        raise MileMetaError(
            f"unknown source {name!r}; use one of {', '.join(sorted(sources))}", usage=True
        )
    folder = snapshot_dir / name if snapshot_dir is not None else None
    return sources[name](folder)  # type: ignore[call-arg]


def snapshot_writers() -> dict[str, Callable[[Path, Path], dict[str, str]]]:
    """Per corpus, the function that writes its compact snapshot from the unpacked package."""
    from mile_meta.sources.autosklearn import write_autosklearn_snapshot
    from mile_meta.sources.lcdb import write_lcdb_snapshot
    from mile_meta.sources.oboe import write_oboe_snapshot

    return {
        "oboe": write_oboe_snapshot,
        "lcdb": write_lcdb_snapshot,
        "autosklearn": write_autosklearn_snapshot,
        **portfolio_snapshot_writers(),
    }


def portfolio_sources() -> dict[str, type[Source]]:
    """The portfolios AutoML tools ship (AutoGluon, FLAML, auto-sklearn 2.0), by name."""
    from mile_meta.sources.autogluon_portfolio import AutoGluonPortfolioSource
    from mile_meta.sources.autosklearn2_portfolio import AutoSklearn2PortfolioSource
    from mile_meta.sources.flaml_portfolio import FlamlPortfolioSource

    return {
        "autogluon_portfolio": AutoGluonPortfolioSource,
        "flaml_portfolio": FlamlPortfolioSource,
        "autosklearn2_portfolio": AutoSklearn2PortfolioSource,
    }


def portfolio_snapshot_writers() -> dict[str, Callable[[Path, Path], dict[str, str]]]:
    from mile_meta.sources.autogluon_portfolio import write_autogluon_snapshot
    from mile_meta.sources.autosklearn2_portfolio import write_autosklearn2_snapshot
    from mile_meta.sources.flaml_portfolio import write_flaml_snapshot

    return {
        "autogluon_portfolio": write_autogluon_snapshot,
        "flaml_portfolio": write_flaml_snapshot,
        "autosklearn2_portfolio": write_autosklearn2_snapshot,
    }
