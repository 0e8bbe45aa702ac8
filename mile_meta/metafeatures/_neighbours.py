"""Weka's ``IBk -K 1`` predictions (OpenML's ``kNN1N`` landmarker).

Weka's rules, restated:

* numeric attributes are scaled to [0, 1] with the range of the training rows, widened by
  every test row before its neighbours are searched (``addInstanceInfo``); an attribute with
  no range contributes 0;
* a nominal attribute contributes 0 when both values are equal and known, else 1;
* a missing numeric value contributes 1 against another missing value, else
  ``max(v, 1 - v)`` for the known scaled value ``v``;
* the distance is the sum of squared contributions; *every* training row at the smallest
  distance votes (ties are kept, not broken), and each class starts with ``1 / n_train`` so
  that the distribution is never degenerate.

Ties decide the probabilities and so the AUC, so distances must be compared exactly as Weka
computes them: attribute by attribute, left to right. That exact computation is slow in
numpy for large tables, so when no value is missing we first find the candidates with one
matrix product (squared norms minus twice the dot product, off by rounding only) and then
recompute the exact distance for the few rows within rounding distance of the nearest.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from mile_meta.metafeatures._table import PreparedTable

__all__ = ["OutOfTime", "estimated_seconds", "nearest_neighbour_probabilities"]

_CHUNK_CELLS = 2_000_000  # test rows x training rows per distance block
_MAX_ONE_HOT_WIDTH = 4_096  # beyond this the matrix-product path costs more than it saves


# Single-core cost per (test row, training row) pair, measured on a busy 2-core machine and
# rounded up: the matrix-product path pays a fixed part plus a part per embedding column;
# the exact path pays per attribute.
_PRODUCT_SECONDS_PER_PAIR = 8e-9
_PRODUCT_SECONDS_PER_PAIR_AND_COLUMN = 4e-10
_EXACT_SECONDS_PER_PAIR_AND_ATTRIBUTE = 2e-8


class OutOfTime(Exception):
    """The deadline passed before all predictions were made."""


class _Attributes:
    """The table's features split for distance work, in the frame's column order."""

    def __init__(self, table: PreparedTable, train: np.ndarray, test: np.ndarray) -> None:
        self.order = table.feature_columns()
        self.train_numeric = table.numeric[train]
        self.test_numeric = table.numeric[test]
        self.train_nominal = table.nominal_codes[train]
        self.test_nominal = table.nominal_codes[test]
        self.declared = table.nominal_declared_counts
        with warnings.catch_warnings():
            # An all-missing column has no range: nanmin/nanmax warn and give NaN, as wanted.
            warnings.simplefilter("ignore", RuntimeWarning)
            train_low = np.nanmin(self.train_numeric, axis=0)
            train_high = np.nanmax(self.train_numeric, axis=0)
        # Range seen by the time each test row is classified.
        self.low = np.fmin(np.fmin.accumulate(self.test_numeric, axis=0), train_low)
        high = np.fmax(np.fmax.accumulate(self.test_numeric, axis=0), train_high)
        self.width = high - self.low
        self.scalable = np.isfinite(self.low) & (self.width > 0)

    @property
    def has_missing(self) -> bool:
        return bool(
            np.isnan(self.train_numeric).any()
            or np.isnan(self.test_numeric).any()
            or (self.train_nominal < 0).any()
            or (self.test_nominal < 0).any()
        )


def _scaled(values: np.ndarray, low: np.ndarray, width: np.ndarray, scalable: np.ndarray):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scalable, (values - low) / width, 0.0)


def _numeric_difference(
    test_values: np.ndarray,
    train_values: np.ndarray,
    low: np.ndarray,
    width: np.ndarray,
    scalable: np.ndarray,
) -> np.ndarray:
    test_scaled = _scaled(test_values, low, width, scalable)
    train_scaled = _scaled(train_values, low, width, scalable)
    difference = test_scaled - train_scaled
    test_missing = np.isnan(test_values)
    train_missing = np.isnan(train_values)
    if not (test_missing.any() or train_missing.any()):
        return difference
    known = np.where(test_missing, train_scaled, test_scaled)
    one_missing = np.maximum(known, 1.0 - known)
    return np.where(
        test_missing & train_missing,
        1.0,
        np.where(test_missing | train_missing, one_missing, difference),
    )


def _exact_squared_distances(
    attributes: _Attributes, test_rows: np.ndarray, train_rows: np.ndarray, broadcast: bool
) -> np.ndarray:
    """Weka's squared distance, attribute by attribute.

    With ``broadcast`` the result is (len(test_rows), len(train_rows)); otherwise the two index
    arrays are paired element by element.
    """
    distances: np.ndarray
    if broadcast:
        test_index = test_rows[:, None]
        train_index = train_rows[None, :]
        distances = np.zeros((test_rows.size, train_rows.size))
    else:
        test_index, train_index = test_rows, train_rows
        distances = np.zeros(test_rows.size)
    for is_numeric, column in attributes.order:
        if is_numeric:
            difference = _numeric_difference(
                attributes.test_numeric[test_index, column],
                attributes.train_numeric[train_index, column],
                attributes.low[test_index, column],
                attributes.width[test_index, column],
                attributes.scalable[test_index, column],
            )
        else:
            test_codes = attributes.test_nominal[test_index, column]
            train_codes = attributes.train_nominal[train_index, column]
            difference = (
                (test_codes < 0) | (train_codes < 0) | (test_codes != train_codes)
            ).astype(np.float64)
        distances += difference * difference
    return distances


class _WeightedVectors:
    """Rows as vectors with per-test-row weights whose weighted squared distances are Weka's.

    Numeric columns are shifted by a common origin (the training minimum, so values stay
    within one range width of 0) and weighted by ``1 / width**2`` of the test row's range
    (0 when the attribute cannot be scaled); each nominal column becomes a one-hot block of
    weight 1/2, so two different values are at distance 1. Valid without missing values.
    """

    def __init__(self, attributes: _Attributes) -> None:
        origin = np.where(np.isfinite(attributes.low[:1]), attributes.low[:1], 0.0)
        self.attributes = attributes
        self.train = np.hstack(
            [attributes.train_numeric - origin, self._one_hot(attributes.train_nominal)]
        )
        self.test = np.hstack(
            [attributes.test_numeric - origin, self._one_hot(attributes.test_nominal)]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            numeric_weights = np.where(attributes.scalable, 1.0 / (attributes.width**2), 0.0)
        n_one_hot = self.train.shape[1] - numeric_weights.shape[1]
        self.weights = np.hstack(
            [numeric_weights, np.full((numeric_weights.shape[0], n_one_hot), 0.5)]
        )
        # sum_f w_f (a_f - b_f)^2 = [w, -2 w a, sum_f w_f a_f^2] . [b^2, b, 1]: one product.
        self.train_side = np.vstack(
            [(self.train * self.train).T, self.train.T, np.ones((1, self.train.shape[0]))]
        )

    def _one_hot(self, codes: np.ndarray) -> np.ndarray:
        declared = self.attributes.declared
        starts = np.concatenate([[0], np.cumsum(declared)[:-1]]).astype(np.int64)
        one_hot = np.zeros((codes.shape[0], int(declared.sum())))
        if codes.shape[1]:
            rows = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
            one_hot[rows, (codes + starts).ravel()] = 1.0
        return one_hot

    def squared_distances(self, test_rows: np.ndarray) -> np.ndarray:
        """Approximate squared distances (rounding error only) of ``test_rows`` to all training rows."""
        weights = self.weights[test_rows]
        vectors = self.test[test_rows]
        weighted = weights * vectors
        test_side = np.hstack(
            [weights, -2.0 * weighted, (weighted * vectors).sum(axis=1, keepdims=True)]
        )
        return test_side @ self.train_side


def _nearest_by_product(
    attributes: _Attributes, vectors: _WeightedVectors, test_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(test position, training position) of every nearest pair: candidates from the fast
    approximate distances, decided on Weka's exact ones."""
    approximate = vectors.squared_distances(test_rows)
    # Every weighted coordinate lies within [-1, 1], so the expansion's rounding is a few
    # machine epsilons per attribute; anything within a generous multiple is a candidate.
    tolerance = 1e-9 * (1.0 + len(attributes.order))
    candidate_test, candidate_train = np.nonzero(
        approximate <= approximate.min(axis=1, keepdims=True) + tolerance
    )
    exact = _exact_squared_distances(
        attributes, test_rows[candidate_test], candidate_train, broadcast=False
    )
    best = np.full(test_rows.size, np.inf)
    np.minimum.at(best, candidate_test, exact)
    keep = exact == best[candidate_test]
    return test_rows[candidate_test[keep]], candidate_train[keep]


