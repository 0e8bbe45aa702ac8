"""The default model: one fitted meta-learner per metric, saved in ``models/`` with metadata.

``train_default_model(kb)`` fits the learner chosen for each metric (see
``docs/benchmarks-recommenders.md`` for why) on the knowledge base's corpus sources and writes
``default-model.joblib`` plus ``default-model.json`` (what it was trained on).
``load_default_model(kb)`` refuses a model trained on other corpus data: the checksum is
``kb.checksum(sources)`` over the corpus sources used, so adding the user's own runs (source
``local``) does not invalidate it, while a rebuilt or upgraded corpus does.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mile_meta.errors import KnowledgeBaseError, ModelError
from mile_meta.metalearners._average_rank import AverageRank
from mile_meta.metalearners._base import MetaLearner
from mile_meta.metalearners._ensemble import Ensemble
from mile_meta.metalearners._greedy_portfolio import GreedyPortfolio
from mile_meta.metalearners._ranking import Ranking
from mile_meta.metalearners._view import KnowledgeBaseView
from mile_meta.metrics import resolve_metric

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "DEFAULT_LEARNERS",
    "DEFAULT_MODEL_FILE",
    "DefaultModel",
    "ModelMetadata",
    "default_model_path",
    "fit_default_learner",
    "load_default_model",
    "train_default_model",
]

DEFAULT_MODEL_FILE = "default-model.joblib"
_METADATA_SUFFIX = ".json"
_RETRAIN = "retrain it with `mile-meta models train`"

# metric -> the learner the benchmark chose for it (docs/benchmarks-recommenders.md):
# on Oboe's balanced error rate the Ensemble has the lowest regret at every zero-shot k, and
# its first pick from the described datasets beats a default HGB on real data;
# on LCDB's 20 learners the conditioned GreedyPortfolio has the lowest top-1 regret short of
# the PerformanceModel (0.0795 vs 0.0784) at a fiftieth of the fit time. LCDB's AUC, F1
# and log-loss matrices share its learners and datasets, so they get the same choice.
DEFAULT_LEARNERS: dict[str, Callable[[], MetaLearner]] = {
    "balanced_accuracy": lambda: Ensemble(),
    "predictive_accuracy": lambda: GreedyPortfolio(),
    "area_under_roc_curve": lambda: GreedyPortfolio(),
    "f_measure": lambda: GreedyPortfolio(),
    "log_loss": lambda: GreedyPortfolio(),
    # regression is ranked on r2 (scale-free); the defaults corpus is its only dense matrix.
    # Leave-one-dataset-out on its 34 regression datasets x 8 pipelines, top-1 regret:
    # AverageRank 0.101, Ensemble 0.101, GreedyPortfolio(similar) 0.127, random 0.400 — with
    # so few datasets, similarity weighting adds nothing.
    "r2": lambda: AverageRank(),
}

# The corpora each metric's learner is fitted on. auto-sklearn's results are one configuration
# per dataset: in a classification matrix they only blur the dense Oboe/LCDB/defaults rows,
# but they are most of the regression results there are, so r2 uses them.
MODEL_SOURCES: tuple[str, ...] = ("defaults", "lcdb", "oboe")
METRIC_SOURCES: dict[str, tuple[str, ...]] = {"r2": ("autosklearn", "defaults")}

# A pipeline measured on fewer datasets cannot be ranked: its filled cells would be guesses.
# This drops auto-sklearn's regression incumbents (each measured on its own dataset only);
# every Oboe, LCDB and defaults pipeline is measured on dozens.
MIN_DATASETS_PER_PIPELINE = 3


def learner_view(
    kb: KnowledgeBase,
    metric: str,
    *,
    sources: Iterable[str] | None = None,
    exclude_datasets: Iterable[str | int] = (),
) -> KnowledgeBaseView:
    """The view ``metric``'s default learner is fitted on (see :data:`MIN_DATASETS_PER_PIPELINE`)."""
    view = KnowledgeBaseView.from_kb(kb, metric, sources=sources, exclude_datasets=exclude_datasets)
    return view.with_pipelines_measured_on(MIN_DATASETS_PER_PIPELINE)


