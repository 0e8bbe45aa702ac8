"""Turn a pandas frame and target into the two arrays the qualities are computed on.

OpenML (Weka) knows two kinds of attributes: numeric and nominal. A nominal attribute has a
declared list of values, and several qualities depend on that list, not on the values that
occur (``NumberOfBinaryFeatures`` counts attributes *declared* with two values; missing values
are filed under the *first* declared value by OpenML's entropy code). pandas says the same
with a ``category`` dtype, so:

* ``category`` columns keep their categories, in order, as the declared values;
* ``object``/``string``/``bool`` columns are nominal with their sorted distinct values;
* numbers (and datetimes, as seconds) are numeric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from mile_meta.errors import DataError
from mile_meta.records import TaskType

__all__ = ["PreparedTable", "explain_task_type", "infer_task_type", "prepare_table"]

TASK_TYPES: tuple[TaskType, ...] = ("binary", "multiclass", "regression")

# A numeric target whose values are all whole numbers and which takes at most this many
# distinct values is read as class labels (0..9 digit labels, 1..7 segment classes); more
# distinct values read as a count or a measurement.
_MAX_DISTINCT_WHOLE_NUMBERS_FOR_CLASSES = 10
# Beyond ten: whole numbers are codes when few relative to the rows (AutoGluon's share of
# 5 %, 10 % for small data), without gaps, and at most this many.
_MAX_CODED_CLASSES = 100
_CODED_SHARE = 0.05
_CODED_SHARE_SMALL = 0.10


@dataclass(frozen=True)
class PreparedTable:
    """The frame as OpenML's characterizers see it.

    ``numeric`` holds the numeric features (NaN = missing) and ``nominal_codes`` the nominal
    ones as indexes into their declared values (-1 = missing), each in the frame's column
    order; ``feature_is_numeric`` keeps that order across both blocks for the landmarkers.
    For classification ``target_codes`` indexes ``class_labels`` (-1 = missing); for
    regression ``target_values`` holds the numbers.
    """

    task_type: TaskType
    n_rows: int
    numeric: np.ndarray  # (n_rows, n_numeric) float64
    nominal_codes: np.ndarray  # (n_rows, n_nominal) int64
    nominal_declared_counts: np.ndarray  # (n_nominal,) int64
    feature_is_numeric: tuple[bool, ...]
    target_codes: np.ndarray | None
    class_labels: tuple[Any, ...]
    target_values: np.ndarray | None

    @property
    def n_features(self) -> int:
        return len(self.feature_is_numeric)

    @property
    def is_classification(self) -> bool:
        return self.task_type != "regression"

    def feature_columns(self) -> list[tuple[bool, int]]:
        """``(is_numeric, column in its block)`` per feature, in the frame's column order."""
        columns: list[tuple[bool, int]] = []
        numeric_seen = nominal_seen = 0
        for is_numeric in self.feature_is_numeric:
            if is_numeric:
                columns.append((True, numeric_seen))
                numeric_seen += 1
            else:
                columns.append((False, nominal_seen))
                nominal_seen += 1
        return columns


def _is_nominal_dtype(dtype: Any) -> bool:
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(dtype):
        return True
    return not (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )


def _nominal_codes(column: pd.Series) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Codes into the declared values (-1 for missing) and the declared values themselves."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(dtype=np.int64)
        return codes, tuple(column.cat.categories)
    if pd.api.types.is_bool_dtype(column.dtype):
        # Nullable booleans may hold pd.NA; plain bools never miss.
        missing = column.isna().to_numpy()
        codes = np.where(missing, -1, column.fillna(False).to_numpy(dtype=np.int64))
        return codes.astype(np.int64), (False, True)
    try:
        codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=True)
    except TypeError:
        # Values of mixed types (str and int in one object column) cannot be sorted
        # together; their text forms can.
        as_text = column.map(lambda value: value if pd.isna(value) else str(value))
        codes, uniques = pd.factorize(as_text, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), tuple(uniques)


