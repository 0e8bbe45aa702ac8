"""Counts, missing values, class balance and nominal cardinalities.

OpenML's ``SimpleMetaFeatures`` and ``NominalAttDistinctValues`` characterizers run on the
whole ARFF file, so the target is one of the attributes: ``NumberOfFeatures`` counts it, a
nominal target is a symbolic (and maybe binary) feature, a numeric one a numeric feature, and
its missing values count. Percentages are in percent (0-100), as OpenML stores them.
"""

from __future__ import annotations

import numpy as np

from mile_meta.metafeatures._table import PreparedTable

__all__ = ["simple_qualities"]


def _percent(part: float, whole: float) -> float | None:
    return part / whole * 100.0 if whole > 0 else None


def _missing_value_qualities(table: PreparedTable, n_attributes: int) -> dict[str, float | None]:
    n_rows = table.n_rows
    row_has_missing = np.zeros(n_rows, dtype=bool)
    n_missing = 0
    if table.numeric.size:
        numeric_missing = np.isnan(table.numeric)
        n_missing += int(numeric_missing.sum())
        row_has_missing |= numeric_missing.any(axis=1)
    if table.nominal_codes.size:
        nominal_missing = table.nominal_codes < 0
        n_missing += int(nominal_missing.sum())
        row_has_missing |= nominal_missing.any(axis=1)
    if table.target_codes is not None:
        target_missing = table.target_codes < 0
    else:
        assert table.target_values is not None
        target_missing = np.isnan(table.target_values)
    n_missing += int(target_missing.sum())
    row_has_missing |= target_missing
    n_rows_with_missing = int(row_has_missing.sum())
    return {
        "NumberOfMissingValues": n_missing,
        "NumberOfInstancesWithMissingValues": n_rows_with_missing,
        "PercentageOfMissingValues": _percent(n_missing, n_attributes * n_rows),
        "PercentageOfInstancesWithMissingValues": _percent(n_rows_with_missing, n_rows),
    }


def _feature_type_qualities(table: PreparedTable, n_attributes: int) -> dict[str, float | None]:
    n_numeric = int(sum(table.feature_is_numeric))
    n_nominal = table.n_features - n_numeric
    # Binary means *declared* with exactly two values (Weka's numValues() == 2).
    n_binary = int((table.nominal_declared_counts == 2).sum())
    if table.is_classification:
        n_nominal += 1
        n_binary += int(len(table.class_labels) == 2)
    else:
        n_numeric += 1
    return {
        "NumberOfNumericFeatures": n_numeric,
        "NumberOfSymbolicFeatures": n_nominal,
        "NumberOfBinaryFeatures": n_binary,
        "PercentageOfNumericFeatures": _percent(n_numeric, n_attributes),
        "PercentageOfSymbolicFeatures": _percent(n_nominal, n_attributes),
        "PercentageOfBinaryFeatures": _percent(n_binary, n_attributes),
        # LCDB's count of model inputs after one-hot encoding: one column per numeric
        # feature and per declared value of a nominal one (the target is not an input).
        "NumberOfFeaturesAfterBinarization": int(sum(table.feature_is_numeric))
        + int(table.nominal_declared_counts.sum()),
    }


def _class_qualities(table: PreparedTable) -> dict[str, float | None]:
    n_rows = table.n_rows
    if table.target_codes is None:
        # OpenML reports 0 classes for a numeric target and leaves the class sizes empty.
        return {"NumberOfClasses": 0}
    known = table.target_codes[table.target_codes >= 0]
    counts = np.bincount(known, minlength=len(table.class_labels))
    observed = counts[counts > 0]
    if observed.size == 0:
        return {"NumberOfClasses": 0}
    majority, minority = int(observed.max()), int(observed.min())
    return {
        "NumberOfClasses": int(observed.size),
        "MajorityClassSize": majority,
        "MinorityClassSize": minority,
        "MajorityClassPercentage": _percent(majority, n_rows),
        "MinorityClassPercentage": _percent(minority, n_rows),
        # The accuracy of always predicting the majority class (an older OpenML quality).
        "DefaultAccuracy": majority / n_rows,
    }


def _autocorrelation(table: PreparedTable) -> float | None:
    """Share of consecutive rows (file order) whose class does not change.

    For a numeric target OpenML adds up ``previous - current``, which telescopes to
    ``first - last``: the quality is ``1 - (first - last) / (n - 1)``. That is not a
    correlation, but it is what the knowledge base holds for regression datasets, so it is
    reproduced rather than "fixed".
    """
    n_rows = table.n_rows
    if n_rows < 2:
        return None
    if table.target_codes is not None:
        codes = table.target_codes
        # A missing class never equals its neighbour (NaN != NaN in the Java comparison).
        unchanged = (codes[1:] == codes[:-1]) & (codes[1:] >= 0)
        changes = (n_rows - 1) - int(unchanged.sum())
        return (n_rows - 1 - changes) / (n_rows - 1)
    values = table.target_values
    assert values is not None
    drift = float(values[0] - values[-1])
    if np.isnan(values).any():
        return None
    return (n_rows - 1 - drift) / (n_rows - 1)


def _distinct_value_qualities(table: PreparedTable) -> dict[str, float | None]:
    """Observed (not declared) distinct values per nominal attribute, the nominal target included."""
    codes = table.nominal_codes
    distinct_counts: list[int] = []
    if codes.size:
        ordered = np.sort(codes, axis=0)
        is_new = np.ones_like(ordered, dtype=bool)
        is_new[1:] = ordered[1:] != ordered[:-1]
        distinct_counts.extend((is_new & (ordered >= 0)).sum(axis=0).tolist())
    elif codes.shape[1]:
        distinct_counts.extend([0] * codes.shape[1])
    if table.target_codes is not None:
        distinct_counts.append(len(np.unique(table.target_codes[table.target_codes >= 0])))
    if not distinct_counts:
        return {}
    counts = np.asarray(distinct_counts, dtype=np.float64)
    return {
        "MaxNominalAttDistinctValues": float(counts.max()),
        "MinNominalAttDistinctValues": float(counts.min()),
        "MeanNominalAttDistinctValues": float(counts.mean()),
        "StdvNominalAttDistinctValues": float(counts.std(ddof=1)) if counts.size > 1 else 0.0,
    }


def simple_qualities(table: PreparedTable) -> dict[str, float | None]:
    """The counting qualities; ``None`` marks one OpenML would leave empty for this table."""
    n_attributes = table.n_features + 1  # OpenML counts the target as an attribute
    qualities: dict[str, float | None] = {
        "NumberOfInstances": table.n_rows,
        "NumberOfFeatures": n_attributes,
        "Dimensionality": n_attributes / table.n_rows if table.n_rows > 0 else 0.0,
        "AutoCorrelation": _autocorrelation(table),
    }
    qualities.update(_missing_value_qualities(table, n_attributes))
    qualities.update(_feature_type_qualities(table, n_attributes))
    qualities.update(_class_qualities(table))
    qualities.update(_distinct_value_qualities(table))
    return qualities
