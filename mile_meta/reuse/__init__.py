"""Reuse what earlier evaluations computed: a step graph per fold over a bounded store.

:class:`EvaluationPlan` models one cross-validated evaluation as a chain of steps per fold with
content-addressed keys; :class:`ReuseStore` keeps step results (transformed folds, fitted
estimators, predictions) in memory and on disk, evicting the least valuable first;
:func:`default_store` is the store ``evaluate``, ``recommend --probe`` and the search share
(off with ``--no-cache`` or ``MILE_META_NO_CACHE=1``). See ``docs/reuse.md``.
"""

from mile_meta.reuse._incremental import Incremental, incremental_for
from mile_meta.reuse._keys import chain_key, component_version, environment_token
from mile_meta.reuse._plan import EvaluationPlan, FoldOutcome
from mile_meta.reuse._store import (
    DISK_BYTES_PER_SECOND,
    NO_CACHE_ENV_VAR,
    ReuseStore,
    StoreInfo,
    default_store,
    default_store_folder,
    inspect_store,
    remove_store,
    reuse_enabled,
)

__all__ = [
    "DISK_BYTES_PER_SECOND",
    "NO_CACHE_ENV_VAR",
    "EvaluationPlan",
    "FoldOutcome",
    "Incremental",
    "ReuseStore",
    "StoreInfo",
    "chain_key",
    "component_version",
    "default_store",
    "default_store_folder",
    "environment_token",
    "incremental_for",
    "inspect_store",
    "remove_store",
    "reuse_enabled",
]