def _nearest_exactly(
    attributes: _Attributes, test_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n_train = attributes.train_numeric.shape[0]
    distances = _exact_squared_distances(attributes, test_rows, np.arange(n_train), broadcast=True)
    test_positions, train_positions = np.nonzero(distances == distances.min(axis=1, keepdims=True))
    return test_rows[test_positions], train_positions


def _uses_product(table: PreparedTable) -> tuple[bool, int]:
    width = int(table.nominal_declared_counts.sum()) + table.numeric.shape[1]
    has_missing = bool(np.isnan(table.numeric).any() or (table.nominal_codes < 0).any())
    return (not has_missing and width <= _MAX_ONE_HOT_WIDTH), width


def estimated_seconds(table: PreparedTable, n_rows: int) -> float:
    """Rough time of a 2-fold IBk evaluation on ``n_rows`` rows (each test row meets half)."""
    pairs = n_rows * n_rows / 2.0
    use_product, width = _uses_product(table)
    if use_product:
        return pairs * (_PRODUCT_SECONDS_PER_PAIR + width * _PRODUCT_SECONDS_PER_PAIR_AND_COLUMN)
    return pairs * max(table.n_features, 1) * _EXACT_SECONDS_PER_PAIR_AND_ATTRIBUTE


def nearest_neighbour_probabilities(
    table: PreparedTable, train: np.ndarray, test: np.ndarray, deadline: float
) -> np.ndarray:
    """Class probabilities IBk -K 1 gives the ``test`` rows when trained on ``train``."""
    assert table.target_codes is not None
    n_classes = len(table.class_labels)
    train_classes = table.target_codes[train]
    attributes = _Attributes(table, train, test)
    one_hot_width = int(attributes.declared.sum()) + attributes.test_numeric.shape[1]
    # Missing values anywhere in the folds' rows would need Weka's special cases: exact path.
    use_product = not attributes.has_missing and one_hot_width <= _MAX_ONE_HOT_WIDTH
    chunk = max(1, _CHUNK_CELLS // max(train.size, 1))

    vectors = _WeightedVectors(attributes) if use_product else None
    votes = np.zeros((test.size, n_classes))
    # These products are small and many: BLAS threads only fight each other (and whatever
    # else runs on the machine), so one thread is both faster and predictable for the budget.
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, test.size, chunk):
            if time.perf_counter() > deadline:
                raise OutOfTime
            rows = np.arange(start, min(start + chunk, test.size))
            if vectors is not None:
                test_positions, train_positions = _nearest_by_product(attributes, vectors, rows)
            else:
                test_positions, train_positions = _nearest_exactly(attributes, rows)
            np.add.at(votes, (test_positions, train_classes[train_positions]), 1.0)

    prior = 1.0 / max(1, train.size)  # Weka's correction: every class starts at 1/n
    # Weka's normaliser is (classes / training rows) + number of neighbours: the same number
    # for every row with as many neighbours. Summing each row instead would split exact
    # probability ties by rounding noise, and the AUC depends on those ties.
    total = n_classes * prior + votes.sum(axis=1)  # whole numbers: exact in any order
    return (votes + prior) / total[:, None]
