"""FLAML 2.8.0's zero-shot portfolios (``flaml/default/<learner>/<task>.json``), ranked.

Raw files (in the ``flaml`` wheel): one JSON per learner folder (``all``, ``lgbm``,
``xgboost``, ``xgb_limitdepth``, ``rf``, ``extra_tree``) and task (``binary``,
``multiclass``, ``regression``): ``portfolio`` (the configurations), ``meta_feature_names``
(NumberOfInstances, NumberOfFeatures, NumberOfClasses, PercentageOfNumericFeatures),
``preprocessing`` (the ``center`` and ``scale`` FLAML normalises them with) and
``neighbors``: one per training dataset, its normalised meta-features and ``choice``, the
portfolio indices in the order FLAML would try them there. FLAML's zero-shot AutoML starts
from the ``choice`` of the training dataset nearest to the new one.

Each training dataset becomes a portfolio dataset (``flaml_portfolio:all/binary/03``) with
its meta-features back in OpenML units (PercentageOfNumericFeatures in percent) and one
``portfolio_rank`` per configuration it ranks. The snapshot (``corpora/flaml_portfolio/``)
keeps the 18 files verbatim in one JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path

from mile_meta.corpora import default_snapshot_dir, write_gzip
from mile_meta.errors import CorpusError
from mile_meta.pipelines.translate.flaml import translate_flaml
from mile_meta.records import SourceInfo
from mile_meta.sources._base import sha256_of, snapshot_source_info
from mile_meta.sources._portfolio import PortfolioSlot, PortfolioSource, read_gzip_json

__all__ = ["FlamlPortfolioSource", "flaml_meta_features", "write_flaml_snapshot"]

SOURCE_NAME = "flaml_portfolio"
LEARNER_FOLDERS = ("all", "lgbm", "xgboost", "xgb_limitdepth", "rf", "extra_tree")
TASK_TYPES = ("binary", "multiclass", "regression")
META_FEATURES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "PercentageOfNumericFeatures",
)
_SNAPSHOT_FILE = "portfolios.json.gz"


def write_flaml_snapshot(unpacked: Path, out: Path) -> dict[str, str]:
    """The 18 portfolio files in one gzipped JSON; returns original file -> sha256."""
    originals = {}
    payload = {}
    for folder in LEARNER_FOLDERS:
        for task_type in TASK_TYPES:
            relative = f"flaml/default/{folder}/{task_type}.json"
            path = unpacked / relative
            originals[relative] = sha256_of(path)
            payload[f"{folder}/{task_type}"] = json.loads(path.read_text())
    write_gzip(out / _SNAPSHOT_FILE, json.dumps(payload, sort_keys=True, indent=1).encode())
    return originals


def flaml_meta_features(document: dict[str, object], normalised: list[float]) -> dict[str, float]:
    """A neighbour's meta-features in OpenML names and units (``x * scale + center``)."""
    names = document["meta_feature_names"]
    preprocessing = document["preprocessing"]
    assert isinstance(names, list) and isinstance(preprocessing, dict)
    values = {}
    for name, x, scale, center in zip(
        names, normalised, preprocessing["scale"], preprocessing["center"], strict=True
    ):
        value = float(x) * float(scale) + float(center)
        values[str(name)] = value * 100.0 if name == "PercentageOfNumericFeatures" else value
    return values


class FlamlPortfolioSource(PortfolioSource):
    """FLAML's portfolios: per learner folder, task and training dataset, a ranked list."""

    name = SOURCE_NAME
    procedure = "FLAML zero-shot: portfolio order for this training dataset"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_snapshot_dir() / SOURCE_NAME

    def info(self) -> SourceInfo:
        return snapshot_source_info(self.name, self.folder, (_SNAPSHOT_FILE,))

    def estimated_records(self) -> int:
        return 6000

    def documents(self) -> dict[str, dict[str, object]]:
        """``"<learner folder>/<task>"`` -> FLAML's JSON document."""
        payload = read_gzip_json(self.folder / _SNAPSHOT_FILE, "FLAML portfolio")
        expected = {f"{folder}/{task}" for folder in LEARNER_FOLDERS for task in TASK_TYPES}
        if not isinstance(payload, dict) or set(payload) != expected:
            raise CorpusError(
                f"{self.folder / _SNAPSHOT_FILE} does not hold the 18 FLAML portfolio files; "
                "rebuild the snapshot with `mile-meta corpora fetch`"
            )
        for key, document in payload.items():
            if (
                not {"portfolio", "neighbors", "preprocessing", "meta_feature_names"}
                <= set(document)
                or tuple(document["meta_feature_names"]) != META_FEATURES
            ):
                raise CorpusError(f"FLAML portfolio {key} is not in the expected format")
        return payload

    def slots(self) -> list[PortfolioSlot]:
        slots = []
        for key, document in self.documents().items():
            _folder, task_type = key.split("/")
            configurations = document["portfolio"]
            assert isinstance(configurations, list)
            translations = [
                translate_flaml(configuration, task_type, f"{key}#{index}")
                for index, configuration in enumerate(configurations)
            ]
            raws = [
                json.dumps(configuration, sort_keys=True, separators=(",", ":"))
                for configuration in configurations
            ]
            neighbours = document["neighbors"]
            assert isinstance(neighbours, list)
            for position, neighbour in enumerate(neighbours):
                for rank, index in enumerate(neighbour["choice"], start=1):
                    slots.append(
                        PortfolioSlot(
                            f"{key}/{position:02d}",
                            task_type,
                            rank,
                            f"{key}#{index}",
                            translations[index],
                            raws[index],
                            str(configurations[index].get("class", "unknown")),
                        )
                    )
        return slots

    def qualities(self) -> dict[str, dict[str, float]]:
        """Each training dataset's four meta-features, in OpenML names and units."""
        qualities = {}
        for key, document in self.documents().items():
            neighbours = document["neighbors"]
            assert isinstance(neighbours, list)
            for position, neighbour in enumerate(neighbours):
                qualities[f"{key}/{position:02d}"] = flaml_meta_features(
                    document, neighbour["features"]
                )
        return qualities