def _numeric_values(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        nanoseconds = column.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        values = nanoseconds / 1e9
        values[column.isna().to_numpy()] = np.nan
        return values
    if pd.api.types.is_timedelta64_dtype(column.dtype):
        return column.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def infer_task_type(target: pd.Series, metric: str | None = None) -> TaskType:
    """Guess the task from the target: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    See :func:`explain_task_type` for the rules and the reason behind a guess.
    """
    return explain_task_type(target, metric)[0]


def explain_task_type(target: pd.Series, metric: str | None = None) -> tuple[TaskType, str]:
    """The task the target implies and, in words, why (printed by the CLI).

    * Text, categories and booleans are class labels; so are numbers with two values.
    * A classification metric (``balanced_accuracy``...) makes the target class labels, a
      regression metric (``rmse``...) a quantity: the user said what they measure.
    * Whole numbers are class codes when there are at most ten distinct values (digit
      labels), or, like AutoGluon's rule, when they take few distinct values relative to the
      rows (at most 5 % of them, 10 % under 1,000 rows, and at most 100 values) *and* fill a
      range without gaps (codes 0..10); counts (visits, rings) leave gaps in their tail and
      stay quantities.
    * Anything else numeric is a quantity to regress.

    Pass ``task_type`` (``--task``) where the guess is wrong.
    """
    series = target if isinstance(target, pd.Series) else pd.Series(target)
    known = series.dropna()
    if _is_nominal_dtype(series.dtype):
        if isinstance(series.dtype, pd.CategoricalDtype):
            n_distinct = int(known.nunique())
        else:
            n_distinct = int(known.astype(str).nunique()) if len(known) else 0
        kind: TaskType = "binary" if n_distinct <= 2 else "multiclass"
        return kind, f"its values are labels ({n_distinct} distinct)"
    values = _numeric_values(known)
    values = values[np.isfinite(values)]
    distinct = np.unique(values)
    n_distinct = len(distinct)
    if metric is not None:
        from mile_meta.metrics import resolve_metric

        resolved = resolve_metric(metric)
        if "regression" in resolved.task_types:
            return "regression", f"{resolved.name} is a regression metric"
        kind = "binary" if n_distinct <= 2 else "multiclass"
        return kind, f"{resolved.name} is a classification metric ({n_distinct} distinct values)"
    if n_distinct <= 2:
        if not len(values):
            return "regression", "it holds no finite values"
        return "binary", f"it takes {n_distinct} distinct values"
    whole_numbers = bool(np.all(values == np.round(values)))
    if whole_numbers and n_distinct <= _MAX_DISTINCT_WHOLE_NUMBERS_FOR_CLASSES:
        return "multiclass", f"it holds {n_distinct} distinct whole numbers (class codes)"
    if whole_numbers and n_distinct <= _MAX_CODED_CLASSES:
        share = n_distinct / len(values)
        limit = _CODED_SHARE_SMALL if len(values) < 1000 else _CODED_SHARE
        gapless = distinct[-1] - distinct[0] + 1 == n_distinct
        if share <= limit and gapless:
            return "multiclass", (
                f"it holds {n_distinct} consecutive whole numbers over {len(values):,} rows "
                "(class codes)"
            )
        if share <= limit:
            return "regression", (
                f"its {n_distinct} whole numbers leave gaps between {distinct[0]:g} and "
                f"{distinct[-1]:g} (a count)"
            )
        return "regression", f"it holds {n_distinct:,} distinct numbers over {len(values):,} rows"
    return "regression", f"it holds {n_distinct:,} distinct numbers"


def _validated_task_type(task_type: str | None, target: pd.Series) -> TaskType:
    if task_type is None:
        return infer_task_type(target)
    if task_type not in TASK_TYPES:
        raise DataError(f"task_type must be one of {', '.join(TASK_TYPES)}; got {task_type!r}")
    return cast(TaskType, task_type)


def prepare_table(frame: pd.DataFrame, target: pd.Series, task_type: str | None) -> PreparedTable:
    """Split ``frame`` into numeric and nominal blocks and encode ``target`` for ``task_type``.

    Rows are matched by position, not by index label: the caller hands over a frame and the
    target column cut from it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    target = target if isinstance(target, pd.Series) else pd.Series(target)
    if len(frame) != len(target):
        raise DataError(
            f"frame has {len(frame)} rows but target has {len(target)}; pass the target "
            "column cut from the same frame"
        )
    resolved_task = _validated_task_type(task_type, target)
    n_rows = len(frame)

    nominal_columns: list[np.ndarray] = []
    declared_counts: list[int] = []
    is_numeric: list[bool] = []
    dtypes = list(frame.dtypes)
    numeric_positions = [i for i, dtype in enumerate(dtypes) if not _is_nominal_dtype(dtype)]
    plain_numeric = [
        i
        for i in numeric_positions
        if pd.api.types.is_numeric_dtype(dtypes[i]) and not pd.api.types.is_bool_dtype(dtypes[i])
    ]
    for position, dtype in enumerate(dtypes):
        if _is_nominal_dtype(dtype):
            codes, declared = _nominal_codes(frame.iloc[:, position])
            nominal_columns.append(codes)
            declared_counts.append(len(declared))
            is_numeric.append(False)
        else:
            is_numeric.append(True)

    if len(plain_numeric) == len(numeric_positions):
        # The common case: one block conversion, no per-column Python work.
        numeric = (
            frame.iloc[:, plain_numeric].to_numpy(dtype=np.float64, na_value=np.nan)
            if plain_numeric
            else np.empty((n_rows, 0))
        )
    else:
        numeric = np.column_stack(
            [_numeric_values(frame.iloc[:, i]) for i in numeric_positions]
        ).reshape(n_rows, len(numeric_positions))
    # Column-major: the moments and the landmarkers read the matrix column by column.
    numeric = np.asfortranarray(numeric, dtype=np.float64)
    # Infinite values are not numbers OpenML could store in an ARFF file: read them as missing.
    infinite = np.isinf(numeric)
    if infinite.any():
        numeric = np.where(infinite, np.nan, numeric)  # a copy: never write into the frame
    nominal = (
        np.column_stack(nominal_columns).astype(np.int64)
        if nominal_columns
        else np.empty((n_rows, 0), dtype=np.int64)
    )

    target_codes: np.ndarray | None = None
    target_values: np.ndarray | None = None
    class_labels: tuple[Any, ...] = ()
    if resolved_task == "regression":
        if _is_nominal_dtype(target.dtype):
            raise DataError(
                f"task_type='regression' needs a numeric target; {target.name!r} has dtype "
                f"{target.dtype}"
            )
        target_values = np.array(_numeric_values(target), dtype=np.float64)  # own, writable
        target_values[~np.isfinite(target_values)] = np.nan
    else:
        target_codes, class_labels = _nominal_codes(target)
        n_observed = len(np.unique(target_codes[target_codes >= 0]))
        if resolved_task == "binary" and n_observed > 2:
            raise DataError(
                f"task_type='binary' but the target has {n_observed} classes; "
                "use task_type='multiclass'"
            )

    return PreparedTable(
        task_type=resolved_task,
        n_rows=n_rows,
        numeric=numeric,
        nominal_codes=nominal,
        nominal_declared_counts=np.asarray(declared_counts, dtype=np.int64),
        feature_is_numeric=tuple(is_numeric),
        target_codes=target_codes,
        class_labels=class_labels,
        target_values=target_values,
    )
