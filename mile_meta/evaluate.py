"""User-driven evaluation: cross-validate the pipeline the user names, and remember it.

The result is recorded in the knowledge base as a *local run* (source ``local``) with the
dataset's meta-features, so later recommendations learn from what users did. With a reuse
store (``cache=``) every step of every fold — preprocessing stages, the fit, the predictions —
is looked up by a key naming everything it depends on, and only what is missing is computed
(:mod:`mile_meta.reuse`, ``docs/reuse.md``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from mile_meta import __version__
from mile_meta.data import Dataset
from mile_meta.errors import MileMetaError
from mile_meta.metrics import METRICS, Metric, default_metric, resolve_metric
from mile_meta.pipelines import PipelineSpec, build_pipeline, component_info, family_of, make_spec
from mile_meta.records import (
    DatasetRecord,
    EvaluationRecord,
    PipelineRecord,
    QualityRecord,
    Record,
    SourceInfo,
    TaskRecord,
)
from mile_meta.reuse import EvaluationPlan, FoldOutcome, ReuseStore

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = [
    "EvaluationResult",
    "FoldCache",
    "evaluate_pipeline",
    "record_local_runs",
    "resolve_pipeline",
    "score_predictions",
]

LOCAL_SOURCE = "local"


@dataclass(frozen=True)
class EvaluationResult:
    """Cross-validated score of one pipeline on one dataset.

    ``mean``/``std`` are in the metric's unit over ``fold_scores``; ``fit_seconds`` is the mean
    time to fit one fold (preprocessing included, even when it came from the cache: the time a
    fresh fit takes); ``cached_folds`` counts folds whose preprocessing was reused.
    """

    pipeline_id: str
    spec: PipelineSpec
    family: str
    metric: str
    higher_is_better: bool
    mean: float
    std: float
    fold_scores: tuple[float, ...]
    fit_seconds: float
    total_seconds: float
    seed: int
    n_folds: int
    dataset_id: str
    dataset_name: str
    cached_folds: int
    train_size: int | None = None
    error: str | None = None
    # folds answered from stored predictions (nothing fitted), and fits resized incrementally
    reused_folds: int = 0
    resized_fits: int = 0
    # preprocessing stages (impute+encode, scale, each feature step) reused, summed over folds
    reused_stages: int = 0
    # with keep_predictions: every row's prediction by the fold model that did not see it
    # (class probabilities in sorted class order, or regression values); never recorded
    predictions: np.ndarray | None = field(default=None, repr=False, compare=False)


class FoldCache(ReuseStore):
    """The reuse store under its former name: ``FoldCache(folder)`` keeps results on disk in
    ``folder`` as well as in memory. See :class:`mile_meta.reuse.ReuseStore`."""

    def __init__(
        self,
        folder: Path | None = None,
        max_entries: int = 4096,
        *,
        max_disk_bytes: int = 1 << 30,
        max_memory_bytes: int = 512 << 20,
    ) -> None:
        super().__init__(
            folder,
            max_entries=max_entries,
            max_disk_bytes=max_disk_bytes,
            max_memory_bytes=max_memory_bytes,
        )


def resolve_pipeline(
    reference: str | PipelineSpec, kb: KnowledgeBase | None = None
) -> PipelineSpec:
    """A spec from a spec, JSON text, a knowledge-base pipeline id, a corpus origin key
    (e.g. the LCDB learner ``sklearn.ensemble.RandomForestClassifier``) or a component name."""
    if isinstance(reference, PipelineSpec):
        return reference
    text = reference.strip()
    if text.startswith("{"):
        try:
            spec = PipelineSpec.from_json(text)
        except ValueError as error:
            raise MileMetaError(f"pipeline JSON is not a spec ({error})") from error
        _build(spec, 0)  # a misspelt component or hyperparameter fails here, before any fit
        return spec
    if kb is not None:
        found = kb.pipeline_spec(text)
        if found is not None:
            spec_json, runnable = found
            if not runnable:
                raise MileMetaError(
                    f"pipeline {text!r} cannot be built (its corpus description did not translate); pick another"
                )
            return PipelineSpec.from_json(spec_json)
    try:
        return make_spec(text.rsplit(".", 1)[-1])
    except ValueError:
        raise MileMetaError(
            f"unknown pipeline {text!r}; pass a pipeline id, a corpus name such as "
            "'sklearn.ensemble.RandomForestClassifier', a component such as 'LGBMClassifier', or spec JSON"
        ) from None


def _build(spec: PipelineSpec, seed: int) -> Any:
    try:
        return build_pipeline(spec, random_state=seed)
    except (ValueError, TypeError) as error:
        raise MileMetaError(
            f"pipeline {spec.estimator.component} cannot be built ({_first_line(error)}); "
            "check its components and hyperparameters"
        ) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _check_task(spec: PipelineSpec, task_type: str) -> None:
    try:
        kind = component_info(spec.estimator.component).kind
    except ValueError as error:
        raise MileMetaError(str(error)) from None
    wanted = "regressor" if task_type == "regression" else "classifier"
    if kind != wanted:
        raise MileMetaError(
            f"{spec.estimator.component} is a {kind} but the task is {task_type}; pick a {wanted}"
        )


def _positive_scores(estimator: Any, X: Any) -> Any:
    if hasattr(estimator, "predict_proba"):
        try:
            return estimator.predict_proba(X)
        except (AttributeError, NotImplementedError):
            pass
    return estimator.decision_function(X)


# what each metric reads off a fitted model: class scores or plain predictions
_SCORE_METRICS = ("area_under_roc_curve", "log_loss")


def predict_scores(estimator: Any, X: Any, classes: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted classifier, one column per entry of ``classes``.

    Estimators without ``predict_proba`` give their decision function through a logistic
    (binary) or softmax (multiclass) squashing: a ranking, not calibrated probabilities.
    """
    own = np.asarray(estimator.classes_)
    scores: np.ndarray | None = None
    if hasattr(estimator, "predict_proba"):
        try:
            scores = np.asarray(estimator.predict_proba(X), dtype=float)
        except (AttributeError, NotImplementedError):
            scores = None
    if scores is None:
        decision = np.asarray(estimator.decision_function(X), dtype=float)
        if decision.ndim == 1:
            positive = 1.0 / (1.0 + np.exp(-np.clip(decision, -50, 50)))
            scores = np.column_stack([1.0 - positive, positive])
        else:
            shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
            scores = shifted / shifted.sum(axis=1, keepdims=True)
    aligned = np.zeros((len(scores), len(classes)), dtype=np.float32)
    positions = np.searchsorted(classes, own)
    aligned[:, positions] = scores
    return aligned


