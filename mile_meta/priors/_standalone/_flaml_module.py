"""FLAML from a mile-meta prior, with no import of mile-meta (copied into written modules).

``FlamlPortable(PRIOR)``: ``add_learners(automl)`` registers, through FLAML's own
``AutoML.add_learner``, a learner for every estimator FLAML has no built-in learner for (a
scikit-learn pipeline with mile-meta's standard preprocessing, searched over mile-meta's
space); ``fit_kwargs()`` holds ``metric``, ``estimator_list``, ``starting_points`` and
``custom_hp`` for ``AutoML.fit`` — not ``task``, which you pass yourself (``TASK``);
``point_of(learner, config)`` maps FLAML's answer back to a flat point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flaml import tune
from flaml.automl.model import SKLearnEstimator

from mile_meta.priors._standalone._common_module import (  # standalone: inlined
    PortablePrior,  # standalone: inlined
    _PipelineFactory,  # standalone: inlined
)  # standalone: inlined


def balanced_accuracy_loss(
    X_val: Any,
    y_val: Any,
    estimator: Any,
    labels: Any,
    X_train: Any,
    y_train: Any,
    *args: Any,
    **kwargs: Any,
) -> tuple[float, dict[str, float]]:
    """FLAML custom metric: the loss is 1 - balanced accuracy (FLAML has no built-in one)."""
    from sklearn.metrics import balanced_accuracy_score

    score = float(balanced_accuracy_score(y_val, estimator.predict(X_val)))
    return 1.0 - score, {"balanced_accuracy": score}


def _domain(hyperparameter: Mapping[str, Any]) -> Any:
    low, high, log = hyperparameter["low"], hyperparameter["high"], hyperparameter["log"]
    if hyperparameter["kind"] == "categorical":
        return tune.choice(list(hyperparameter["choices"]))
    if hyperparameter["kind"] == "int":  # FLAML's integer upper bounds are exclusive
        return (tune.lograndint if log else tune.randint)(int(low), int(high) + 1)
    return (tune.loguniform if log else tune.uniform)(low, high)


class PortableLearner(SKLearnEstimator):
    """A FLAML learner for one mile-meta estimator (subclassed per estimator)."""

    portable: FlamlPortable
    estimator_name = ""

    def __init__(self, task: Any = "binary", n_jobs: Any = None, **config: Any) -> None:
        super().__init__(task, **config)
        self.estimator_class = _PipelineFactory(self.portable, self.estimator_name)

    @classmethod
    def search_space(cls, data_size: Any, task: Any, **params: Any) -> dict[str, Any]:
        return cls.portable.search_space(cls.estimator_name)

    def _preprocess(self, X: Any) -> Any:
        return X  # the pipeline encodes FLAML's categorical columns itself


class FlamlPortable(PortablePrior):
    """The prior for FLAML (see the module doc)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.flaml: Mapping[str, Any] = data["flaml"]
        self.task: str = self.flaml["task"]
        self.learners: dict[str, Mapping[str, Any]] = dict(self.flaml["learners"])
        self._classes: dict[str, type] = {}

    def _init(self, learner: str) -> dict[str, Any]:
        """The best starting point of ``learner``, in our names (or the defaults)."""
        entry = self.learners[learner]
        estimator = entry["estimator"]
        values = {
            h["parameter"]: h["default"] for h in self.estimators[estimator]["hyperparameters"]
        }
        for point in self.starting_points:
            if point[self.key] != estimator:
                continue
            candidate = self.split(point)[1]
            when = entry.get("when")
            if when is None or candidate.get(when[0]) == when[1]:
                values.update(candidate)
                break
        return values

    def search_space(self, estimator: str, learner: str | None = None) -> dict[str, Any]:
        """FLAML's search space of one estimator (FLAML's names for a built-in learner)."""
        entry = self.learners[learner or estimator]
        renames, when = entry.get("renames", {}), entry.get("when")
        init = self._init(learner or estimator)
        space: dict[str, Any] = {}
        for hyperparameter in self.estimators[estimator]["hyperparameters"]:
            ours = hyperparameter["parameter"]
            if (when is not None and ours == when[0]) or ours in entry.get("dropped", ()):
                continue
            item: dict[str, Any] = {"domain": _domain(hyperparameter), "init_value": init[ours]}
            if hyperparameter["kind"] != "categorical":
                item["low_cost_init_value"] = init[ours]  # else CFO starts at the cheapest corner
            space[renames.get(ours, ours)] = item
        for name, value in entry.get("constants", {}).items():
            space[name] = {"domain": value}
        return space

    def learner_classes(self) -> dict[str, type]:
        """The learners to register with ``AutoML.add_learner`` (name -> class)."""
        for learner, entry in self.learners.items():
            if entry["custom"] and learner not in self._classes:
                cls = type(
                    f"{entry['estimator']}Learner",
                    (PortableLearner,),
                    {
                        "portable": self,
                        "estimator_name": entry["estimator"],
                        "__module__": __name__,
                    },
                )
                globals()[cls.__name__] = cls  # picklable by name
                self._classes[learner] = cls
        return dict(self._classes)

    def add_learners(self, automl: Any) -> list[str]:
        """Register the learners FLAML lacks with ``automl``; returns their names."""
        for learner, cls in self.learner_classes().items():
            automl.add_learner(learner, cls)
        return list(self.learner_classes())

    def fit_kwargs(self, *, custom_learners: bool = True) -> dict[str, Any]:
        """``AutoML.fit`` keywords (without ``task``). ``custom_learners=False`` leaves out
        the learners ``add_learners`` registers."""
        metric: Any = self.flaml["metric"]
        if metric == "balanced_accuracy":
            metric = balanced_accuracy_loss
        learners = [
            learner
            for learner in self.flaml["estimator_list"]
            if custom_learners or not self.learners[learner]["custom"]
        ]
        return {
            "metric": metric,
            "estimator_list": learners,
            "starting_points": {
                learner: [dict(p) for p in points]
                for learner, points in self.flaml["starting_points"].items()
                if learner in learners
            },
            "custom_hp": {
                learner: self.search_space(self.learners[learner]["estimator"], learner)
                for learner in learners
                if not self.learners[learner]["custom"]
            },
            "n_jobs": 1,
        }

    def point_of(self, learner: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """The flat point of FLAML's ``best_estimator`` and ``best_config``."""
        if learner not in self.learners:
            raise KeyError(f"FLAML learner {learner!r} is not part of this prior")
        entry = self.learners[learner]
        estimator = entry["estimator"]
        back = {theirs: ours for ours, theirs in entry.get("renames", {}).items()}
        constants = entry.get("constants", {})
        point: dict[str, Any] = {self.key: estimator}
        for key, value in config.items():
            if key in constants or key == "FLAML_sample_size":
                continue
            point[f"{estimator}:{back.get(key, key)}"] = value
        if entry.get("when"):
            point[f"{estimator}:{entry['when'][0]}"] = entry["when"][1]
        return point
