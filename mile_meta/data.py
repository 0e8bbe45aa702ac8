"""Reading the user's dataset: CSV or Parquet, a target by name, the task type inferred."""

from __future__ import annotations

import difflib
import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mile_meta.errors import DataError

__all__ = ["Dataset", "as_dataset", "dataset_from_frame", "load_dataset"]

_TASK_TYPES = ("binary", "multiclass", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features, target and task of one tabular dataset.

    ``fingerprint`` identifies the content (column names and values), so the same data
    read twice gets the same knowledge-base id (``local:<fingerprint>``).
    """

    name: str
    frame: pd.DataFrame
    target: pd.Series
    task_type: str
    path: Path | None = None
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            digest = hashlib.sha256()
            digest.update("|".join(map(str, self.frame.columns)).encode())
            digest.update(pd.util.hash_pandas_object(self.frame, index=False).to_numpy().tobytes())
            digest.update(pd.util.hash_pandas_object(self.target, index=False).to_numpy().tobytes())
            object.__setattr__(self, "fingerprint", digest.hexdigest()[:16])

    @property
    def dataset_id(self) -> str:
        return f"local:{self.fingerprint}"

    @property
    def n_classes(self) -> int | None:
        return None if self.task_type == "regression" else int(self.target.nunique())


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path} does not exist; pass the path of a CSV or Parquet file")
    if path.is_dir():
        raise DataError(f"{path} is a folder; pass the path of a CSV or Parquet file")
    suffixes = "".join(path.suffixes).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if suffixes.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            separator = "\t" if ".tsv" in suffixes else None
            return pd.read_csv(path, sep=separator, engine="python" if separator is None else "c")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(
            f"cannot read {path} ({first_line}); check that it is a valid CSV or Parquet file"
        ) from error
    raise DataError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")


def load_dataset(
    path: str | Path,
    target: str,
    *,
    task_type: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a CSV/Parquet file and split off the target column."""
    resolved = Path(path).expanduser()
    frame = _read_table(resolved)
    return dataset_from_frame(
        frame, target, task_type=task_type, name=name or resolved.stem, path=resolved
    )


def as_dataset(
    data: Dataset | str | Path | pd.DataFrame,
    target: str | None,
    task_type: str | None = None,
) -> Dataset:
    """A :class:`Dataset` from what the public functions accept: a file, a frame with the
    name of its ``target`` column, or a :class:`Dataset` (returned as is)."""
    if isinstance(data, Dataset):
        return data
    if target is None:
        raise DataError("pass the target column name (target=...) with a file or a frame")
    if isinstance(data, pd.DataFrame):
        return dataset_from_frame(data, target, task_type=task_type)
    return load_dataset(data, target, task_type=task_type)


def dataset_from_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    task_type: str | None = None,
    name: str = "dataset",
    path: Path | None = None,
) -> Dataset:
    """Validate a frame holding features and the target column ``target``."""
    from mile_meta.metafeatures import infer_task_type

    if target not in frame.columns:
        close = difflib.get_close_matches(target, [str(c) for c in frame.columns], n=3)
        hint = (
            f"did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else (
                f"columns are {', '.join(map(repr, list(frame.columns)[:8]))}{'...' if frame.shape[1] > 8 else ''}"
            )
        )
        raise DataError(f"target column {target!r} not found; {hint}")
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no rows; pass a file with data rows")
    labels = frame[target]
    known = labels.notna()
    if not known.any():
        raise DataError(f"target column {target!r} is empty; pick a column with values")
    if not known.all():
        warnings.warn(
            f"{int((~known).sum())} of {len(frame)} rows have no {target!r} value and are left out",
            stacklevel=2,
        )
    features = frame.drop(columns=[target]).loc[known].reset_index(drop=True)
    labels = labels.loc[known].reset_index(drop=True)
    if features.shape[1] == 0:
        raise DataError(
            f"no feature columns besides the target {target!r}; add the columns to learn from"
        )
    if features.isna().all().all():
        raise DataError(
            "every feature column is empty; check the file's separator and missing-value markers"
        )
    if task_type is not None and task_type not in _TASK_TYPES:
        raise DataError(f"unknown task type {task_type!r}; use one of {', '.join(_TASK_TYPES)}")
    inferred = task_type or infer_task_type(labels)
    if inferred != "regression":
        n_classes = labels.nunique()
        if n_classes < 2:
            raise DataError(
                f"target {target!r} has a single class ({labels.iloc[0]!r}); a classifier needs at least two"
            )
        if task_type is None:
            inferred = "binary" if n_classes == 2 else "multiclass"
        elif task_type == "binary" and n_classes != 2:
            raise DataError(
                f"target {target!r} has {n_classes} classes, not 2; pass --task multiclass "
                "(task_type='multiclass') or leave the task type out"
            )
    else:
        labels = pd.to_numeric(labels, errors="coerce")
        if labels.isna().any():
            raise DataError(
                f"target {target!r} is not numeric, so it cannot be regressed; pass --task binary or multiclass"
            )
        if not np.isfinite(labels.to_numpy(dtype=float)).all():
            raise DataError(f"target {target!r} holds infinite values; replace or drop those rows")
    numeric = features.select_dtypes(include="number").columns
    if len(numeric) and np.isinf(features[numeric].to_numpy(dtype=float, na_value=np.nan)).any():
        # Imputers reject infinity; the meta-features already read it as missing.
        features = features.copy()
        features[numeric] = features[numeric].replace([np.inf, -np.inf], np.nan)
    # Columns named like pandas' index dumps carry no information about the rows.
    unnamed = [c for c in features.columns if str(c).startswith("Unnamed: ")]
    if unnamed and len(unnamed) < features.shape[1]:
        index_like = [
            c for c in unnamed if features[c].is_monotonic_increasing and features[c].is_unique
        ]
        features = features.drop(columns=index_like)
    return Dataset(name=name, frame=features, target=labels, task_type=inferred, path=path)
