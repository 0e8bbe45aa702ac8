"""Malformed and extreme inputs for the battery: named cases from issue 18 and a hypothesis
strategy of generated frames and files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st


@dataclass(frozen=True)
class FileCase:
    """A file to hand to a command: its bytes, suffix and target, and what must happen.

    ``codes`` are the acceptable exit statuses; ``says`` a fragment the one-line error (or
    the task line) must contain.
    """

    name: str
    content: bytes
    target: str = "y"
    suffix: str = ".csv"
    codes: tuple[int, ...] = (1,)
    says: str = ""

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}{self.suffix}"
        path.write_bytes(self.content)
        return path


def _csv(frame: pd.DataFrame, **kwargs: object) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, **kwargs)  # type: ignore[call-overload]
    return buffer.getvalue().encode(str(kwargs.get("encoding", "utf-8")))


def _rng_frame(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n_rows),
            "b": rng.integers(0, 5, n_rows),
            "c": rng.choice(["red", "green", "blue"], n_rows),
        }
    )


def named_cases() -> list[FileCase]:
    """Each bad input of issue 18 item 2, with the exit status and message it must get."""
    good = _rng_frame(60).assign(y=np.tile(["yes", "no"], 30))
    latin = good.assign(c=np.tile(["café", "naïve", "señor"], 20))
    dup_header = b"a,a,b,y\n" + b"".join(
        f"{i},{i % 3},{i % 5},{'yes' if i % 2 else 'no'}\n".encode() for i in range(40)
    )
    dates = _rng_frame(60).assign(y=pd.date_range("2020-01-01", periods=60).strftime("%Y-%m-%d"))
    ids = _rng_frame(60).assign(y=[f"user-{i:05d}" for i in range(60)])
    constant = pd.DataFrame({"a": [1.0] * 40, "b": ["x"] * 40, "y": np.tile([0, 1], 20)})
    many_classes = _rng_frame(12).assign(y=[f"k{i % 10}" for i in range(12)])
    coded = _rng_frame(5_500, seed=1).assign(y=np.arange(5_500) % 11)
    return [
        FileCase("empty", b"", says="is empty (0 bytes)"),
        FileCase("blank", b"\n\n   \n", says="only blank lines"),
        FileCase("header-only", b"a,b,c,y\n", says="has a header but no rows"),
        FileCase("binary", bytes(range(256)) * 40, says="binary data"),
        FileCase("zip-named-csv", b"PK\x03\x04" + bytes(200), says="binary data"),
        FileCase("bad-parquet", b"PAR1 garbage", suffix=".parquet", says="cannot read"),
        FileCase("semicolons", _csv(good, sep=";"), codes=(0,)),
        FileCase("pipes", _csv(good, sep="|"), codes=(0,)),
        FileCase("latin-1", _csv(latin, encoding="latin-1"), codes=(0,), says="not UTF-8"),
        FileCase("duplicate-columns", dup_header, says="appears more than once"),
        FileCase("date-target", _csv(dates), says="holds dates"),
        FileCase("id-target", _csv(ids), says="like an ID"),
        FileCase("constant-features", _csv(constant), says="single value"),
        FileCase("one-row", b"a,b,y\n1,2,yes\n", says="row"),
        FileCase("too-many-classes", _csv(many_classes), says="classes over 12 rows"),
        FileCase("missing-target", _csv(good), target="label", codes=(2,), says="not found"),
        FileCase("empty-target", _csv(good.assign(y=np.nan)), codes=(2,), says="is empty"),
        FileCase(
            "infinite-target",
            _csv(_rng_frame(40).assign(y=[np.inf, *list(np.linspace(0, 1, 39))])),
            says="infinite",
        ),
        FileCase("xlsx", b"PK\x03\x04", suffix=".xlsx", codes=(2,), says="unsupported file type"),
        FileCase("integer-coded-classes", _csv(coded), codes=(0,), says="task: multiclass"),
    ]


# -- generated frames ---------------------------------------------------------------------
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=8,
)
_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, np.nan]),
)


@st.composite
def _column(draw: st.DrawFn, n_rows: int) -> list[object]:
    kind = draw(st.sampled_from(["float", "int", "text", "category", "bool", "date", "constant"]))
    if kind == "float":
        return draw(st.lists(_FLOATS, min_size=n_rows, max_size=n_rows))
    if kind == "int":
        values = st.integers(min_value=-(2**62), max_value=2**62)
        return draw(
            st.lists(st.one_of(values, st.integers(0, 3)), min_size=n_rows, max_size=n_rows)
        )
    if kind == "text":
        return draw(st.lists(st.one_of(_TEXT, st.none()), min_size=n_rows, max_size=n_rows))
    if kind == "category":
        return draw(
            st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n_rows, max_size=n_rows)
        )
    if kind == "bool":
        return draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
    if kind == "date":
        days = draw(st.lists(st.integers(0, 20_000), min_size=n_rows, max_size=n_rows))
        return [str(np.datetime64("1970-01-01") + np.timedelta64(d, "D")) for d in days]
    return [draw(st.one_of(st.integers(), _TEXT))] * n_rows


@st.composite
def generated_files(draw: st.DrawFn) -> FileCase:
    """A frame of 0-40 rows and 1-5 columns of hostile values, written as CSV (any common
    delimiter, UTF-8 or latin-1) or Parquet, with the target one of its columns or not."""
    n_rows = draw(st.one_of(st.integers(0, 40), st.integers(20, 60)))
    n_columns = draw(st.integers(1, 5))
    names = draw(
        st.lists(
            st.one_of(st.sampled_from(["a", "b", "y", "x.1", "Unnamed: 0", " y"]), _TEXT),
            min_size=n_columns,
            max_size=n_columns,
        )
    )
    columns = {
        f"{name}" if name not in names[:i] else f"{name}_{i}": draw(_column(n_rows))
        for i, name in enumerate(names)
    }
    frame = pd.DataFrame(columns)
    choice = draw(st.sampled_from(["column", "missing", "labels", "quantity"]))
    target: object = "missing"
    if choice == "column":
        target = draw(st.sampled_from(list(frame.columns)))
    elif choice == "labels":  # a learnable target, so the hostile features reach the work
        target = "target"
        frame[target] = draw(
            st.lists(st.sampled_from(["p", "q", "r"]), min_size=n_rows, max_size=n_rows)
        )
    elif choice == "quantity":
        target = "target"
        frame[target] = draw(st.lists(st.floats(-1e6, 1e6), min_size=n_rows, max_size=n_rows))
    form = draw(st.sampled_from([",", ";", "\t", "|", "parquet", "latin-1"]))
    if form == "parquet":
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer)
        except Exception:  # mixed types pyarrow cannot store: send them as CSV instead
            return FileCase("generated", _csv(frame), target=str(target), codes=(0, 1, 2))
        return FileCase("generated", buffer.getvalue(), str(target), ".parquet", (0, 1, 2))
    if form == "latin-1":
        content = _csv(frame).decode().encode("latin-1", errors="replace")
        return FileCase("generated", content, str(target), ".csv", (0, 1, 2))
    return FileCase("generated", _csv(frame, sep=form), str(target), ".csv", (0, 1, 2))
