"""The step graph of one cross-validated evaluation, run against a :class:`ReuseStore`.

Per fold the graph is a chain: split → each preprocessing stage → fit → predictions → score.
Every node has a content-addressed key (the fold's key holds the data fingerprint, target,
dtypes, folds and library versions; each later key adds its step), so any stored prefix of the
chain is reused:

* predictions of the same pipeline on the same fold: the fold is scored at once (an identical
  spec, or the same one under another metric whose predictions are already there);
* the fitted estimator: only the predictions are computed (another metric);
* a bigger or smaller fit of the same estimator: resized incrementally (``_incremental``);
* the deepest stored preprocessing stage: only the stages after it run (another estimator
  reuses every preprocessed fold; another scaler reuses imputation and encoding).

``TabularPreprocessor`` is one spec step but two stages here — impute+encode, then scale the
numeric block — so a change of ``scaling`` reuses the first. The split is exact: the scaler
sees the same numbers in the same layout as inside the fused step (tests compare the two).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import clone

from mile_meta.pipelines import PipelineSpec, Step, component_info
from mile_meta.reuse._incremental import incremental_for
from mile_meta.reuse._keys import chain_key, component_version, environment_token
from mile_meta.reuse._store import ReuseStore

__all__ = ["EvaluationPlan", "FoldOutcome"]

Predictor = Callable[[Any, Any], Any]
# bumped when what a key names is stored differently, so old entries are never misread
_FORMAT = 2


@dataclass(frozen=True)
class FoldOutcome:
    """One fold's predictions and how they were obtained.

    ``fit_seconds`` is what preprocessing and fitting cost when first computed (also when
    reused, so recorded runtimes stay those of a real fit); ``reused`` names the deepest node
    taken from the store: ``predictions``, ``model``, ``resized`` (an incremental refit),
    ``preprocessing`` (every stage), ``partial`` (some stages) or ``none``.
    """

    values: Any
    classes: Any
    fit_seconds: float
    reused: str
    preprocessing_reused: bool
    stages_reused: int = 0  # preprocessing stages taken from the store (all if predictions were)


@dataclass(frozen=True)
class _FoldData:
    train: Any
    test: Any
    # columns of the numeric block after impute+encode, and the imputer's memory layout
    numeric: tuple[int, int, str] | None
    seconds: float  # cumulative cost of the stages that made it


class _Stage:
    """One preprocessing stage: ``identity`` goes into the key; ``run`` transforms a fold."""

    identity: dict[str, Any]

    def run(self, data: _FoldData, y_train: Any) -> _FoldData:
        raise NotImplementedError


class _TransformerStage(_Stage):
    def __init__(self, step: Step, transformer: Any) -> None:
        self.identity = {**step.to_dict(), "version": _version(step.component)}
        self.transformer = transformer

    def run(self, data: _FoldData, y_train: Any) -> _FoldData:
        started = time.perf_counter()
        fitted = clone(self.transformer)
        train = fitted.fit_transform(data.train, y_train)
        test = fitted.transform(data.test)
        return _FoldData(train, test, None, data.seconds + time.perf_counter() - started)


class _EncodeStage(_Stage):
    """``TabularPreprocessor`` without its scaler: imputation and categorical encoding."""

    def __init__(self, step: Step, transformer: Any) -> None:
        params = {k: v for k, v in step.params if k != "scaling"}
        self.identity = {
            "component": step.component,
            "part": "impute+encode",
            "params": params,
            "version": _version(step.component),
        }
        self.transformer = clone(transformer).set_params(scaling="none")

    def run(self, data: _FoldData, y_train: Any) -> _FoldData:
        started = time.perf_counter()
        fitted = clone(self.transformer)
        train = fitted.fit_transform(data.train, y_train)
        test = fitted.transform(data.test)
        block = fitted.transformer_.output_indices_.get("numeric")
        numeric = None
        if block is not None and block.stop > block.start:
            numeric = (int(block.start), int(block.stop), _imputed_order(fitted, data.train))
        return _FoldData(train, test, numeric, data.seconds + time.perf_counter() - started)


def _imputed_order(fitted: Any, frame: Any) -> str:
    """The memory layout ("C" or "F") the imputer hands the scaler inside the fused step.

    Column sums (the scaler's mean and variance) depend on it in the last bits, so the split
    scaler gets its input in the same layout; three rows show which one it is.
    """
    numeric = fitted.transformer_.named_transformers_["numeric"]
    sample = frame.iloc[:3][fitted.numeric_columns_] if hasattr(frame, "iloc") else frame[:3]
    imputed = np.asarray(numeric.transform(sample))
    return "F" if imputed.flags.f_contiguous and not imputed.flags.c_contiguous else "C"


class _ScaleStage(_Stage):
    """``TabularPreprocessor``'s scaler, applied to the numeric block the encode stage made."""

    def __init__(self, step: Step, make_scaler: Callable[[], Any]) -> None:
        self.identity = {
            "component": step.component,
            "part": "scale",
            "scaling": step.param_dict["scaling"],
            "version": _version(step.component),
        }
        self.make_scaler = make_scaler

    def run(self, data: _FoldData, y_train: Any) -> _FoldData:
        if data.numeric is None:  # no numeric columns: the fused step has no scaler either
            return data
        started = time.perf_counter()
        start, stop, layout = data.numeric
        order: Literal["C", "F"] = "F" if layout == "F" else "C"
        scaler = self.make_scaler()
        # laid out like the imputer's output inside the fused step: same sums, same bits
        scaled_train = scaler.fit_transform(np.array(data.train[:, start:stop], order=order))
        scaled_test = scaler.transform(np.array(data.test[:, start:stop], order=order))
        train, test = np.array(data.train), np.array(data.test)
        train[:, start:stop] = scaled_train
        test[:, start:stop] = scaled_test
        train = np.nan_to_num(train, nan=0.0, posinf=0.0, neginf=0.0)
        test = np.nan_to_num(test, nan=0.0, posinf=0.0, neginf=0.0)
        return _FoldData(train, test, None, data.seconds + time.perf_counter() - started)


def _version(component: str) -> str:
    return component_version(component_info(component).import_path)


def _stages(spec: PipelineSpec, template: Any) -> list[_Stage]:
    from mile_meta.pipelines._preprocessing import _SCALERS

    stages: list[_Stage] = []
    for step, (_, transformer) in zip(spec.preprocessing, template.steps[:-1], strict=True):
        scaling = step.param_dict.get("scaling", "none")
        # an unknown scaling is left to the fused step, which fails with its own message
        if (
            step.component == "TabularPreprocessor"
            and isinstance(scaling, str)
            and scaling in _SCALERS
        ):
            stages.append(_EncodeStage(step, transformer))
            if _SCALERS[scaling] is not None:
                stages.append(_ScaleStage(step, _SCALERS[scaling]))
            continue
        stages.append(_TransformerStage(step, transformer))
    return stages


class EvaluationPlan:
    """The step graph of ``spec`` (built as ``template``) on the folds of one dataset.

    ``data_identity`` names the data (fingerprint, target, dtypes, rows), ``folds_identity``
    the splitter (folds, seed); both go into every key.
    """

    def __init__(
        self,
        spec: PipelineSpec,
        template: Any,
        *,
        data_identity: tuple[Any, ...],
        folds_identity: tuple[Any, ...],
    ) -> None:
        self.spec = spec
        self.stages = _stages(spec, template)
        self.estimator = template.steps[-1][1]
        self.estimator_identity = {
            **spec.estimator.to_dict(),
            "version": _version(spec.estimator.component),
        }
        self.incremental = incremental_for(spec.estimator)
        self.root = chain_key(
            "evaluation", _FORMAT, environment_token(), data_identity, folds_identity
        )

    def _stage_keys(self, fold: int) -> list[str]:
        keys = [chain_key(self.root, "fold", fold)]
        for stage in self.stages:
            keys.append(chain_key(keys[-1], stage.identity))
        return keys

    def _preprocess(
        self, store: ReuseStore, keys: list[str], X: Any, y_train: Any, train: Any, test: Any
    ) -> tuple[_FoldData, int]:
        """The fold after every stage, from the deepest stored one; and how many were stored."""
        depth = len(self.stages)
        while depth > 0:
            stored = store.get(keys[depth])
            if stored is not None:
                data = _FoldData(*stored)
                break
            depth -= 1
        else:
            data = _FoldData(X.iloc[train], X.iloc[test], None, 0.0)
        reused = depth
        for index in range(depth, len(self.stages)):
            data = self.stages[index].run(data, y_train)
            store.put(
                keys[index + 1],
                (data.train, data.test, data.numeric, data.seconds),
                cost_seconds=data.seconds,
            )
        return data, reused

    def run_fold(
        self,
        store: ReuseStore,
        fold: int,
        X: Any,
        y: Any,
        train: np.ndarray,
        test: np.ndarray,
        *,
        kind: str,
        predictor: Predictor,
    ) -> FoldOutcome:
        """Predictions of the fitted pipeline on the fold's test rows (``predictor(model, X)``,
        named ``kind``), reusing whatever the store holds."""
        keys = self._stage_keys(fold)
        model_key = chain_key(keys[-1], self.estimator_identity)
        predictions_key = chain_key(model_key, "predictions", kind)
        stored = store.get(predictions_key)
        if stored is not None:
            values, classes, fit_seconds = stored
            return FoldOutcome(values, classes, fit_seconds, "predictions", True, len(self.stages))
        y_train = y.iloc[train]
        model_entry = store.get(model_key)
        data, reused_stages = self._preprocess(store, keys, X, y_train, train, test)
        preprocessing_reused = reused_stages == len(self.stages) > 0
        if model_entry is not None:
            model, fit_seconds = model_entry
            reused = "model"
        else:
            model, fit_seconds, reused = self._fit(store, keys[-1], model_key, data, y_train)
            if reused == "none":
                reused = (
                    "preprocessing"
                    if preprocessing_reused and self.stages
                    else ("partial" if reused_stages else "none")
                )
        started = time.perf_counter()
        values = predictor(model, data.test)
        classes = getattr(model, "classes_", None)
        store.put(
            predictions_key,
            (np.asarray(values), None if classes is None else np.asarray(classes), fit_seconds),
            cost_seconds=fit_seconds + time.perf_counter() - started,
        )
        return FoldOutcome(
            values, classes, fit_seconds, reused, preprocessing_reused, reused_stages
        )

    def _fit(
        self, store: ReuseStore, data_key: str, model_key: str, data: _FoldData, y_train: Any
    ) -> tuple[Any, float, str]:
        """The fitted estimator (resized from a stored fit of its lineage where that is exact),
        the seconds a fresh fit would take (preprocessing included), and how it was made."""
        incremental = self.incremental
        lineage_key = ""
        lineage: dict[int, str] = {}
        model: Any = None
        fit_seconds = 0.0
        reused = "none"
        started = time.perf_counter()
        if incremental is not None:
            lineage_key = chain_key(
                data_key, "lineage", incremental.lineage(), self.estimator_identity["version"]
            )
            lineage = dict(store.get(lineage_key) or {})
            bigger = sorted(s for s in lineage if s > incremental.size)
            smaller = sorted((s for s in lineage if s < incremental.size), reverse=True)
            if incremental.can_shrink:
                for size in bigger:
                    base = store.get(lineage[size])
                    if base is not None:
                        model = incremental.shrink(base[0])
                        # what a fresh fit of this size would have cost, pro rata
                        share = incremental.size / size
                        fit_seconds = data.seconds + (base[1] - data.seconds) * share
                        # the bigger fit holds it: nothing new to keep but the predictions
                        return model, fit_seconds, "resized"
            if model is None and incremental.can_grow:
                for size in smaller:
                    base = store.get(lineage[size])
                    if base is not None:
                        model = incremental.grow(base[0], data.train, y_train)
                        fit_seconds = base[1] + time.perf_counter() - started
                        reused = "resized"
                        break
        if model is None:
            model = clone(self.estimator)
            model.fit(data.train, y_train)
            fit_seconds = data.seconds + time.perf_counter() - started
        cost = time.perf_counter() - started
        # a resizable model is worth its disk space (the next size starts from it); another
        # is kept in memory for a change of metric in this session
        store.put(
            model_key,
            (model, fit_seconds),
            cost_seconds=max(cost, fit_seconds - data.seconds),
            persist=incremental is not None,
        )
        if incremental is not None:
            lineage[incremental.size] = model_key
            store.put(lineage_key, lineage, cost_seconds=fit_seconds)
        return model, fit_seconds, reused