def _prediction_kind(metric: Metric) -> str:
    return "scores" if metric.name in _SCORE_METRICS else "predict"


def _predictor(kind: str) -> Any:
    if kind == "scores":
        return _positive_scores
    return lambda estimator, X: estimator.predict(X)


def score_predictions(metric: Metric, estimator: Any, X: Any, y: Any) -> float:
    """Score a fitted estimator on (X, y) under ``metric``."""
    kind = _prediction_kind(metric)
    has_proba = hasattr(estimator, "predict_proba")
    if metric.name == "log_loss" and not has_proba:
        raise MileMetaError(
            f"{type(estimator).__name__} gives no probabilities; log_loss needs them"
        )
    values = _predictor(kind)(estimator, X)
    return _score(metric, values, getattr(estimator, "classes_", None), y, has_proba=has_proba)


def _score(metric: Metric, values: Any, classes: Any, y: Any, *, has_proba: bool) -> float:
    """``metric`` from a model's predictions (``predict`` output, or class scores for the
    ranking metrics), its ``classes`` and the truth ``y``."""
    from sklearn import metrics as skm

    name = metric.name
    if name in _SCORE_METRICS:
        labels = list(classes)
        if name == "log_loss":
            return float(skm.log_loss(y, values, labels=labels))
        scores = np.asarray(values)
        if len(labels) == 2:
            positive = scores[:, 1] if scores.ndim == 2 else scores
            return float(skm.roc_auc_score(y, positive))
        if scores.ndim == 2 and not has_proba:
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = scores / scores.sum(axis=1, keepdims=True)
        return float(skm.roc_auc_score(y, scores, multi_class="ovr", labels=labels))
    predicted = values
    if name == "predictive_accuracy":
        return float(skm.accuracy_score(y, predicted))
    if name == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y, predicted))
    if name == "balanced_error_rate":
        return 1.0 - float(skm.balanced_accuracy_score(y, predicted))
    if name == "f_measure":
        known = [] if classes is None else list(classes)
        average = "binary" if len(np.unique(y)) <= 2 and len(known) <= 2 else "macro"
        if average == "binary":
            return float(skm.f1_score(y, predicted, pos_label=known[1]))
        return float(skm.f1_score(y, predicted, average="macro"))
    if name == "root_mean_squared_error":
        return float(np.sqrt(skm.mean_squared_error(y, predicted)))
    if name == "mean_absolute_error":
        return float(skm.mean_absolute_error(y, predicted))
    if name == "r2":
        return float(skm.r2_score(y, predicted))
    raise MileMetaError(f"metric {name!r} is not implemented for evaluation")


