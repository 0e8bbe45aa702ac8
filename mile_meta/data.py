"""Reading the user's dataset: CSV or Parquet, a target by name, the task type inferred."""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mile_meta.errors import DataError

__all__ = ["Dataset", "as_dataset", "dataset_from_frame", "load_dataset", "read_table"]

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
    #: why the task type is what it is ("inferred: ..." or "given with --task"), for display
    task_reason: str = field(default="", compare=False)

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


# A file under this many bytes cannot hold a header and a data row.
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
# One row cannot be split into training and test data (commands needing more, like
# cross-validation with k folds, say so themselves).
MIN_ROWS = 2


def read_table(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """The frame of a CSV or Parquet file (encoding and delimiter detected), or a one-line
    :class:`DataError` saying what is wrong with the file and how to fix it."""
    if not path.exists():
        raise DataError(
            f"{path} does not exist; pass the path of a CSV or Parquet file", usage=True
        )
    if path.is_dir():
        raise DataError(f"{path} is a folder; pass the path of a CSV or Parquet file", usage=True)
    suffixes = "".join(path.suffixes).lower()
    is_parquet = suffixes.endswith((".parquet", ".pq"))
    is_text = suffixes.endswith((".csv", ".csv.gz", ".txt", ".tsv"))
    if not (is_parquet or is_text):
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet", usage=True
        )
    try:
        if path.stat().st_size == 0:
            raise DataError(
                f"{path} is empty (0 bytes); pass a file with a header row and data rows"
            )
        if is_parquet:
            return pd.read_parquet(path)
        return _read_text_table(path, suffixes, encoding)
    except DataError:
        raise
    except UnicodeDecodeError as error:
        # a byte past the sample the encoding was detected on
        raise DataError(
            f"{path} is not valid {error.encoding} beyond its first lines; pass the file's "
            "encoding with --encoding, e.g. latin-1"
        ) from error
    except (OSError, ValueError, UnicodeError, csv.Error, pd.errors.ParserError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(
            f"cannot read {path} ({first_line}); check that it is a valid CSV or Parquet file"
        ) from error


def _read_text_table(path: Path, suffixes: str, encoding: str | None) -> pd.DataFrame:
    compression = "gzip" if suffixes.endswith(".gz") else None
    opener = gzip.open if compression else open
    with opener(path, "rb") as handle:
        sample = handle.read(_SNIFF_BYTES)
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"{path} holds binary data (NUL bytes), not text; pass a CSV (or a .parquet file "
            "named .parquet)"
        )
    encoding = encoding or _detect_encoding(path, sample)
    try:
        text = sample.decode(encoding, errors="strict" if len(sample) < _SNIFF_BYTES else "ignore")
    except LookupError as error:
        raise DataError(
            f"unknown encoding {encoding!r}; pass e.g. --encoding utf-8 or latin-1", usage=True
        ) from error
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path} is not valid {encoding} (byte {error.start}); pass the file's encoding "
            "with --encoding, e.g. latin-1"
        ) from error
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path} holds only blank lines; pass a file with a header and data rows")
    separator = "\t" if ".tsv" in suffixes else _sniff_delimiter(lines)
    header = next(csv.reader([lines[0]], delimiter=separator))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(
            f"column {', '.join(map(repr, repeated))} appears more than once in the header of "
            f"{path}; give every column its own name"
        )
    return pd.read_csv(
        path, sep=separator, encoding=encoding, compression=compression, low_memory=False
    )