def learner_sources(
    kb: KnowledgeBase, metric: str, among: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The corpora ``metric``'s learner is fitted on, among ``among`` (default: the corpora
    present in ``kb``); every present corpus when none of the preferred ones is there."""
    present = tuple(among) if among is not None else corpus_sources(kb)
    wanted = METRIC_SOURCES.get(metric, MODEL_SOURCES)
    chosen = tuple(sorted(name for name in wanted if name in present))
    return chosen or tuple(sorted(present))


def model_sources(kb: KnowledgeBase) -> tuple[str, ...]:
    """The corpus sources the saved default model was trained on (those this KB holds)."""
    metadata = default_model_path().with_suffix(_METADATA_SUFFIX)
    if not metadata.exists():
        return ()
    try:
        wanted = json.loads(metadata.read_text()).get("sources", [])
    except ValueError:
        return ()
    present = set(kb.source_names())
    return tuple(source for source in wanted if source in present)


def default_model_path() -> Path:
    """``models/default-model.joblib`` in the package data (next to ``corpora/``)."""
    from mile_meta.config import resources_root

    return resources_root() / "models" / DEFAULT_MODEL_FILE


@dataclass(frozen=True)
class ModelMetadata:
    """What a saved model was trained on; written next to it as JSON."""

    kb_checksum: str
    kb_schema_version: int
    sources: tuple[str, ...]
    metrics: tuple[str, ...]
    learners: dict[str, dict[str, Any]]  # metric -> {"name", "params"}
    training_datasets: dict[str, list[str]]  # metric -> dataset ids
    n_pipelines: dict[str, int]
    mile_meta_version: str
    trained_at: str
    training_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        data = json.loads(text)
        data["sources"] = tuple(data["sources"])
        data["metrics"] = tuple(data["metrics"])
        return cls(**data)


@dataclass(frozen=True)
class DefaultModel:
    """Fitted meta-learners by metric, with the metadata they were saved with."""

    learners: Mapping[str, MetaLearner]
    metadata: ModelMetadata
    path: Path | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.learners)

    def learner(self, metric: str) -> MetaLearner:
        """The learner for ``metric`` (aliases such as ``accuracy`` work)."""
        name = resolve_metric(metric).name
        if name not in self.learners:
            raise ModelError(
                f"the default model has no learner for {name}; use one of "
                f"{', '.join(self.metrics)} or {_RETRAIN} on a knowledge base with {name} results"
            )
        return self.learners[name]

    def rank(
        self,
        meta_features: Mapping[str, float | None],
        observed: Mapping[str, float] | None = None,
        *,
        metric: str = "balanced_accuracy",
        evidence: int = 3,
    ) -> Ranking:
        """``self.learner(metric).rank(...)``: see :meth:`MetaLearner.rank`."""
        return self.learner(metric).rank(meta_features, observed, evidence=evidence)


def corpus_sources(kb: KnowledgeBase) -> tuple[str, ...]:
    """The offline corpora present in ``kb`` (the user's own runs are not a corpus)."""
    from mile_meta.sources import DEFAULT_SOURCES

    present = set(kb.source_names())
    return tuple(sorted(name for name in DEFAULT_SOURCES if name in present))


def train_default_model(
    kb: KnowledgeBase,
    out_dir: str | Path | None = None,
    *,
    metrics: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DefaultModel:
    """Fit the default learner of each metric on ``kb`` and save it in ``out_dir``.

    ``metrics`` defaults to every metric of :data:`DEFAULT_LEARNERS` with results in the
    corpus sources; ``sources`` defaults to the corpora present in ``kb``. ``progress`` is
    called with each metric's name before it is fitted. Returns the saved model.
    """
    import time

    import joblib

    from mile_meta import __version__

    started = time.perf_counter()
    chosen_sources = tuple(sorted(sources)) if sources is not None else corpus_sources(kb)
    if not chosen_sources:
        raise ModelError(
            f"{kb.path} holds no corpus to learn from; build it with `mile-meta kb build`"
        )
    wanted = (
        [resolve_metric(m).name for m in metrics] if metrics is not None else list(DEFAULT_LEARNERS)
    )
    learners: dict[str, MetaLearner] = {}
    training: dict[str, list[str]] = {}
    pipelines: dict[str, int] = {}
    for metric in wanted:
        try:
            view = learner_view(kb, metric, sources=learner_sources(kb, metric, chosen_sources))
        except KnowledgeBaseError:
            if metrics is not None:
                raise
            continue  # this knowledge base has no results for that metric
        if progress is not None:
            progress(metric)
        factory = DEFAULT_LEARNERS.get(metric, GreedyPortfolio)
        learners[metric] = factory().fit(view)
        training[metric] = list(view.dataset_ids)
        pipelines[metric] = view.n_pipelines
    if not learners:
        raise ModelError(f"no metric of {', '.join(wanted)} has results in {kb.path}")
    metadata = ModelMetadata(
        kb_checksum=kb.checksum(chosen_sources),
        kb_schema_version=kb.schema_version,
        sources=chosen_sources,
        metrics=tuple(learners),
        learners={
            metric: {
                "name": type(learner).__name__,
                "params": _plain(learner.get_params(deep=False)),
            }
            for metric, learner in learners.items()
        },
        training_datasets=training,
        n_pipelines=pipelines,
        mile_meta_version=__version__,
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        training_seconds=round(time.perf_counter() - started, 2),
        settings={
            "view": "learner_view(kb, metric, sources=learner_sources(...))",
            "metric_sources": {
                metric: list(learner_sources(kb, metric, chosen_sources)) for metric in learners
            },
        },
    )
    target = _model_file(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    # write both files under temporary names first: never a model without its metadata
    temporary_model = target.with_name(target.name + ".tmp")
    temporary_metadata = _metadata_file(target).with_name(_metadata_file(target).name + ".tmp")
    joblib.dump({"learners": learners, "metadata": asdict(metadata)}, temporary_model, compress=3)
    temporary_metadata.write_text(metadata.to_json() + "\n")
    temporary_model.replace(target)
    temporary_metadata.replace(_metadata_file(target))
    return DefaultModel(learners, metadata, target)


def fit_default_learner(
    kb: KnowledgeBase,
    metric: str = "balanced_accuracy",
    *,
    exclude_datasets: Iterable[str | int] = (),
    sources: Iterable[str] | None = None,
) -> MetaLearner:
    """The default learner of ``metric``, fitted now on ``kb`` (about a second).

    For what the saved model cannot do: leave datasets out (``exclude_datasets``, OpenML ids
    or dataset ids, for leakage-safe experiments), learn from other ``sources`` (default:
    the corpora in ``kb``), or serve a metric it was not trained for.
    """
    name = resolve_metric(metric).name
    chosen = tuple(sorted(sources)) if sources is not None else learner_sources(kb, name)
    view = learner_view(kb, name, exclude_datasets=exclude_datasets, sources=chosen)
    return DEFAULT_LEARNERS.get(name, GreedyPortfolio)().fit(view)


def load_default_model(kb: KnowledgeBase, path: str | Path | None = None) -> DefaultModel:
    """Load the saved model, refusing one trained on other corpus data than ``kb``'s."""
    import joblib

    target = _model_file(path)
    metadata_path = _metadata_file(target)
    if not target.exists() or not metadata_path.exists():
        raise ModelError(f"no default model at {target}; train one with `mile-meta models train`")
    try:
        metadata = ModelMetadata.from_json(metadata_path.read_text())
    except (ValueError, TypeError, KeyError) as error:
        raise ModelError(f"{metadata_path} is unreadable ({error}); {_RETRAIN}") from error
    missing = [name for name in metadata.sources if name not in kb.source_names()]
    if missing:
        raise ModelError(
            f"the default model was trained on sources {', '.join(metadata.sources)} but "
            f"{kb.path} lacks {', '.join(missing)}; {_RETRAIN} (or build the knowledge base "
            "with `mile-meta kb build`)"
        )
    checksum = kb.checksum(metadata.sources)
    if checksum != metadata.kb_checksum:
        raise ModelError(
            f"the default model {target} was trained on another version of "
            f"{', '.join(metadata.sources)} (knowledge-base checksum {metadata.kb_checksum}, "
            f"this one {checksum}); {_RETRAIN}"
        )
    try:
        payload = joblib.load(target)
        learners = payload["learners"]
    except (
        OSError,
        EOFError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        ImportError,
        pickle.UnpicklingError,
    ) as error:
        raise ModelError(f"{target} cannot be loaded ({error}); {_RETRAIN}") from error
    return DefaultModel(dict(learners), metadata, target)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON values (a nested learner becomes its repr)."""
    return {
        name: value if value is None or isinstance(value, bool | int | float | str) else repr(value)
        for name, value in params.items()
    }


def _model_file(path: str | Path | None) -> Path:
    if path is None:
        return default_model_path()
    resolved = Path(path).expanduser()
    if resolved.is_dir() or resolved.suffix == "":
        return resolved / DEFAULT_MODEL_FILE
    return resolved


def _metadata_file(model_file: Path) -> Path:
    return model_file.with_suffix(_METADATA_SUFFIX)
