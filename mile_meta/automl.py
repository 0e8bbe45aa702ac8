"""The search as scikit-learn estimators: drop a whole AutoML search into scikit-learn code
(``mile_meta.estimators`` is the public home of the pipelines' own components).

    from mile_meta import MileMetaClassifier
    model = MileMetaClassifier(budget="60s", jobs=2).fit(X_train, y_train)
    model.predict(X_test); model.leaderboard(); model.best_pipeline_

``fit`` runs the public search (:func:`mile_meta.search.cruise_control`) as the parameters
say; the fitted model is the search's final model (an ensemble or one pipeline). The classes
follow the scikit-learn contract (``__init__`` only stores its parameters, ``get_params``/
``set_params``/``clone`` work), so they fit inside ``cross_val_score``, ``GridSearchCV`` and a
``Pipeline``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["MileMetaClassifier", "MileMetaRegressor"]

_TARGET = "__mile_meta_target__"


class _MileMetaEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters, fit and predict.

    ``budget`` is wall-clock time for the whole fit ("60s", "5m", or seconds);
    ``include``/``exclude`` name families or estimators; ``max_fit_seconds`` and
    ``max_memory`` bound each candidate; ``interpretable`` keeps one readable pipeline;
    ``jobs`` candidates run at once (-1: every core); ``scheduler`` is a Dask scheduler's
    address or a ``distributed.Client`` the candidates run on; ``kb`` is the knowledge base
    giving the prior (None: the default one if it exists, else a search without prior);
    ``record`` writes the evaluations to it; ``max_evaluations`` stops earlier.
    """

    _task: str = "regression"

    def __init__(
        self,
        budget: str | float = "60s",
        *,
        metric: str | None = None,
        include: tuple[str, ...] | list[str] | None = None,
        exclude: tuple[str, ...] | list[str] | None = None,
        max_fit_seconds: str | float | None = None,
        max_memory: str | int | None = None,
        interpretable: bool = False,
        ensemble: bool = True,
        tune_decisions: bool = True,
        cv: int | str = "auto",
        jobs: int = 1,
        scheduler: Any = None,
        kb: Any = None,
        use_prior: bool = True,
        record: bool = False,
        seed: int = 0,
        max_evaluations: int | None = None,
    ) -> None:
        self.budget = budget
        self.metric = metric
        self.include = include
        self.exclude = exclude
        self.max_fit_seconds = max_fit_seconds
        self.max_memory = max_memory
        self.interpretable = interpretable
        self.ensemble = ensemble
        self.tune_decisions = tune_decisions
        self.cv = cv
        self.jobs = jobs
        self.scheduler = scheduler
        self.kb = kb
        self.use_prior = use_prior
        self.record = record
        self.seed = seed
        self.max_evaluations = max_evaluations

    # -- scikit-learn's contract --------------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the pipelines impute
        tags.non_deterministic = True  # a wall-clock budget: a busier machine searches less
        return tags

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` as a frame the pipelines read (a frame keeps its column types)."""
        checked = validate_data(
            self, X, reset=reset, ensure_all_finite="allow-nan", dtype=None, ensure_min_samples=1
        )
        if isinstance(X, pd.DataFrame):
            frame = X.copy()
            frame.columns = [str(c) for c in frame.columns]
        else:
            array = np.asarray(checked)
            if array.dtype.kind == "O":
                frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
                frame = frame.infer_objects()
            else:
                frame = pd.DataFrame(
                    array.astype(float), columns=[f"x{i}" for i in range(array.shape[1])]
                )
        return frame.reset_index(drop=True)

    def _task_type(self, y: np.ndarray) -> str:
        return self._task

    def fit(self, X: Any, y: Any) -> Any:
        """Search for the best model of ``y`` from ``X`` within ``budget`` and fit it."""
        from mile_meta.search import SearchSettings, cruise_control

        validate_data(
            self,
            X,
            y,
            ensure_all_finite="allow-nan",
            dtype=None,
            y_numeric=self._task == "regression",
        )
        target = np.asarray(y)
        if target.ndim != 1:
            target = target.ravel()
        if len(target) < 2:  # scikit-learn's wording, for code that checks it
            raise ValueError(f"n_samples = {len(target)}: the search needs rows to cross-validate")
        task_type = self._task_type(target)
        frame = self._frame(X, reset=True)
        if len(frame) != len(target):
            raise ValueError(f"X has {len(frame)} rows and y {len(target)}; pass one label a row")
        frame[_TARGET] = target
        kb, use_prior = self._knowledge_base()
        settings = SearchSettings.create(
            budget=self.budget,
            include=self.include,
            exclude=self.exclude,
            max_fit_seconds=self.max_fit_seconds,
            interpretable=self.interpretable,
            max_memory_bytes=self.max_memory,
            ensemble=self.ensemble,
            metric=self.metric,
            seed=self.seed,
            cv=self.cv,
            use_prior=use_prior,
            record=self.record and kb is not None,
            max_evaluations=self.max_evaluations,
            tune_decisions=self.tune_decisions,
            jobs=self.jobs,
            scheduler=self.scheduler,
        )
        result = cruise_control(frame, _TARGET, task_type=task_type, settings=settings, kb=kb)
        if result.estimator is None:
            reason = result.most_common_error or "no candidate completed in time"
            raise RuntimeError(
                f"no model within the budget of {self.budget}: {reason}; give a larger budget"
            )
        self.search_result_ = result
        self.model_ = result.estimator
        return self

    def _knowledge_base(self) -> tuple[Any, bool]:
        """The knowledge base to use and whether the prior can be read from it."""
        if not self.use_prior and not self.record:
            return None, False  # nothing to read or write: leave the knowledge base closed
        if self.kb is not None:
            return self.kb, self.use_prior
        from mile_meta.config import default_kb_path

        path = default_kb_path()
        if path.exists():
            return path, self.use_prior
        return None, False  # no knowledge base yet: search from defaults

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the fitted model (labels for a classifier)."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict(self._frame(X, reset=False)))

    # -- what the search found ------------------------------------------------------------------
    @property
    def best_pipeline_(self) -> Any:
        """The best single pipeline's spec (:class:`~mile_meta.pipelines.PipelineSpec`)."""
        check_is_fitted(self, "model_")
        return self.search_result_.spec

    @property
    def ensemble_(self) -> Any:
        """The ensemble's members and weights (None: the final model is one pipeline)."""
        check_is_fitted(self, "model_")
        return self.search_result_.ensemble

    def leaderboard(self) -> pd.DataFrame:
        """One row per pipeline evaluated, best first."""
        check_is_fitted(self, "model_")
        return self.search_result_.leaderboard


class MileMetaClassifier(ClassifierMixin, _MileMetaEstimator):
    """A classifier found by the search within ``budget`` (binary or multiclass).

    Example::

        from sklearn.model_selection import cross_val_score
        cross_val_score(MileMetaClassifier(budget="20s"), X, y, cv=3)
    """

    _task = "classification"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

    def _task_type(self, y: np.ndarray) -> str:
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has one class only ({self.classes_[0]!r}); a classifier needs at least 2"
            )
        return "binary" if type_of_target(y) == "binary" else "multiclass"

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        check_is_fitted(self, "model_")
        proba = np.asarray(self.model_.predict_proba(self._frame(X, reset=False)))
        model_classes = getattr(self.model_, "classes_", self.classes_)
        if list(model_classes) == list(self.classes_):
            return proba
        columns = {label: index for index, label in enumerate(model_classes)}
        full = np.zeros((proba.shape[0], len(self.classes_)))
        for index, label in enumerate(self.classes_):
            if label in columns:
                full[:, index] = proba[:, columns[label]]
        return full


class MileMetaRegressor(RegressorMixin, _MileMetaEstimator):
    """A regressor found by the search within ``budget``.

    Example::

        MileMetaRegressor(budget="30s", jobs=-1).fit(X, y).predict(X_new)
    """

    _task = "regression"
