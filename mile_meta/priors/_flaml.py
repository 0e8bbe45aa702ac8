"""FLAML: ``starting_points`` per FLAML learner and a matching ``custom_hp`` search space.

    exported = export(prior, "flaml")
    automl = flaml.AutoML()
    automl.fit(X, y, time_budget=60, **exported.fit_kwargs())
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
FLAML searches exactly our space for those learners. What FLAML cannot take is reported: the
estimators it has no learner for, the fitted distributions and family weights (FLAML's local
search, CFO, draws from the bounds and starts from ``init_value``: the best starting point's
values are used there), and that it preprocesses the data its own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mile_meta.errors import MileMetaError
from mile_meta.pipelines import PipelineSpec
from mile_meta.pipelines.space import EstimatorSpace, Hyperparameter, spec_from_config
from mile_meta.pipelines.spec import ParamValue
from mile_meta.priors._base import ExportedPrior, Exporter, ExportNote, prior_notes
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

    def flaml_name(self, ours: str) -> str:
        return dict(self.renames).get(ours, ours)

    def our_name(self, theirs: str) -> str:
        return {v: k for k, v in self.renames}.get(theirs, theirs)


# FLAML drops a constant None, so "no leaf limit" is a limit no tree reaches
_NO_LEAF_LIMIT = 2**30
_FOREST_CONSTANTS = (("n_estimators", 100), ("max_leaves", _NO_LEAF_LIMIT))
_FOREST_NOTE = (
    f"FLAML cannot leave max_leaf_nodes unset; it is pinned to {_NO_LEAF_LIMIT} (no practical "
    "limit, but scikit-learn then grows trees best-first)"
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


class BalancedAccuracyMetric:
    """FLAML custom metric: loss = 1 - balanced accuracy on the validation data.

    FLAML has no built-in balanced accuracy, mile-meta's default classification metric.
    """

    def __call__(
        self,
        X_val: Any,
        y_val: Any,
        estimator: Any,
        labels: Any,
        X_train: Any,
        y_train: Any,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[float, dict[str, float]]:
        from sklearn.metrics import balanced_accuracy_score

        score = float(balanced_accuracy_score(y_val, estimator.predict(X_val)))
        return 1.0 - score, {"balanced_accuracy": score}


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


def _domain(tune: Any, hyperparameter: Hyperparameter) -> Any:
    if hyperparameter.kind == "categorical":
        return tune.choice(list(hyperparameter.choices))
    assert hyperparameter.low is not None and hyperparameter.high is not None
    low, high = hyperparameter.low, hyperparameter.high
    if hyperparameter.kind == "int":
        # FLAML's (and Ray's) randint upper bound is exclusive
        if hyperparameter.log:
            return tune.lograndint(int(low), int(high) + 1)
        return tune.randint(int(low), int(high) + 1)
    return tune.loguniform(low, high) if hyperparameter.log else tune.uniform(low, high)


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
    learners: Mapping[str, tuple[str, FlamlLearner]] = field(default_factory=dict)

    def fit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``AutoML.fit`` (add ``X_train``, ``y_train``, a budget)."""
        return {
            "task": self.task,
            "metric": self.metric,
            "estimator_list": list(self.estimator_list),
            "starting_points": {
                k: [dict(p) for p in v] for k, v in self.flaml_starting_points.items()
            },
            "custom_hp": {k: dict(v) for k, v in self.custom_hp.items()},
            "n_jobs": 1,  # the space's fixed n_jobs
        }

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
        estimator, mapping = self.learners[learner]
        pinned = dict(mapping.constants)
        params: dict[str, ParamValue] = {}
        for key, value in point.items():
            if key == LEARNER_KEY or key in pinned:
                continue
            params[mapping.our_name(key)] = value.item() if hasattr(value, "item") else value
        if mapping.when is not None:
            params[mapping.when[0]] = mapping.when[1]
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

    def _export(self, prior: Prior) -> FlamlPrior:
        tune = _require_flaml()
        spaces = prior.space()
        notes = prior_notes(prior)
        weights = prior.estimator_weights()
        starts_by_estimator: dict[str, list[Any]] = {}
        for start in prior.starting_configurations:
            starts_by_estimator.setdefault(start.estimator, []).append(start)
        custom_hp: dict[str, dict[str, dict[str, Any]]] = {}
        starting: dict[str, list[dict[str, Any]]] = {}
        learners: dict[str, tuple[str, FlamlLearner]] = {}
        order: list[tuple[float, str]] = []
        for space in spaces:
            mappings = FLAML_LEARNERS.get(space.estimator)
            if not mappings:
                notes.append(
                    ExportNote(
                        space.estimator,
                        "FLAML has no built-in learner for it; left out of the FLAML search",
                    )
                )
                if space.estimator in starts_by_estimator:
                    ranks = ", ".join(f"#{s.rank}" for s in starts_by_estimator[space.estimator])
                    notes.append(
                        ExportNote(space.estimator, f"starting configurations {ranks} dropped")
                    )
                continue
            for mapping in mappings:
                learners[mapping.learner] = (space.estimator, mapping)
                custom_hp[mapping.learner] = self._custom_hp(
                    tune, space, mapping, starts_by_estimator
                )
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
                "FLAML preprocesses the data itself (not mile-meta's TabularPreprocessor); "
                "scores can differ from the predicted ones",
            )
        )
        flat = []
        for start in prior.starting_configurations:
            for mapping in FLAML_LEARNERS.get(start.estimator, ()):
                if mapping.when is None or start.config.get(mapping.when[0]) == mapping.when[1]:
                    flat.append(
                        {LEARNER_KEY: mapping.learner, **self._point(start.config, mapping)}
                    )
        metric, metric_note = self._metric(prior)
        if metric_note:
            notes.append(ExportNote("metric", metric_note))
        return FlamlPrior(
            prior=prior,
            starting_points=tuple(flat),
            report=tuple(notes),
            flaml_starting_points=starting,
            custom_hp=custom_hp,
            estimator_list=tuple(learner for _, learner in sorted(order, key=lambda p: -p[0])),
            metric=metric,
            task="regression" if prior.task_type == "regression" else "classification",
            learners=learners,
        )

    @staticmethod
    def _point(config: Mapping[str, ParamValue], mapping: FlamlLearner) -> dict[str, Any]:
        skip = {mapping.when[0]} if mapping.when else set()
        return {mapping.flaml_name(k): v for k, v in config.items() if k not in skip}

    @staticmethod
    def _custom_hp(
        tune: Any,
        space: EstimatorSpace,
        mapping: FlamlLearner,
        starts: Mapping[str, list[Any]],
    ) -> dict[str, dict[str, Any]]:
        best = next(
            (
                s.config
                for s in starts.get(space.estimator, [])
                if mapping.when is None or s.config.get(mapping.when[0]) == mapping.when[1]
            ),
            None,
        )
        result: dict[str, dict[str, Any]] = {}
        for hyperparameter in space.hyperparameters:
            if mapping.when is not None and hyperparameter.name == mapping.when[0]:
                continue
            entry: dict[str, Any] = {"domain": _domain(tune, hyperparameter)}
            init = best[hyperparameter.name] if best else hyperparameter.default
            if hyperparameter.kind != "categorical":
                entry["init_value"] = init
                # CFO starts from the cheapest corner unless told otherwise
                entry["low_cost_init_value"] = init
            else:
                entry["init_value"] = init
            result[mapping.flaml_name(hyperparameter.name)] = entry
        for name, value in mapping.constants:
            result[name] = {"domain": value}
        return result

    @staticmethod
    def _metric(prior: Prior) -> tuple[Any, str | None]:
        if prior.metric in _METRICS:
            binary, other = _METRICS[prior.metric]
            return (binary if prior.task_type == "binary" else other), None
        if prior.metric in ("balanced_accuracy", "balanced_error_rate"):
            return BalancedAccuracyMetric(), (
                "FLAML has no balanced accuracy; a custom metric function (1 - balanced "
                "accuracy as the loss) is passed"
            )
        raise MileMetaError(f"no FLAML metric for {prior.metric}")  # pragma: no cover

    def _module_usage(self) -> str:
        return (
            "    import flaml, this_module as p\n"
            "    automl = flaml.AutoML()\n"
            "    automl.fit(X, y, time_budget=60, **p.FIT_KWARGS)\n"
            "    spec = p.EXPORTED.spec_of({'learner': automl.best_estimator, **automl.best_config})"
        )

    def _module_names(self) -> str:
        return (
            "FIT_KWARGS = EXPORTED.fit_kwargs()\n"
            "FLAML_STARTING_POINTS = FIT_KWARGS['starting_points']\n"
            "CUSTOM_HP = FIT_KWARGS['custom_hp']\n"
        )
