"""Meta-feature space shared by the meta-learners: scaling and distances with missing values.

Qualities are counts, ratios and entropies spanning orders of magnitude, so each is mapped
through a signed ``log1p`` and standardized; the distance between two datasets is the mean
absolute difference over the qualities both have (auto-sklearn 1.0 uses an L1 distance on
scaled meta-features). Averaging instead of summing keeps datasets known by two qualities
(Oboe's) comparable with datasets known by sixty (LCDB's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mile_meta.metalearners._view import apply_quality_stand_ins

__all__ = ["MIN_FEATURE_COVERAGE", "MetaFeatureSpace"]

# A quality known for fewer training datasets than this is left out of distances and models:
# it would compare the new dataset with a few datasets only.
MIN_FEATURE_COVERAGE = 0.5


@dataclass(frozen=True)
class MetaFeatureSpace:
    """The chosen qualities with the centre and scale of their ``log1p`` values."""

    names: tuple[str, ...]
    centres: np.ndarray
    scales: np.ndarray

    @classmethod
    def fit(
        cls, meta_features: pd.DataFrame, min_coverage: float = MIN_FEATURE_COVERAGE
    ) -> MetaFeatureSpace:
        if meta_features.shape[1] == 0 or meta_features.shape[0] == 0:
            return cls((), np.zeros(0), np.ones(0))
        values = meta_features.to_numpy(dtype=float)
        coverage = np.isfinite(values).mean(axis=0)
        keep = coverage >= min_coverage
        names = tuple(
            str(name) for name, kept in zip(meta_features.columns, keep, strict=True) if kept
        )
        logged = _signed_log(values[:, keep])
        with np.errstate(all="ignore"):
            centres = np.nanmedian(logged, axis=0) if logged.size else np.zeros(0)
            scales = np.nanstd(logged, axis=0) if logged.size else np.ones(0)
        scales = np.where(np.isfinite(scales) & (scales > 1e-9), scales, 1.0)
        centres = np.where(np.isfinite(centres), centres, 0.0)
        return cls(names, centres, scales)

    def transform_frame(self, meta_features: pd.DataFrame) -> np.ndarray:
        """Scaled values, one row per dataset (NaN where unknown)."""
        values = meta_features.reindex(columns=list(self.names)).to_numpy(dtype=float)
        return (_signed_log(values) - self.centres) / self.scales

    def transform_mapping(self, meta_features: Mapping[str, float | None]) -> np.ndarray:
        """Scaled values of one dataset given as ``{quality name: value}`` (unknown names ignored)."""
        clean: dict[str, float] = {}
        for name, value in dict(meta_features).items():
            try:
                number = float(value) if value is not None else float("nan")
            except (TypeError, ValueError):
                number = float("nan")
            if np.isfinite(number):
                clean[str(name)] = number
        clean = apply_quality_stand_ins(clean)
        values = np.array([clean.get(name, np.nan) for name in self.names], dtype=float)
        return (_signed_log(values) - self.centres) / self.scales

    def distances(self, query: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Mean absolute difference between ``query`` and each row of ``table`` (NaN: nothing shared)."""
        if table.shape[1] == 0:
            return np.full(table.shape[0], np.nan)
        shared = np.isfinite(table) & np.isfinite(query)[None, :]
        difference = np.where(shared, np.abs(table - np.nan_to_num(query)[None, :]), 0.0)
        counts = shared.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, difference.sum(axis=1) / counts, np.nan)


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def similarity_weights(distances: np.ndarray, bandwidth: float | None) -> np.ndarray:
    """Gaussian kernel on distances; datasets that share no quality get the smallest weight.

    ``bandwidth=None`` gives every dataset the same weight.
    """
    n = distances.shape[0]
    if bandwidth is None or n == 0 or not np.isfinite(distances).any():
        return np.full(n, 1.0 / max(n, 1))
    filled = np.where(np.isfinite(distances), distances, np.nanmax(distances) + bandwidth)
    log_weights = -0.5 * (filled / bandwidth) ** 2
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()
