"""Entropies and mutual information: OpenML's ``AttributeEntropy`` characterizer.

All entropies are in bits and computed on the nominal attributes only (numeric attributes
are not discretised). Two conventions come from OpenML's Java code and are kept because the
knowledge base holds values computed that way:

* A missing nominal value is counted as the attribute's *first declared value* (the Java
  code indexes its count array with ``(int) NaN``, which is 0), and the probabilities are
  taken over all rows. This is what reproduces OpenML's ``MeanAttributeEntropy`` of anneal
  (0.2515; excluding missing values would give 0.347).
* Mutual information is rounded to 14 decimals, so an attribute independent of the class
  scores exactly 0.
"""

from __future__ import annotations

import numpy as np

from mile_meta.metafeatures._statistical import summarize

__all__ = ["class_entropy", "information_qualities"]

_LOG_2 = np.log(2.0)


def _entropy_bits(counts: np.ndarray, total: float) -> float:
    probabilities = counts[counts > 0] / total
    return float(-(probabilities * (np.log(probabilities) / _LOG_2)).sum())


def class_entropy(class_codes: np.ndarray, n_declared_classes: int) -> float | None:
    """Entropy (bits) of the known class labels; None without any."""
    known = class_codes[class_codes >= 0]
    if known.size == 0:
        return None
    return _entropy_bits(np.bincount(known, minlength=n_declared_classes), known.size)


def _segment_starts(declared_counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(declared_counts)[:-1]]).astype(np.int64)


def _attribute_entropies(codes: np.ndarray, declared_counts: np.ndarray) -> np.ndarray:
    """Entropy (bits) of every nominal column, missing values counted as the first value."""
    n_rows = codes.shape[0]
    starts = _segment_starts(declared_counts)
    flat = (np.maximum(codes, 0) + starts).ravel()
    counts = np.bincount(flat, minlength=int(declared_counts.sum())).astype(np.float64)
    probabilities = counts / n_rows
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probabilities > 0, probabilities * np.log(probabilities) / _LOG_2, 0.0)
    # -0.0 for a constant column, as OpenML reports it (MinAttributeEntropy of anneal: -0.0).
    return -np.add.reduceat(terms, starts)


def _mutual_informations(
    codes: np.ndarray, declared_counts: np.ndarray, class_codes: np.ndarray, n_classes: int
) -> np.ndarray:
    """Information gain (bits) of the class from each nominal column, rows with a known class."""
    known_class = class_codes >= 0
    codes = np.maximum(codes[known_class], 0)
    classes = class_codes[known_class]
    n_rows = classes.size
    starts = _segment_starts(declared_counts)
    n_values = int(declared_counts.sum())
    joint_index = ((codes + starts) * n_classes + classes[:, None]).ravel()
    joint = np.bincount(joint_index, minlength=n_values * n_classes).astype(np.float64)
    joint = joint.reshape(n_values, n_classes)
    value_counts = joint.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Entropy of the class among the rows holding one value, as the Java code computes
        # it: log2(n_v) - sum(n_vc * log2(n_vc)) / n_v.
        cell_terms = np.where(joint > 0, joint * np.log(joint) / _LOG_2, 0.0).sum(axis=1)
        value_entropy = np.where(
            value_counts > 0, np.log(value_counts) / _LOG_2 - cell_terms / value_counts, 0.0
        )
    conditional = np.add.reduceat(value_counts / n_rows * value_entropy, starts)
    overall = _entropy_bits(np.bincount(classes, minlength=n_classes), n_rows)
    gains = overall - conditional
    # Java's Math.round(x * 1e14) / 1e14: rounds half up.
    return np.floor(gains * 1e14 + 0.5) / 1e14


def information_qualities(
    codes: np.ndarray,
    declared_counts: np.ndarray,
    class_codes: np.ndarray | None,
    n_declared_classes: int,
) -> dict[str, float]:
    """ClassEntropy, the attribute entropy and mutual information summaries and the two ratios.

    Classification only (OpenML leaves them all empty for a numeric target); the summaries need
    at least one nominal feature and the ratios a positive mean mutual information.
    """
    if class_codes is None:
        return {}
    qualities: dict[str, float] = {}
    entropy_of_class = class_entropy(class_codes, n_declared_classes)
    if entropy_of_class is None:
        return qualities
    qualities["ClassEntropy"] = entropy_of_class
    if codes.shape[1] == 0 or codes.shape[0] == 0:
        return qualities
    # A category dtype without categories declares nothing; give it one slot so a missing
    # value has somewhere to go (Java would fail on such an attribute).
    declared_counts = np.maximum(declared_counts, 1)
    entropies = _attribute_entropies(codes, declared_counts)
    mutual_information = _mutual_informations(
        codes, declared_counts, class_codes, max(n_declared_classes, 1)
    )
    qualities.update(summarize(entropies, "AttributeEntropy"))
    qualities.update(summarize(mutual_information, "MutualInformation"))
    mean_attribute_entropy = float(entropies.mean())
    mean_mutual_information = float(mutual_information.mean())
    if mean_mutual_information > 0:
        qualities["EquivalentNumberOfAtts"] = entropy_of_class / mean_mutual_information
        qualities["MeanNoiseToSignalRatio"] = (
            mean_attribute_entropy - mean_mutual_information
        ) / mean_mutual_information
    return qualities
