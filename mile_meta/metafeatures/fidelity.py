"""Check computed qualities against the values OpenML published.

Used by ``scripts/check_metafeature_fidelity.py`` and the fidelity test: read an OpenML ARFF
file the way OpenML reads it (nominal attributes keep their declared values), read a
``qualities.xml`` answer of the OpenML API, and compare quality by quality.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from mile_meta.errors import DataError
from mile_meta.metafeatures._compute import compute_metafeatures

__all__ = [
    "LEGACY_ANNEAL_DIFFERENCES",
    "RELATIVE_TOLERANCE",
    "FidelityReport",
    "QualityComparison",
    "ReferenceCase",
    "anneal_cases",
    "check_case",
    "compare_qualities",
    "load_arff",
    "matches",
    "read_openml_qualities",
    "report_for",
]

RELATIVE_TOLERANCE = 0.01

_QUALITY_PATTERN = re.compile(
    r"<oml:name>\s*(?P<name>[^<]+?)\s*</oml:name>\s*<oml:value>\s*(?P<value>[^<]*?)\s*</oml:value>",
    re.DOTALL,
)


def matches(ours: float, theirs: float, relative_tolerance: float = RELATIVE_TOLERANCE) -> bool:
    """Within ``relative_tolerance`` of OpenML's value (relative to OpenML's), or both zero."""
    if ours == 0 and theirs == 0:
        return True
    return abs(ours - theirs) <= relative_tolerance * max(abs(theirs), 1e-12)


def read_openml_qualities(path: Path | str) -> dict[str, float]:
    """``{quality name: value}`` from an OpenML ``data/qualities`` XML answer.

    Qualities without a numeric value (OpenML stores "could not compute" as an empty value)
    are left out.
    """
    text = Path(path).read_text(encoding="utf-8")
    qualities: dict[str, float] = {}
    for match in _QUALITY_PATTERN.finditer(text):
        try:
            value = float(match["value"])
        except ValueError:
            continue
        if math.isfinite(value):
            qualities[match["name"]] = value
    return qualities


def load_arff(path: Path | str, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target of an ARFF file, nominal attributes as categories in declared order.

    Keeping the declared values matters: OpenML counts an attribute declared with two values
    as binary even if one never occurs, and files missing values under the first declared one
    when computing entropies.
    """
    try:
        import arff  # liac-arff, installed with openml
    except ImportError as error:  # pragma: no cover - openml is a core dependency
        raise DataError("reading ARFF files needs liac-arff: pip install liac-arff") from error
    with Path(path).open(encoding="utf-8") as handle:
        decoded = arff.load(handle)
    columns: dict[str, pd.Series] = {}
    for index, (name, kind) in enumerate(decoded["attributes"]):
        raw = [row[index] for row in decoded["data"]]
        if isinstance(kind, list):
            columns[name] = pd.Series(pd.Categorical(raw, categories=kind), name=name)
        elif isinstance(kind, str) and kind.upper() in {"REAL", "NUMERIC", "INTEGER"}:
            columns[name] = pd.Series(raw, dtype="float64", name=name)
        else:
            columns[name] = pd.Series(raw, dtype="object", name=name)
    frame = pd.DataFrame(columns)
    if target not in frame.columns:
        raise DataError(f"{path} has no attribute {target!r}")
    return frame.drop(columns=[target]), frame[target]


@dataclass(frozen=True)
class QualityComparison:
    """One quality computed by us and published by OpenML."""

    name: str
    ours: float
    openml: float

    @property
    def matched(self) -> bool:
        return matches(self.ours, self.openml)

    @property
    def relative_difference(self) -> float:
        if self.ours == 0 and self.openml == 0:
            return 0.0
        return abs(self.ours - self.openml) / max(abs(self.openml), 1e-12)


def compare_qualities(
    ours: Mapping[str, float], openml: Mapping[str, float]
) -> tuple[QualityComparison, ...]:
    """Comparisons for the qualities present on both sides, sorted by name."""
    return tuple(
        QualityComparison(name, float(ours[name]), float(openml[name]))
        for name in sorted(set(ours) & set(openml))
    )


