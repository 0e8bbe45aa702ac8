"""``compute_metafeatures``: every quality for one dataset, in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mile_meta.metafeatures._information import information_qualities
from mile_meta.metafeatures._landmarkers import landmarker_qualities
from mile_meta.metafeatures._result import MetaFeatures
from mile_meta.metafeatures._simple import simple_qualities
from mile_meta.metafeatures._statistical import numeric_statistics
from mile_meta.metafeatures._table import prepare_table

__all__ = ["compute_metafeatures"]


def compute_metafeatures(
    frame: pd.DataFrame,
    target: pd.Series,
    *,
    task_type: str | None = None,
    landmarkers: bool = True,
    time_budget_seconds: float = 5.0,
    random_state: int = 0,
) -> MetaFeatures:
    """OpenML's data qualities of ``frame`` (features only) with ``target``, by OpenML's names.

    ``task_type`` is ``"binary"``, ``"multiclass"`` or ``"regression"``; None infers it with
    :func:`infer_task_type`. Rows of ``frame`` and ``target`` are matched by position, and the
    row order matters for ``AutoCorrelation`` (it is the order of the file on OpenML).

    With ``landmarkers`` the cheap OpenML landmarkers (decision stump, naive Bayes, 1-NN:
    ``<name>AUC``, ``<name>ErrRate``, ``<name>Kappa``) are estimated with OpenML's 2-fold
    cross-validation for classification targets, as long as they fit in
    ``time_budget_seconds``; those that would not fit are absent and listed in
    ``skipped_landmarkers``. The folds are OpenML's own (Weka's shuffle seeded with 1), so
    ``random_state`` only matters if a future landmarker needs randomness of its own.

    Raises :class:`~mile_meta.errors.DataError` when the frame and the target disagree in
    length, the task type is unknown, or the target does not fit the task type; any quality
    that cannot be computed from the data is simply absent.
    """
    table = prepare_table(frame, target, task_type)
    qualities: dict[str, float | None] = {}
    qualities.update(simple_qualities(table))

    numeric = table.numeric
    if table.target_values is not None:
        # OpenML's Statistical characterizer loops over every attribute, the class included.
        numeric = np.column_stack([numeric, table.target_values])
    qualities.update(numeric_statistics(numeric))
    qualities.update(
        information_qualities(
            table.nominal_codes,
            table.nominal_declared_counts,
            table.target_codes,
            len(table.class_labels),
        )
    )
    skipped: tuple[str, ...] = ()
    if landmarkers and table.is_classification:
        landmarks = landmarker_qualities(
            table, time_budget_seconds=time_budget_seconds, random_state=random_state
        )
        qualities.update(landmarks.values)
        skipped = landmarks.skipped
    return MetaFeatures.from_mapping(table.task_type, qualities, skipped_landmarkers=skipped)
