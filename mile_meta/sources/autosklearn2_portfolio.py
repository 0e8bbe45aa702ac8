"""auto-sklearn 2.0's portfolios (``autosklearn/experimental/`` in the 0.15.0 sdist), ranked.

Raw files: ``<metric>/askl2_portfolios/<policy>.json`` for the metrics balanced_accuracy,
roc_auc and log_loss and eight evaluation policies (holdout, 3/5/10-fold CV, each with or
without successive halving): ``portfolio``, 32 auto-sklearn configurations keyed by a
short id in the order greedy portfolio construction picked them, and ``config_to_task``,
the OpenML task each configuration was found on. auto-sklearn 2.0 chooses the policy with a
selector trained on ``askl2_training_data.json``; the portfolios themselves are what it
runs first. Classification only.

Each (metric, policy) portfolio becomes a portfolio dataset
(``autosklearn2_portfolio:balanced_accuracy/RF_None_holdout_iterative_es_if``) with one
``portfolio_rank`` per configuration; configurations are translated by
:func:`~mile_meta.pipelines.translate.autosklearn.translate_autosklearn`, like the
auto-sklearn 0.15 meta-data (``docs/autosklearn-translation.md``). The snapshot
(``corpora/autosklearn2_portfolio/``) keeps the 24 portfolios in one JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.translate.autosklearn import (
    canonical_configuration,
    translate_autosklearn,
)
from mile_meta.records import SourceInfo
from mile_meta.sources._base import sha256_of, snapshot_source_info
from mile_meta.sources._portfolio import PortfolioSlot, PortfolioSource, read_gzip_json

__all__ = ["AutoSklearn2PortfolioSource", "write_autosklearn2_snapshot"]

SOURCE_NAME = "autosklearn2_portfolio"
METRICS = ("balanced_accuracy", "roc_auc", "log_loss")
POLICIES = tuple(
    f"RF_{schedule}_{evaluation}_iterative_es_if"
    for schedule in ("None", "SH-eta4-i")
    for evaluation in ("holdout", "3CV", "5CV", "10CV")
)
_SNAPSHOT_FILE = "portfolios.json.gz"
_SDIST_FOLDER = "auto-sklearn-0.15.0/autosklearn/experimental"


def write_autosklearn2_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    """The 24 portfolios (configurations in order, and their source tasks) in one JSON."""
    originals = {}
    payload = {}
    for metric in METRICS:
        for policy in POLICIES:
            relative = f"{_SDIST_FOLDER}/{metric}/askl2_portfolios/{policy}.json"
            path = unpacked / relative
            originals[relative] = sha256_of(path)
            document = json.loads(path.read_text())
            payload[f"{metric}/{policy}"] = {
                # a JSON object keeps its order; the list makes the ranking explicit
                "portfolio": [[key, config] for key, config in document["portfolio"].items()],
                "config_to_task": document.get("config_to_task", {}),
            }
    write_gzip(out / _SNAPSHOT_FILE, json.dumps(payload, sort_keys=True, indent=1).encode())
    return originals


class AutoSklearn2PortfolioSource(PortfolioSource):
    """auto-sklearn 2.0's 24 portfolios (3 metrics x 8 policies), 32 configurations each."""

    name = SOURCE_NAME
    procedure = "auto-sklearn 2.0 greedy portfolio order for this metric and policy"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / SOURCE_NAME

    def info(self) -> SourceInfo:
        return snapshot_source_info(self.name, self.folder, (_SNAPSHOT_FILE,))

    def estimated_records(self) -> int:
        return 24 * 32 + 600 + 48

    def slots(self) -> list[PortfolioSlot]:
        payload = read_gzip_json(self.folder / _SNAPSHOT_FILE, "auto-sklearn 2.0 portfolio")
        expected = {f"{metric}/{policy}" for metric in METRICS for policy in POLICIES}
        if not isinstance(payload, dict) or set(payload) != expected:
            raise CorpusError(
                f"{self.folder / _SNAPSHOT_FILE} does not hold the 24 auto-sklearn 2.0 "
                "portfolios; rebuild the snapshot with `mile-meta corpora fetch`"
            )
        translations = {}
        slots = []
        for portfolio in sorted(payload):
            for rank, (config_id, config) in enumerate(payload[portfolio]["portfolio"], start=1):
                if config_id not in translations:
                    translations[config_id] = translate_autosklearn(config, "classification")
                choice = config.get("classifier:__choice__", "unknown")
                slots.append(
                    PortfolioSlot(
                        portfolio,
                        "classification",
                        rank,
                        config_id,
                        translations[config_id],
                        canonical_configuration(config),
                        str(choice),
                    )
                )
        return slots
