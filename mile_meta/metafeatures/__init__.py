"""OpenML-compatible data qualities ("meta-features") of a new dataset.

>>> from mile_meta.metafeatures import compute_metafeatures
>>> meta = compute_metafeatures(frame.drop(columns="class"), frame["class"])  # doctest: +SKIP
>>> meta.values["ClassEntropy"]  # doctest: +SKIP

Quality names and definitions follow OpenML's evaluation engine, so a new dataset can be
placed among the knowledge base's OpenML datasets; docs/metafeatures.md lists every quality,
the OpenML conventions we follow and how closely we reproduce OpenML's published values.
"""

from __future__ import annotations

from mile_meta.metafeatures._compute import compute_metafeatures
from mile_meta.metafeatures._landmarkers import LANDMARKER_NAMES
from mile_meta.metafeatures._result import MetaFeatures
from mile_meta.metafeatures._table import infer_task_type

__all__ = ["LANDMARKER_NAMES", "MetaFeatures", "compute_metafeatures", "infer_task_type"]