def _detect_encoding(path: Path, sample: bytes) -> str:
    """UTF-8 when the start of the file is UTF-8; otherwise the best guess, said in a warning."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 4:  # a character cut by the end of the sample
            return "utf-8"
    # Windows' Western code page is what most non-UTF-8 CSVs are (Excel exports); it reads
    # latin-1 text the same, and latin-1 itself decodes any byte.
    guess = "cp1252"
    try:
        sample.decode(guess)
    except UnicodeDecodeError:
        guess = "latin-1"
    warnings.warn(
        f"{path.name} is not UTF-8; reading it as {guess} (pass --encoding to choose)",
        stacklevel=4,
    )
    return guess


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the header and the first rows into the same number of fields."""
    head = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on quoted fields and ragged rows; count each candidate instead.
    counts = {d: lines[0].count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def load_dataset(
    path: str | Path,
    target: str,
    *,
    task_type: str | None = None,
    name: str | None = None,
    metric: str | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Read a CSV/Parquet file and split off the target column.

    A CSV's encoding is detected (UTF-8, else a guess named in a warning) unless
    ``encoding`` is given; ``metric`` (a classification or regression metric) settles the
    task when ``task_type`` is not given.
    """
    resolved = Path(path).expanduser()
    frame = read_table(resolved, encoding)
    return dataset_from_frame(
        frame,
        target,
        task_type=task_type,
        name=name or resolved.stem,
        path=resolved,
        metric=metric,
    )


def as_dataset(
    data: Dataset | str | Path | pd.DataFrame,
    target: str | None,
    task_type: str | None = None,
    *,
    metric: str | None = None,
    encoding: str | None = None,
) -> Dataset:
    """A :class:`Dataset` from what the public functions accept: a file, a frame with the
    name of its ``target`` column, or a :class:`Dataset` (returned as is)."""
    if isinstance(data, Dataset):
        return data
    if target is None:
        raise DataError(
            "pass the target column name (target=...) with a file or a frame", usage=True
        )
    if isinstance(data, pd.DataFrame):
        return dataset_from_frame(data, target, task_type=task_type, metric=metric)
    return load_dataset(data, target, task_type=task_type, metric=metric, encoding=encoding)


def dataset_from_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    task_type: str | None = None,
    name: str = "dataset",
    path: Path | None = None,
    metric: str | None = None,
) -> Dataset:
    """Validate a frame holding features and the target column ``target``.

    Refused with a one-line :class:`DataError`: a missing target, repeated column names,
    fewer than :data:`MIN_ROWS` rows, features that are all empty or all constant, a target
    of dates or of a different label in every row (an ID), more classes than the rows can
    hold.
    """
    from mile_meta.metafeatures._table import explain_task_type

    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"pass a pandas DataFrame, not {type(frame).__name__}", usage=True)
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise DataError(
            f"column {', '.join(map(repr, repeated))} appears more than once; give every "
            "column its own name"
        )
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} not found; {_column_hint(frame, target)}", usage=True
        )
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no rows; pass a file with data rows")
    labels = frame[target]
    known = labels.notna()
    if not known.any():
        raise DataError(f"target column {target!r} is empty; pick a column with values", usage=True)
    if not known.all():
        warnings.warn(
            f"{int((~known).sum())} of {len(frame)} rows have no {target!r} value and are left out",
            stacklevel=2,
        )
    features = frame.drop(columns=[target]).loc[known].reset_index(drop=True)
    labels = labels.loc[known].reset_index(drop=True)
    if len(labels) < MIN_ROWS:
        raise DataError(
            f"{name} has {len(labels)} row(s) with a {target!r} value; at least {MIN_ROWS} are "
            "needed to cross-validate and describe the data"
        )
    if features.shape[1] == 0:
        raise DataError(
            f"no feature columns besides the target {target!r}; add the columns to learn from"
        )
    if features.isna().all().all():
        raise DataError(
            "every feature column is empty; check the file's separator and missing-value markers"
        )
    if (features.nunique(dropna=False) <= 1).all():
        raise DataError(
            "every feature column holds a single value, so there is nothing to learn from; "
            "check the file's separator or add informative columns"
        )
    if task_type is not None and task_type not in _TASK_TYPES:
        raise DataError(
            f"unknown task type {task_type!r}; use one of {', '.join(_TASK_TYPES)}", usage=True
        )
    if task_type is None:
        _refuse_unlearnable_target(labels, target)
        inferred, why = explain_task_type(labels, metric)
        reason = f"inferred from {target!r}: {why}"
    else:
        inferred, reason = task_type, "given"  # type: ignore[assignment]
    if inferred != "regression":
        n_classes = int(labels.nunique())
        if n_classes < 2:
            raise DataError(
                f"target {target!r} has a single class ({labels.iloc[0]!r}); a classifier needs at least two"
            )
        if task_type is None:
            inferred = "binary" if n_classes == 2 else "multiclass"
        elif task_type == "binary" and n_classes != 2:
            raise DataError(
                f"target {target!r} has {n_classes} classes, not 2; pass --task multiclass "
                "(task_type='multiclass') or leave the task type out",
                usage=True,
            )
    else:
        labels = pd.to_numeric(labels, errors="coerce")
        if labels.isna().any():
            raise DataError(
                f"target {target!r} is not numeric, so it cannot be regressed; pass --task binary or multiclass",
                usage=task_type is not None,
            )
        if not np.isfinite(labels.to_numpy(dtype=float)).all():
            raise DataError(f"target {target!r} holds infinite values; replace or drop those rows")
    if inferred != "regression" and labels.nunique() > len(labels) // 2:
        raise DataError(
            f"target {target!r} has {labels.nunique()} classes over {len(labels)} rows, so "
            "most classes have a single row; too few to learn or cross-validate (is it the "
            "right column, or a quantity to pass with --task regression?)"
        )
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
    return Dataset(
        name=name,
        frame=features,
        target=labels,
        task_type=inferred,
        path=path,
        task_reason=reason,
    )


def _column_hint(frame: pd.DataFrame, target: str) -> str:
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(target, columns, n=3)
    if close:
        return f"did you mean {', '.join(repr(c) for c in close)}?"
    if len(columns) == 1 and any(d in columns[0] for d in _DELIMITERS):
        return (
            f"the file was read as one column {columns[0][:60]!r}: check its delimiter "
            "(one of , ; tab |) and quoting"
        )
    return f"columns are {', '.join(map(repr, columns[:8]))}{'...' if len(columns) > 8 else ''}"


def _refuse_unlearnable_target(labels: pd.Series, target: str) -> None:
    """Dates and row IDs are columns people pick by mistake; classifying them is meaningless."""
    n_rows = len(labels)
    if pd.api.types.is_datetime64_any_dtype(labels.dtype):
        raise DataError(
            f"target {target!r} holds dates; predict a label or a quantity (derive one from the "
            "date first, e.g. its year) or pick another --target"
        )
    if labels.dtype == object or pd.api.types.is_string_dtype(labels.dtype):
        text = labels.astype(str)
        sample = text.sample(min(n_rows, 200), random_state=0)
        looks_like_date = sample.str.match(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d|\s*$)")
        if looks_like_date.mean() > 0.9:
            raise DataError(
                f"target {target!r} holds dates; predict a label or a quantity (derive one from "
                "the date first, e.g. its year) or pick another --target"
            )
        if n_rows >= 20 and text.nunique() == n_rows:
            raise DataError(
                f"target {target!r} has a different value in every row, like an ID; pick the "
                "column to predict with --target"
            )
    elif pd.api.types.is_integer_dtype(labels.dtype) and n_rows >= 20 and labels.is_unique:
        steps = np.diff(np.sort(labels.to_numpy()))
        if (steps == 1).all():
            warnings.warn(
                f"target {target!r} numbers the rows 1, 2, 3... like an ID; is it the column "
                "to predict?",
                stacklevel=3,
            )
