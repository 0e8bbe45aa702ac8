"""FLAML: ``starting_points`` per FLAML learner, a matching ``custom_hp`` search space, and
learners (``AutoML.add_learner``) for the estimators FLAML has none for.

    exported = export(prior, "flaml")
    automl = flaml.AutoML()
    exported.add_learners(automl)                  # the families FLAML lacks
    automl.fit(X, y, task=exported.task, time_budget=60, **exported.fit_kwargs())
    spec = exported.spec_of({"learner": automl.best_estimator, **automl.best_config})

Our estimators map onto FLAML's built-in learners:

==============================  ================  =========================================
mile-meta estimator             FLAML learner     hyperparameter names
==============================  ================  =========================================
LGBMClassifier / LGBMRegressor  ``lgbm``          same names; ``subsample`` added
HistGradientBoosting*           ``histgb``        ``max_leaf_nodes`` -> ``max_leaves``
RandomForest*                   ``rf``            same; split/leaf sizes, bootstrap added
ExtraTrees*                     ``extra_tree``    same; split/leaf sizes, bootstrap added
LogisticRegression              ``lrl1``/``lrl2`` ``l1_ratio`` 1.0 -> lrl1, 0.0 -> lrl2;
                                                  ``solver`` added
LinearSVC                       ``svc``           ``C``
KNeighbors*                     ``kneighbor``     ``n_neighbors``; ``weights``, ``p`` added
ElasticNet                      ``enet``          ``alpha``, ``l1_ratio``
==============================  ================  =========================================

FLAML's own extra hyperparameters are pinned to the values our space implies (``n_estimators``
100 for forests, ``log_max_bin`` 8 = 255 bins, no leaf limit for forests, ``reg_alpha`` 0), so
FLAML searches exactly our space for those learners. Every other estimator of the space
(GradientBoosting, SVC, DecisionTree, AdaBoost, GaussianNB, MLP, Ridge, Lasso, SVR...) becomes
a learner of its own name — a scikit-learn pipeline with mile-meta's standard preprocessing,
searched over mile-meta's space — registered with FLAML's ``AutoML.add_learner``
(``add_learners(automl)``), so every recommended configuration can run. ``fit_kwargs()``
leaves out ``task`` (you pass it; ``task`` attribute). What FLAML cannot take is reported: the
fitted distributions and family weights (FLAML's local search, CFO, draws from the bounds and
starts from ``init_value``: the best starting point's values are used there), and that FLAML
preprocesses the data its own way for its built-in learners. The objects come from the
standalone runtime (``_standalone/_flaml_module.py``), which the module ``mile-meta priors
--format flaml -o FILE`` writes also carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import spec_from_config
from mile_meta.pipelines.spec import ParamValue
from mile_meta.priors._base import (
    ExportedPrior,
    Exporter,
    ExportNote,
    prior_notes,
    split_flat_point,
)
from mile_meta.priors._portable import portable_prior
from mile_meta.priors._prior import Prior

__all__ = ["FLAML_LEARNERS", "FlamlExporter", "FlamlLearner", "FlamlPrior"]

LEARNER_KEY = "learner"


@dataclass(frozen=True)
class FlamlLearner:
    """How one of our estimators is expressed as a FLAML learner."""

    learner: str
    renames: tuple[tuple[str, str], ...] = ()  # (ours, FLAML's)
    constants: tuple[tuple[str, Any], ...] = ()  # FLAML hyperparameters pinned to our space
    when: tuple[str, ParamValue] | None = None  # (our parameter, value) selecting this learner
    notes: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()  # our hyperparameters the learner cannot take

    def flaml_name(self, ours: str) -> str:
        return dict(self.renames).get(ours, ours)

    def our_name(self, theirs: str) -> str:
        return {v: k for k, v in self.renames}.get(theirs, theirs)


# FLAML drops a constant None, and a forest of 2**30-leaf trees fails its memory estimate (the
# learner is then never tried), so "no leaf limit" is FLAML's own upper bound for max_leaves
_NO_LEAF_LIMIT = 32768
_FOREST_CONSTANTS = (("n_estimators", 100), ("max_leaves", _NO_LEAF_LIMIT))
_FOREST_NOTE = (
    f"FLAML cannot leave max_leaf_nodes unset; it is pinned to {_NO_LEAF_LIMIT}, FLAML's own "
    "upper bound (no limit below 65k rows, but scikit-learn then grows trees best-first)"
)
_BOOSTING_CONSTANTS = (("log_max_bin", 8), ("reg_alpha", 0.0), ("subsample_freq", 1))

# our estimator -> the FLAML learner(s) expressing it
FLAML_LEARNERS: dict[str, tuple[FlamlLearner, ...]] = {
    "LGBMClassifier": (FlamlLearner("lgbm", constants=_BOOSTING_CONSTANTS),),
    "LGBMRegressor": (FlamlLearner("lgbm", constants=_BOOSTING_CONSTANTS),),
    "HistGradientBoostingClassifier": (
        FlamlLearner(
            "histgb",
            renames=(("max_leaf_nodes", "max_leaves"),),
            constants=(("n_estimators", 100), ("log_max_bin", 8)),
        ),
    ),
    "HistGradientBoostingRegressor": (
        FlamlLearner(
            "histgb",
            renames=(("max_leaf_nodes", "max_leaves"),),
            constants=(("n_estimators", 100), ("log_max_bin", 8)),
        ),
    ),
    "RandomForestClassifier": (
        FlamlLearner("rf", constants=_FOREST_CONSTANTS, notes=(_FOREST_NOTE,)),
    ),
    "ExtraTreesClassifier": (
        FlamlLearner("extra_tree", constants=_FOREST_CONSTANTS, notes=(_FOREST_NOTE,)),
    ),
    "RandomForestRegressor": (
        FlamlLearner(
            "rf",
            constants=_FOREST_CONSTANTS,
            dropped=("criterion",),
            notes=(
                _FOREST_NOTE,
                "FLAML drops criterion for regression forests (squared_error is used)",
            ),
        ),
    ),
    "ExtraTreesRegressor": (
        FlamlLearner(
            "extra_tree",
            constants=_FOREST_CONSTANTS,
            dropped=("criterion",),
            notes=(
                _FOREST_NOTE,
                "FLAML drops criterion for regression forests (squared_error is used)",
            ),
        ),
    ),
    "LogisticRegression": (
        FlamlLearner("lrl1", constants=(("max_iter", 500),), when=("l1_ratio", 1.0)),
        FlamlLearner("lrl2", constants=(("max_iter", 500),), when=("l1_ratio", 0.0)),
    ),
    "LinearSVC": (FlamlLearner("svc", constants=(("penalty", "l2"),)),),
    "KNeighborsClassifier": (FlamlLearner("kneighbor"),),
    "KNeighborsRegressor": (FlamlLearner("kneighbor"),),
    "ElasticNet": (FlamlLearner("enet", constants=(("max_iter", 5000),)),),
}

# our metric -> FLAML's metric name (binary, multiclass/regression)
_METRICS = {
    "predictive_accuracy": ("accuracy", "accuracy"),
    "area_under_roc_curve": ("roc_auc", "roc_auc_ovr"),
    "log_loss": ("log_loss", "log_loss"),
    "f_measure": ("f1", "macro_f1"),
    "root_mean_squared_error": ("rmse", "rmse"),
    "mean_absolute_error": ("mae", "mae"),
    "r2": ("r2", "r2"),
}


def _require_flaml() -> Any:
    try:
        from flaml import tune
        from flaml.automl import AutoML  # noqa: F401  - fails when flaml[automl] is absent
    except ImportError:
        raise MileMetaError(
            "the flaml format needs FLAML's AutoML; install it with "
            "`pip install 'mile-meta[priors]' 'flaml[automl]'` (it needs xgboost)"
        ) from None
    return tune


@dataclass(frozen=True)
class FlamlPrior(ExportedPrior):
    """``flaml_starting_points``, ``custom_hp`` and ``estimator_list`` for ``AutoML.fit``.

    ``starting_points`` (the shared field) are ``{"learner": name, **config}`` dicts, best
    first; ``flaml_starting_points`` groups them per learner as FLAML wants them.
    """

    tool: ClassVar[str] = "flaml"
    flaml_starting_points: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    custom_hp: Mapping[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    estimator_list: tuple[str, ...] = ()
    metric: Any = None
    task: str = "classification"
    learners: Mapping[str, tuple[str, FlamlLearner | None]] = field(default_factory=dict)
    runtime: Any = None

    def add_learners(self, automl: Any) -> list[str]:
        """Register the learners FLAML lacks with ``automl`` (``AutoML.add_learner``)."""
        added: list[str] = self.runtime.add_learners(automl)
        return added

    def fit_kwargs(self, *, custom_learners: bool = True) -> dict[str, Any]:
        """Keyword arguments for ``AutoML.fit`` (add ``X_train``, ``y_train``, ``task``, a
        budget). ``custom_learners=False`` leaves out the learners :meth:`add_learners`
        registers."""
        kwargs: dict[str, Any] = self.runtime.fit_kwargs(custom_learners=custom_learners)
        return kwargs

    def spec_of(self, point: Mapping[str, Any]) -> PipelineSpec:
        """The spec of ``{"learner": automl.best_estimator, **automl.best_config}``."""
        if LEARNER_KEY not in point:
            raise MileMetaError(
                f"a FLAML point needs the {LEARNER_KEY!r} key (automl.best_estimator)"
            )
        learner = str(point[LEARNER_KEY])
        if learner not in self.learners:
            raise MileMetaError(
                f"FLAML learner {learner!r} is not part of this prior; use one of "
                f"{', '.join(sorted(self.learners))}"
            )
        config = {k: v for k, v in point.items() if k != LEARNER_KEY}
        estimator, params = split_flat_point(self.runtime.point_of(learner, config))
        return spec_from_config(estimator, params)

    def payload(self) -> dict[str, Any]:
        payload = super().payload()
        payload["flaml_starting_points"] = {
            k: list(v) for k, v in self.flaml_starting_points.items()
        }
        payload["estimator_list"] = list(self.estimator_list)
        payload["metric"] = (
            self.metric if isinstance(self.metric, str) else "balanced_accuracy (custom)"
        )
        return payload


class FlamlExporter(Exporter[FlamlPrior]):
    tool = "flaml"
    extra = "priors"
    runtime_class = "FlamlPortable"
    needs = "flaml[automl]"

    def _export(self, prior: Prior) -> FlamlPrior:
        _require_flaml()
        from mile_meta.priors._standalone._flaml_module import FlamlPortable

        notes = prior_notes(prior)
        weights = prior.estimator_weights()
        starts_by_estimator: dict[str, list[Any]] = {}
        for start in prior.starting_configurations:
            starts_by_estimator.setdefault(start.estimator, []).append(start)
        learners: dict[str, dict[str, Any]] = {}
        starting: dict[str, list[dict[str, Any]]] = {}
        order: list[tuple[float, str]] = []
        for space in prior.space():
            mappings = FLAML_LEARNERS.get(space.estimator)
            if not mappings:
                learners[space.estimator] = {
                    "estimator": space.estimator,
                    "renames": {},
                    "constants": {},
                    "when": None,
                    "custom": True,
                }
                points = [dict(s.params) for s in starts_by_estimator.get(space.estimator, [])]
                if points:
                    starting[space.estimator] = points
                order.append((weights.get(space.estimator, 0.0), space.estimator))
                notes.append(
                    ExportNote(
                        space.estimator,
                        "FLAML has no built-in learner for it; add_learners(automl) registers "
                        f"one named {space.estimator!r} (AutoML.add_learner): a scikit-learn "
                        "pipeline with mile-meta's standard preprocessing",
                    )
                )
                continue
            for mapping in mappings:
                learners[mapping.learner] = {
                    "estimator": space.estimator,
                    "renames": dict(mapping.renames),
                    "constants": dict(mapping.constants),
                    "when": list(mapping.when) if mapping.when else None,
                    "dropped": list(mapping.dropped),
                    "custom": False,
                }
                points = [
                    self._point(start.config, mapping)
                    for start in starts_by_estimator.get(space.estimator, [])
                    if mapping.when is None or start.config.get(mapping.when[0]) == mapping.when[1]
                ]
                if points:
                    starting[mapping.learner] = points
                order.append((weights.get(space.estimator, 0.0) / len(mappings), mapping.learner))
                notes.extend(
                    ExportNote(f"{space.estimator} ({mapping.learner})", n) for n in mapping.notes
                )
            if any(m.when for m in mappings):
                parameter = mappings[0].when[0]  # type: ignore[index]
                notes.append(
                    ExportNote(
                        f"{space.estimator}.{parameter}",
                        "expressed as the choice between FLAML learners "
                        + ", ".join(f"{m.learner} ({m.when[1]})" for m in mappings if m.when),
                    )
                )
        if prior.distributions:
            notes.append(
                ExportNote(
                    "distributions",
                    "FLAML's search (CFO) takes bounds and an init_value, not distributions: the "
                    "fitted priors are not expressed; the best starting point sets init_value",
                )
            )
        notes.append(
            ExportNote(
                "family weights",
                "FLAML picks learners by its own cost model; estimator_list is ordered by weight",
            )
        )
        notes.append(
            ExportNote(
                "preprocessing",
                "FLAML preprocesses the data itself for its built-in learners (not mile-meta's "
                "standard preprocessing); scores can differ from the predicted ones",
            )
        )
        metric, metric_note = self._metric(prior)
        if metric_note:
            notes.append(ExportNote("metric", metric_note))
        task = "regression" if prior.task_type == "regression" else "classification"
        data = portable_prior(prior, tuple(notes))
        data["flaml"] = {
            "task": task,
            "metric": metric,
            "estimator_list": [learner for _, learner in sorted(order, key=lambda p: -p[0])],
            "learners": learners,
            "starting_points": starting,
        }
        runtime = FlamlPortable(data)
        flat = []
        for start in prior.starting_configurations:
            for learner, entry in learners.items():
                when = entry["when"]
                if entry["estimator"] == start.estimator and (
                    when is None or start.config.get(when[0]) == when[1]
                ):
                    config = (
                        dict(start.params)
                        if entry["custom"]
                        else self._point(start.config, self._mapping(learner, start.estimator))
                    )
                    flat.append({LEARNER_KEY: learner, **config})
        kwargs = runtime.fit_kwargs()
        return FlamlPrior(
            prior=prior,
            starting_points=tuple(flat),
            report=tuple(notes),
            flaml_starting_points=kwargs["starting_points"],
            custom_hp=kwargs["custom_hp"],
            estimator_list=tuple(kwargs["estimator_list"]),
            metric=kwargs["metric"],
            task=task,
            learners={
                learner: (
                    entry["estimator"],
                    None if entry["custom"] else self._mapping(learner, entry["estimator"]),
                )
                for learner, entry in learners.items()
            },
            runtime=runtime,
        )

    def portable(self, exported: ExportedPrior) -> dict[str, Any]:
        assert isinstance(exported, FlamlPrior)
        data: dict[str, Any] = exported.runtime.data
        return data

    @staticmethod
    def _mapping(learner: str, estimator: str) -> FlamlLearner:
        return next(m for m in FLAML_LEARNERS[estimator] if m.learner == learner)

    @staticmethod
    def _point(config: Mapping[str, ParamValue], mapping: FlamlLearner) -> dict[str, Any]:
        skip = ({mapping.when[0]} if mapping.when else set()) | set(mapping.dropped)
        return {mapping.flaml_name(k): v for k, v in config.items() if k not in skip}

    @staticmethod
    def _metric(prior: Prior) -> tuple[str, str | None]:
        if prior.metric in _METRICS:
            binary, other = _METRICS[prior.metric]
            return (binary if prior.task_type == "binary" else other), None
        if prior.metric in ("balanced_accuracy", "balanced_error_rate"):
            return "balanced_accuracy", (
                "FLAML has no balanced accuracy; a custom metric function (1 - balanced "
                "accuracy as the loss) is passed"
            )
        raise MileMetaError(f"no FLAML metric for {prior.metric}")  # pragma: no cover

    def _module_usage(self) -> str:
        return (
            "    import flaml\n"
            "    import prior_flaml as p   # this file\n"
            "    automl = flaml.AutoML()\n"
            "    p.EXPORTED.add_learners(automl)   # AutoML.add_learner for the families FLAML lacks\n"
            "    automl.fit(X, y, task=p.TASK, time_budget=60, **p.FIT_KWARGS)\n"
            "    point = p.EXPORTED.point_of(automl.best_estimator, automl.best_config)"
        )

    def _module_names(self) -> tuple[str, ...]:
        return (
            "TASK = EXPORTED.task",
            "FIT_KWARGS = EXPORTED.fit_kwargs()",
            "FLAML_STARTING_POINTS = FIT_KWARGS['starting_points']",
            "CUSTOM_HP = FIT_KWARGS['custom_hp']",
        )