@dataclass(frozen=True)
class FidelityReport:
    """Our qualities next to OpenML's for one dataset.

    ``comparisons`` covers the qualities both sides have; ``openml_only`` names those OpenML
    published and we do not compute (other landmarkers), ``ours_only`` the reverse.
    """

    label: str
    comparisons: tuple[QualityComparison, ...]
    openml_only: tuple[str, ...]
    ours_only: tuple[str, ...]

    @property
    def matched(self) -> int:
        return sum(comparison.matched for comparison in self.comparisons)

    @property
    def compared(self) -> int:
        return len(self.comparisons)

    @property
    def share_matched(self) -> float:
        return self.matched / self.compared if self.compared else 0.0

    @property
    def misses(self) -> tuple[QualityComparison, ...]:
        return tuple(comparison for comparison in self.comparisons if not comparison.matched)


@dataclass(frozen=True)
class ReferenceCase:
    """A dataset file, its target, OpenML's published qualities and the known differences."""

    label: str
    arff_path: Path
    target: str
    qualities_path: Path
    explained_differences: tuple[tuple[str, str], ...] = ()  # (quality, why OpenML differs)

    @property
    def reasons(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.explained_differences))


# Why OpenML's legacy evaluation engine (the qualities the test server still serves for
# dataset 2) disagrees with the current engine, whose definitions we follow.
LEGACY_ANNEAL_DIFFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "ClassEntropy": "legacy engine stored -1 ('not computed')",
        "MeanAttributeEntropy": "legacy engine stored -1 ('not computed')",
        "EquivalentNumberOfAtts": "legacy value is ClassEntropy (-1) / MeanMutualInformation",
        "MaxNominalAttDistinctValues": "legacy counted declared values (family declares 9)",
        "MeanNominalAttDistinctValues": "legacy: declared values of the 32 nominal features",
        "MinNominalAttDistinctValues": "legacy counted declared values, target excluded",
        "StdvNominalAttDistinctValues": "legacy counted declared values, target excluded",
        "NumberOfClasses": "legacy counted declared classes (class 4 never occurs)",
        "MinorityClassSize": "legacy counted the declared, empty class 4",
        "NumberOfSymbolicFeatures": "legacy did not count the nominal target",
        "PercentageOfMissingValues": "legacy stored a fraction (0.633), not a percentage",
    }
)


def anneal_cases(shared: Path) -> tuple[ReferenceCase, ReferenceCase]:
    """The two anneal references in the shared OpenML responses.

    OpenML's test server holds anneal twice with byte-identical ARFF files (same md5):
    dataset 1, characterised by the current evaluation engine, and dataset 2, whose
    qualities come from the legacy engine. The current engine is the one production
    OpenML (and LCDB's table) reflects, so it is the primary reference.
    """
    datasets = shared / "openml-responses" / "org" / "openml" / "test" / "datasets"
    arff_path = datasets / "2" / "dataset.arff"
    return (
        ReferenceCase(
            label="anneal (current OpenML engine)",
            arff_path=arff_path,
            target="class",
            qualities_path=datasets / "1" / "qualities.xml",
        ),
        ReferenceCase(
            label="anneal (legacy OpenML engine)",
            arff_path=arff_path,
            target="class",
            qualities_path=datasets / "2" / "qualities.xml",
            explained_differences=tuple(sorted(LEGACY_ANNEAL_DIFFERENCES.items())),
        ),
    )


def check_case(
    case: ReferenceCase, *, landmarkers: bool = True, time_budget_seconds: float = 60.0
) -> FidelityReport:
    """Compute the qualities of ``case``'s file and compare them with OpenML's."""
    frame, target = load_arff(case.arff_path, case.target)
    ours = compute_metafeatures(
        frame, target, landmarkers=landmarkers, time_budget_seconds=time_budget_seconds
    ).values
    return report_for(case.label, ours, read_openml_qualities(case.qualities_path))


def report_for(
    label: str, ours: Mapping[str, float], openml: Mapping[str, float]
) -> FidelityReport:
    """Compare two quality mappings under ``label``."""
    return FidelityReport(
        label=label,
        comparisons=compare_qualities(ours, openml),
        openml_only=tuple(sorted(set(openml) - set(ours))),
        ours_only=tuple(sorted(set(ours) - set(openml))),
    )
