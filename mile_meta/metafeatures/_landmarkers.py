"""OpenML's cheap landmarkers: decision stump, naive Bayes and 1-nearest-neighbour.

OpenML estimates each landmarker with Weka's ``Evaluation.crossValidateModel`` using two folds
and ``new java.util.Random(1)``, and reports the weighted one-vs-rest ROC AUC, the error rate
and Cohen's kappa of the pooled predictions. To land on the same numbers we rebuild the same
folds (Weka's Fisher-Yates shuffle driven by Java's generator, then Weka's stratification) and
restate the three learners with Weka's default settings, from their documented behaviour:

* ``DecisionStump``: one binary split (``value == v`` for a nominal attribute, ``value <= t``
  for a numeric one) plus a third branch for missing values, chosen by the lowest class
  entropy conditioned on the three branches; leaves predict their class frequencies.
* ``NaiveBayes``: Laplace-smoothed counts for the class and for nominal attributes; a normal
  density per class for numeric attributes, values rounded to the attribute's precision (mean
  gap between distinct training values) and integrated over one precision step; missing
  values are skipped.
* ``IBk -K 1``: Euclidean distance on attributes scaled to [0, 1] by the ranges seen so far,
  nominal attributes differ by 0 or 1, Weka's rules for missing values; every training row
  at the smallest distance votes.

Landmarkers are computed in order of cost and only while they fit in the time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr
from scipy.stats import rankdata

from mile_meta.metafeatures._java_random import JavaRandom
from mile_meta.metafeatures._neighbours import OutOfTime, nearest_neighbour_probabilities
from mile_meta.metafeatures._neighbours import estimated_seconds as nearest_neighbour_seconds
from mile_meta.metafeatures._table import PreparedTable

__all__ = ["LANDMARKER_NAMES", "LandmarkerOutcome", "landmarker_qualities", "weka_folds"]

LANDMARKER_NAMES: tuple[str, ...] = ("DecisionStump", "NaiveBayes", "kNN1N")
_OPENML_FOLDS = 2
_OPENML_SEED = 1
_LN_2 = np.log(2.0)
# Weka's naive Bayes floors every factor at 1e-75 and rescales when all classes fall below it.
_PROBABILITY_FLOOR = 1e-75
_DEFAULT_PRECISION = 0.01

# Rough single-core costs, used to skip a landmarker that cannot finish in what is left of
# the budget (measured on a busy 2-core machine and rounded up). The stump sorts every
# attribute and sweeps the classes; naive Bayes evaluates a density per class and attribute.
_SHUFFLE_SECONDS_PER_ROW = 3e-6
_STUMP_SECONDS_PER_CELL = 1.2e-7
_STUMP_SECONDS_PER_CELL_AND_CLASS = 1e-8
_BAYES_SECONDS_PER_CELL_AND_CLASS = 1.4e-7


@dataclass(frozen=True)
class LandmarkerOutcome:
    """Landmarker qualities computed, and the landmarkers dropped for lack of time."""

    values: tuple[tuple[str, float], ...]
    skipped: tuple[str, ...]


# --------------------------------------------------------------------------- folds


def weka_folds(
    class_codes: np.ndarray, n_folds: int = _OPENML_FOLDS, seed: int = _OPENML_SEED
) -> list[np.ndarray]:
    """Test rows of each fold, in Weka's order, as ``crossValidateModel`` builds them.

    Weka shuffles the rows (``Instances.randomize``), groups them by class with a sequence of
    in-place swaps (``stratify``), deals them round-robin into ``n_folds`` blocks
    (``stratStep``), and takes block ``f`` as test fold ``f``. Rows whose class is missing
    take part (they group together) even though they are never trained or tested on.
    """
    n_rows = len(class_codes)
    order = np.arange(n_rows)
    generator = JavaRandom(seed)
    order_list = order.tolist()
    for position in range(n_rows - 1, 0, -1):
        other = generator.next_int(position + 1)
        order_list[position], order_list[other] = order_list[other], order_list[position]
    order = np.asarray(order_list, dtype=np.int64)
    classes = class_codes[order].copy()

    index = 1
    while index < n_rows:
        current_class = classes[index - 1]
        # Rows of this class further on, found before any swap: a swap only moves a row of
        # another class behind the scan, so these positions stay valid during the pass.
        positions = np.flatnonzero(classes[index:] == current_class) + index
        for position in positions.tolist():
            if position != index:
                order[index], order[position] = order[position], order[index]
                classes[index], classes[position] = classes[position], classes[index]
            index += 1
        index += 1
    return [order[fold::n_folds] for fold in range(n_folds)]


# --------------------------------------------------------------------------- scoring


def _weighted_auc(probabilities: np.ndarray, classes: np.ndarray) -> float:
    """Weka's ``weightedAreaUnderROC``: one-vs-rest AUC per class, weighted by class size."""
    total = 0.0
    weight = 0
    for class_index in np.unique(classes):
        positive = classes == class_index
        n_positive = int(positive.sum())
        n_negative = classes.size - n_positive
        if n_negative == 0:
            return float("nan")
        ranks = rankdata(probabilities[:, class_index])
        auc = (ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (
            n_positive * n_negative
        )
        total += auc * n_positive
        weight += n_positive
    return total / weight if weight else float("nan")


def _kappa(predicted: np.ndarray, classes: np.ndarray, n_classes: int) -> float:
    confusion = np.zeros((n_classes, n_classes))
    np.add.at(confusion, (classes, predicted), 1.0)
    total = confusion.sum()
    observed = np.trace(confusion) / total
    chance = float((confusion.sum(axis=1) * confusion.sum(axis=0)).sum()) / (total * total)
    return (observed - chance) / (1.0 - chance) if chance < 1 else 1.0


def _scores(name: str, probabilities: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    predicted = probabilities.argmax(axis=1)  # first maximum, like Weka's Utils.maxIndex
    return {
        f"{name}AUC": _weighted_auc(probabilities, classes),
        f"{name}ErrRate": float((predicted != classes).mean()),
        f"{name}Kappa": _kappa(predicted, classes, probabilities.shape[1]),
    }


# --------------------------------------------------------------------------- learners

# A learner gets (table, training rows, test rows in Weka's order, deadline) and returns the
# class probabilities of the test rows.
_Learner = Callable[[PreparedTable, np.ndarray, np.ndarray, float], np.ndarray]


def _x_log_x(values: np.ndarray) -> np.ndarray:
    """``x ln x`` with 0 for 0 (Weka's ``ContingencyTables.lnFunc``)."""
    positive = values > 0
    return np.where(positive, values * np.log(np.where(positive, values, 1.0)), 0.0)


def _split_entropy(left: np.ndarray, right: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Class entropy (bits) given the branch for candidate splits: Weka's
    ``ContingencyTables.entropyConditionedOnRows`` of the table [left; right; missing].

    ``left`` and ``right`` hold one row of class counts per candidate; ``missing`` is the
    same for every candidate (0 for an empty table).
    """
    # Column-by-column sums: numpy's axis-1 reduction over a handful of classes is slow.
    left_sizes = _sum_left_to_right(left)
    right_sizes = _sum_left_to_right(right)
    missing_size = missing.sum()
    cell_terms = (
        _sum_left_to_right(_x_log_x(left))
        + _sum_left_to_right(_x_log_x(right))
        + _x_log_x(missing).sum()
    )
    row_terms = _x_log_x(left_sizes) + _x_log_x(right_sizes) + _x_log_x(missing_size)
    total = left_sizes + right_sizes + missing_size
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, -(cell_terms - row_terms) / (total * _LN_2), 0.0)


def _sum_left_to_right(matrix: np.ndarray) -> np.ndarray:
    """Row sums added class by class, in Java's order (numpy's unrolled sum rounds differently,
    and a different last bit is enough to split probability ties the AUC depends on)."""
    total = np.zeros(matrix.shape[:-1])
    for column in range(matrix.shape[-1]):
        total = total + matrix[..., column]
    return total


def _class_counts(classes: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(classes, minlength=n_classes).astype(np.float64)


def _stump_split_nominal(
    codes: np.ndarray, classes: np.ndarray, n_declared: int, n_classes: int
) -> tuple[float, float, np.ndarray]:
    missing = codes < 0
    counts = np.zeros((n_declared + 1, n_classes))
    np.add.at(counts, (np.where(missing, n_declared, codes), classes), 1.0)
    known_totals = counts[:n_declared].sum(axis=0)
    if n_declared == 0:
        return np.inf, 0.0, np.stack([np.zeros(n_classes), np.zeros(n_classes), counts[0]])
    left = counts[:n_declared]
    right = known_totals - left
    criteria = _split_entropy(left, right, counts[n_declared])
    best = int(np.argmin(criteria))
    distribution = np.stack([left[best], right[best], counts[n_declared]])
    if not missing.any():
        distribution[2] = known_totals
    return float(criteria[best]), float(best), distribution


def _stump_split_numeric(
    values: np.ndarray, classes: np.ndarray, n_classes: int
) -> tuple[float, float, np.ndarray]:
    missing = np.isnan(values)
    missing_counts = _class_counts(classes[missing], n_classes)
    known_values = values[~missing]
    known_classes = classes[~missing]
    known_totals = _class_counts(known_classes, n_classes)
    # Any order of equal values will do: cuts fall only between distinct values.
    order = np.argsort(known_values)
    sorted_values = known_values[order]
    # Cut between consecutive distinct values: rows 0..i go left.
    cut_after = np.flatnonzero(sorted_values[:-1] < sorted_values[1:])
    if cut_after.size == 0:
        distribution = np.stack([np.zeros(n_classes), known_totals, missing_counts])
        if not missing.any():
            distribution[2] = known_totals
        return np.inf, -np.inf, distribution
    sorted_classes = known_classes[order]
    left = np.empty((cut_after.size, n_classes))
    for class_index in range(n_classes):
        left[:, class_index] = np.cumsum(sorted_classes == class_index)[cut_after]
    right = known_totals - left
    criteria = _split_entropy(left, right, missing_counts)
    best = int(np.argmin(criteria))
    split = (sorted_values[cut_after[best]] + sorted_values[cut_after[best] + 1]) / 2.0
    distribution = np.stack([left[best], right[best], missing_counts])
    if not missing.any():
        distribution[2] = known_totals
    return float(criteria[best]), float(split), distribution


def _decision_stump(
    table: PreparedTable, train: np.ndarray, test: np.ndarray, deadline: float
) -> np.ndarray:
    assert table.target_codes is not None
    n_classes = len(table.class_labels)
    classes = table.target_codes[train]
    best: tuple[float, int, float, np.ndarray] | None = None
    columns = table.feature_columns()
    for attribute, (is_numeric, column) in enumerate(columns):
        if time.perf_counter() > deadline:
            raise OutOfTime
        if is_numeric:
            criterion, split, distribution = _stump_split_numeric(
                table.numeric[train, column], classes, n_classes
            )
        else:
            criterion, split, distribution = _stump_split_nominal(
                table.nominal_codes[train, column],
                classes,
                int(table.nominal_declared_counts[column]),
                n_classes,
            )
        # The first attribute is taken whatever its score; later ones must beat it strictly.
        if best is None or criterion < best[0]:
            best = (criterion, attribute, split, distribution)
    if best is None:  # no features: every row lands in the "missing" branch
        distribution = np.stack([np.zeros(n_classes)] * 2 + [_class_counts(classes, n_classes)])
        best = (np.inf, -1, 0.0, distribution)
    _, attribute, split, distribution = best
    branch_totals = _sum_left_to_right(distribution)
    for branch in range(3):
        if branch_totals[branch] == 0:
            # An empty branch predicts like the missing-value branch, as in Weka.
            distribution[branch] = distribution[2] / branch_totals[2]
        else:
            distribution[branch] = distribution[branch] / branch_totals[branch]
    if attribute < 0:
        return np.repeat(distribution[2][None, :], test.size, axis=0)
    is_numeric, column = columns[attribute]
    if is_numeric:
        values = table.numeric[test, column]
        branches = np.where(np.isnan(values), 2, np.where(values <= split, 0, 1))
    else:
        codes = table.nominal_codes[test, column]
        branches = np.where(codes < 0, 2, np.where(codes == int(split), 0, 1))
    return distribution[branches]


def _weka_precision(values: np.ndarray) -> float:
    """Mean gap between consecutive distinct values, summed left to right as Weka does."""
    distinct = np.unique(values[~np.isnan(values)])
    if distinct.size < 2:
        return _DEFAULT_PRECISION
    return float(np.add.accumulate(np.diff(distinct))[-1] / (distinct.size - 1))


def _naive_bayes(
    table: PreparedTable, train: np.ndarray, test: np.ndarray, deadline: float
) -> np.ndarray:
    assert table.target_codes is not None
    n_classes = len(table.class_labels)
    classes = table.target_codes[train]
    class_counts = _class_counts(classes, n_classes) + 1.0  # Laplace
    probabilities = np.tile(class_counts / class_counts.sum(), (test.size, 1))
    for is_numeric, column in table.feature_columns():
        if time.perf_counter() > deadline:
            raise OutOfTime
        if is_numeric:
            train_values = table.numeric[train, column]
            precision = _weka_precision(train_values)
            known = ~np.isnan(train_values)
            weights = _class_counts(classes[known], n_classes)
            # Values near 1e300 overflow to inf as they do in Java; the resulting factors are
            # not finite and the landmarker's scores are dropped, so the warnings are noise.
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                rounded = np.rint(train_values[known] / precision) * precision
                sums = np.bincount(classes[known], weights=rounded, minlength=n_classes)
                sums_of_squares = np.bincount(
                    classes[known], weights=rounded * rounded, minlength=n_classes
                )
                means = np.where(weights > 0, sums / weights, 0.0)
                spreads = np.sqrt(np.abs(sums_of_squares - means * sums) / weights)
            default_spread = precision / 6.0
            spreads = np.where(
                (weights > 0) & (spreads > 1e-10),
                np.maximum(default_spread, spreads),
                default_spread,
            )
            test_values = table.numeric[test, column]
            present = ~np.isnan(test_values)
            if not present.any():
                continue
            with np.errstate(over="ignore", invalid="ignore"):  # as above
                value = np.rint(test_values[present] / precision) * precision
                upper = ndtr((value[:, None] - means + precision / 2) / spreads)
                lower = ndtr((value[:, None] - means - precision / 2) / spreads)
            factors = upper - lower
        else:
            n_declared = int(table.nominal_declared_counts[column])
            if n_declared == 0:
                continue
            train_codes = table.nominal_codes[train, column]
            known = train_codes >= 0
            counts = np.ones((n_declared, n_classes))  # Laplace
            np.add.at(counts, (train_codes[known], classes[known]), 1.0)
            value_given_class = counts / counts.sum(axis=0)
            test_codes = table.nominal_codes[test, column]
            present = test_codes >= 0
            if not present.any():
                continue
            factors = value_given_class[test_codes[present]]
        everything_present = bool(present.all())
        rows = probabilities if everything_present else probabilities[present]
        rows *= np.maximum(_PROBABILITY_FLOOR, factors)
        largest = rows.max(axis=1)
        underflowing = (largest > 0) & (largest < _PROBABILITY_FLOOR)
        if underflowing.any():
            rows[underflowing] *= 1e75
        if not everything_present:
            probabilities[present] = rows
    return probabilities / _sum_left_to_right(probabilities)[:, None]


# --------------------------------------------------------------------------- driver


def _estimated_seconds(name: str, table: PreparedTable, n_rows: int) -> float:
    cells = n_rows * max(table.n_features, 1)
    n_classes = max(len(table.class_labels), 1)
    if name == "DecisionStump":
        return cells * (_STUMP_SECONDS_PER_CELL + n_classes * _STUMP_SECONDS_PER_CELL_AND_CLASS)
    if name == "NaiveBayes":
        return cells * n_classes * _BAYES_SECONDS_PER_CELL_AND_CLASS
    return nearest_neighbour_seconds(table, n_rows)


_LEARNERS: dict[str, _Learner] = {
    "DecisionStump": _decision_stump,
    "NaiveBayes": _naive_bayes,
    "kNN1N": nearest_neighbour_probabilities,
}


def landmarker_qualities(
    table: PreparedTable, *, time_budget_seconds: float, random_state: int = 0
) -> LandmarkerOutcome:
    """OpenML's landmarker qualities for a classification table, within the time budget.

    ``random_state`` is accepted for API symmetry: the folds are OpenML's (seed 1), so the
    result does not depend on it.
    """
    del random_state  # OpenML's folds are fixed; see the docstring
    started = time.perf_counter()
    deadline = started + max(0.0, time_budget_seconds)
    assert table.target_codes is not None
    known = table.target_codes >= 0
    n_known = int(known.sum())
    if n_known < _OPENML_FOLDS or len(np.unique(table.target_codes[known])) < 2:
        return LandmarkerOutcome(values=(), skipped=())
    shuffle_seconds = table.n_rows * _SHUFFLE_SECONDS_PER_ROW
    cheapest = min(_estimated_seconds(name, table, n_known) for name in LANDMARKER_NAMES)
    if started + shuffle_seconds + cheapest > deadline:
        return LandmarkerOutcome(values=(), skipped=LANDMARKER_NAMES)
    folds = [fold[known[fold]] for fold in weka_folds(table.target_codes)]
    if any(fold.size == 0 for fold in folds):  # only possible with missing classes
        return LandmarkerOutcome(values=(), skipped=())
    all_rows = np.concatenate(folds)
    values: dict[str, float] = {}
    skipped: list[str] = []
    for name in LANDMARKER_NAMES:
        if time.perf_counter() + _estimated_seconds(name, table, n_known) > deadline:
            skipped.append(name)
            continue
        try:
            pooled = []
            for fold_index, test in enumerate(folds):
                train = np.concatenate([f for i, f in enumerate(folds) if i != fold_index])
                pooled.append(_LEARNERS[name](table, train, test, deadline))
        except OutOfTime:
            skipped.append(name)
            continue
        probabilities = np.concatenate(pooled)
        scores = _scores(name, probabilities, table.target_codes[all_rows])
        values.update({key: value for key, value in scores.items() if np.isfinite(value)})
    return LandmarkerOutcome(values=tuple(sorted(values.items())), skipped=tuple(skipped))