def _splits(dataset: Dataset, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    y = dataset.target
    if dataset.task_type == "regression":
        if len(y) < n_folds:
            raise MileMetaError(
                f"{dataset.name} has {len(y)} rows, fewer than the {n_folds} folds; "
                "pass a smaller --cv or more rows"
            )
        splitter: Any = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
        return list(splitter.split(dataset.frame))
    smallest = int(y.value_counts().min())
    if smallest < 2:
        raise MileMetaError(
            f"the rarest class of {dataset.name} has {smallest} example; cross-validation needs at least 2 per class"
        )
    splitter = StratifiedKFold(n_splits=min(n_folds, smallest), shuffle=True, random_state=seed)
    return list(splitter.split(dataset.frame, y))


def _run_fold_fresh(
    template: Pipeline, kind: str, X: Any, y: Any, train: np.ndarray, test: np.ndarray
) -> FoldOutcome:
    """One fold with nothing reused: the scikit-learn pipeline the spec builds, fitted afresh
    (the reference every reused result is checked against)."""
    started = time.perf_counter()
    pipeline = clone(template)
    pipeline.fit(X.iloc[train], y.iloc[train])
    fit_seconds = time.perf_counter() - started
    values = _predictor(kind)(pipeline, X.iloc[test])
    return FoldOutcome(values, getattr(pipeline, "classes_", None), fit_seconds, "none", False)


def _working_dataset(dataset: Dataset, rows: np.ndarray | None) -> Dataset:
    if rows is None:
        return dataset
    import joblib

    return Dataset(
        name=dataset.name,
        frame=dataset.frame.iloc[rows].reset_index(drop=True),
        target=dataset.target.iloc[rows].reset_index(drop=True),
        task_type=dataset.task_type,
        path=dataset.path,
        # named by the full data and the rows: no second pass over the values
        fingerprint=str(joblib.hash((dataset.fingerprint, np.asarray(rows))))[:16],
    )


def _data_identity(dataset: Dataset) -> tuple[Any, ...]:
    """What names the data in reuse keys: its values (fingerprint), target and dtypes."""
    frame = dataset.frame
    return (
        dataset.fingerprint,
        str(dataset.target.name),
        str(dataset.target.dtype),
        dataset.task_type,
        tuple(map(str, frame.columns)),
        tuple(str(dtype) for dtype in frame.dtypes),
        len(frame),
    )


def evaluate_pipeline(
    pipeline: str | PipelineSpec,
    dataset: Dataset,
    *,
    metric: str | None = None,
    cv: int = 5,
    seed: int = 0,
    kb: KnowledgeBase | None = None,
    record: bool = True,
    cache: ReuseStore | None = None,
    rows: np.ndarray | None = None,
    keep_predictions: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> EvaluationResult:
    """Cross-validate one pipeline on ``dataset`` and (with ``kb`` and ``record``) record it.

    ``cache`` (a :class:`~mile_meta.reuse.ReuseStore`, e.g.
    :func:`~mile_meta.reuse.default_store`) reuses what earlier evaluations stored there —
    preprocessed folds, fitted estimators, predictions — and keeps what this one computes;
    None fits every fold afresh. ``rows`` restricts the evaluation to a subsample (the
    fidelity schedule of the search); its results are recorded with ``train_size`` set.
    ``keep_predictions`` also returns the out-of-fold predictions (``result.predictions``,
    what the search's ensembles and tuned decisions are built from), taken from the same
    fitted fold models through the reuse store. ``progress(done, total, mean_so_far)`` is
    called after each fold (folds done, folds in all, the mean score of the folds done), so
    a caller can show an evaluation's progress while it runs.
    """
    started = time.perf_counter()
    spec = resolve_pipeline(pipeline, kb)
    _check_task(spec, dataset.task_type)
    chosen = resolve_metric(metric) if metric else default_metric(dataset.task_type)
    if dataset.task_type not in chosen.task_types:
        raise MileMetaError(
            f"metric {chosen.name} does not apply to {dataset.task_type} tasks; use one of "
            + ", ".join(m for m, info in METRICS.items() if dataset.task_type in info.task_types)
        )
    if cv < 2:
        raise MileMetaError(f"--cv must be at least 2, got {cv}")
    working = _working_dataset(dataset, rows)
    folds = _splits(working, cv, seed)
    template = _build(spec, seed)
    estimator = template.steps[-1][1]
    has_proba = hasattr(estimator, "predict_proba")
    if chosen.name == "log_loss" and not has_proba:
        raise MileMetaError(
            f"{type(estimator).__name__} gives no probabilities; log_loss needs them"
        )
    kind = _prediction_kind(chosen)
    if keep_predictions and cache is None:
        # the out-of-fold predictions come from the fold models fitted for the score
        cache = ReuseStore(None, max_memory_bytes=128 << 20)
    plan = None
    if cache is not None:
        plan = EvaluationPlan(
            spec,
            template,
            data_identity=_data_identity(working),
            folds_identity=(
                "stratified" if working.task_type != "regression" else "kfold",
                cv,
                seed,
                len(folds),
            ),
        )
    X, y = working.frame, working.target
    classes = None if working.task_type == "regression" else np.unique(np.asarray(y))
    predictions: np.ndarray | None = None
    if keep_predictions:
        shape = (len(y),) if classes is None else (len(y), len(classes))
        predictions = np.zeros(shape, dtype=np.float32)
    scores: list[float] = []
    fit_times: list[float] = []
    cached = reused_folds = resized = reused_stages = 0
    for index, (train, test) in enumerate(folds):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if plan is not None and cache is not None:
                    outcome = plan.run_fold(
                        cache, index, X, y, train, test, kind=kind, predictor=_predictor(kind)
                    )
                else:
                    outcome = _run_fold_fresh(template, kind, X, y, train, test)
                score = _score(
                    chosen, outcome.values, outcome.classes, y.iloc[test], has_proba=has_proba
                )
                if predictions is not None and plan is not None and cache is not None:
                    predictions[test] = _out_of_fold(plan, cache, index, X, y, train, test, classes)
        except (MemoryError, MileMetaError):
            raise
        except Exception as error:  # the estimator's own words, on one line
            raise MileMetaError(
                f"{spec.estimator.component} failed on fold {index + 1} of {len(folds)} "
                f"({_first_line(error)}); try another pipeline or check the data"
            ) from error
        scores.append(score)
        fit_times.append(outcome.fit_seconds)
        cached += outcome.preprocessing_reused
        reused_folds += outcome.reused == "predictions"
        resized += outcome.reused == "resized"
        reused_stages += outcome.stages_reused
        if progress is not None:
            progress(index + 1, len(folds), float(np.mean(scores)))
    result = EvaluationResult(
        pipeline_id=spec.pipeline_id,
        spec=spec,
        family=family_of(spec),
        metric=chosen.name,
        higher_is_better=chosen.higher_is_better,
        mean=float(np.mean(scores)),
        std=float(np.std(scores)),
        fold_scores=tuple(scores),
        fit_seconds=float(np.mean(fit_times)),
        total_seconds=time.perf_counter() - started,
        seed=seed,
        n_folds=len(folds),
        dataset_id=dataset.dataset_id,
        dataset_name=dataset.name,
        cached_folds=cached,
        train_size=None if rows is None else len(rows),
        reused_folds=reused_folds,
        resized_fits=resized,
        reused_stages=reused_stages,
        predictions=predictions,
    )
    if kb is not None and record:
        record_local_runs(kb, dataset, [result])
    return result


def _out_of_fold(
    plan: EvaluationPlan,
    cache: ReuseStore,
    fold: int,
    X: Any,
    y: Any,
    train: np.ndarray,
    test: np.ndarray,
    classes: np.ndarray | None,
) -> np.ndarray:
    """The fold's test-row predictions for ``result.predictions`` (the fold model is reused)."""
    if classes is None:
        outcome = plan.run_fold(
            cache, fold, X, y, train, test, kind="predict", predictor=_predictor("predict")
        )
        return np.asarray(outcome.values, dtype=np.float32)

    def aligned(estimator: Any, X_test: Any) -> np.ndarray:
        return predict_scores(estimator, X_test, classes)

    outcome = plan.run_fold(
        cache, fold, X, y, train, test, kind="aligned-scores", predictor=aligned
    )
    return np.asarray(outcome.values, dtype=np.float32)


def _local_dataset_records(dataset: Dataset) -> list[Record]:
    from mile_meta.metafeatures import compute_metafeatures

    records: list[Record] = [
        DatasetRecord(
            dataset.dataset_id,
            dataset.name,
            None,
            n_rows=len(dataset.frame),
            n_features=dataset.frame.shape[1] + 1,
            n_classes=dataset.n_classes,
            origin_key=str(dataset.path or dataset.name),
        )
    ]
    meta_features = compute_metafeatures(
        dataset.frame, dataset.target, task_type=dataset.task_type, time_budget_seconds=2.0
    )
    records.extend(
        QualityRecord(dataset.dataset_id, name, float(value))
        for name, value in meta_features.values.items()
    )
    return records


def record_local_runs(
    kb: KnowledgeBase, dataset: Dataset, results: list[EvaluationResult], *, run_key: str = ""
) -> None:
    """Write local runs (one evaluation per fold) with the dataset and its meta-features.

    ``run_key`` names what recorded them (``search:<id>`` for a search, so
    ``kb forget-runs --search <id>`` finds them); empty for ``evaluate`` and probes."""
    records: list[Record] = []
    if not kb.has_local_dataset(dataset.dataset_id):
        records.extend(_local_dataset_records(dataset))
    for result in results:
        if result.error is not None:
            continue
        records.append(
            TaskRecord(
                f"local:{dataset.fingerprint}:{dataset.task_type}",
                dataset.dataset_id,
                dataset.task_type,
                target=str(dataset.target.name),
                estimation_procedure=f"{result.n_folds}-fold cross-validation, seed {result.seed}",
            )
        )
        records.append(
            PipelineRecord(
                result.pipeline_id,
                result.spec.to_json(),
                result.family,
                origin_key=f"local:{result.pipeline_id}",
                runnable=True,
                task_type=dataset.task_type,
            )
        )
        for fold, value in enumerate(result.fold_scores):
            records.append(
                EvaluationRecord(
                    dataset_id=dataset.dataset_id,
                    pipeline_id=result.pipeline_id,
                    metric=result.metric,
                    value=value,
                    higher_is_better=result.higher_is_better,
                    task_id=f"local:{dataset.fingerprint}:{dataset.task_type}",
                    fold=fold,
                    seed=result.seed,
                    runtime_seconds=result.fit_seconds,
                    train_size=result.train_size,
                    run_key=run_key,
                )
            )
    info = SourceInfo(
        LOCAL_SOURCE,
        __version__,
        "the user's own data and runs",
        description="Pipelines evaluated by mile-meta on the user's datasets.",
    )
    with kb.transaction():
        kb.write_records(records, LOCAL_SOURCE)
        kb.record_source(info, kb.source_counts(LOCAL_SOURCE))
