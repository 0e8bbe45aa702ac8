"""Saved models carry their provenance, refuse foreign environments and rebuild from spec.json."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mile_meta.deploy import (
    check_environment,
    load_model,
    read_spec,
    rebuild_pipeline,
    save_model,
)
from mile_meta.errors import ModelError
from mile_meta.pipelines import build_pipeline, make_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "corpora" / "examples" / "credit-g.csv"


@pytest.fixture(scope="module")
def credit() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(EXAMPLE).head(300)
    return frame.drop(columns=["class"]), frame["class"]


@pytest.fixture
def saved(tmp_path: Path, credit: tuple[pd.DataFrame, pd.Series]) -> tuple[Path, object]:
    X, y = credit
    spec = make_spec("LGBMClassifier", {"n_estimators": 20, "num_leaves": 8})
    model = build_pipeline(spec, random_state=3).fit(X, y)
    save_model(model, tmp_path, {"spec": spec.to_dict(), "random_state": 3})
    return tmp_path, model


def test_spec_records_every_pipeline_library(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    environment = read_spec(folder)["environment"]
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["mile_meta"]
    # lightgbm comes from walking the pickle, the rest are always recorded
    assert {"lightgbm", "scikit-learn", "numpy", "scipy", "joblib"} <= set(environment["libraries"])
    assert all(version[0].isdigit() for version in environment["libraries"].values())


def test_pickle_names_only_public_module_paths(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    raw = (folder / "model.joblib").read_bytes()
    assert b"mile_meta.estimators" in raw
    assert b"mile_meta.pipelines._" not in raw


def test_every_published_estimator_pickles_by_its_public_path() -> None:
    import mile_meta.estimators as public

    assert "TabularPreprocessor" in public.__all__
    for name in public.__all__:
        cls = getattr(public, name)
        assert cls.__module__ == "mile_meta.estimators"
        assert pickle.loads(pickle.dumps(cls)) is cls


def test_load_in_a_fresh_interpreter_predicts_the_same(
    saved: tuple[Path, object], credit: tuple[pd.DataFrame, pd.Series]
) -> None:
    folder, model = saved
    X, _ = credit
    X.head(20).to_csv(folder / "rows.csv", index=False)
    code = (
        "import joblib, pandas as pd, sys;"  # nothing of mile_meta imported beforehand
        f"model = joblib.load({str(folder / 'model.joblib')!r});"
        f"print(','.join(map(str, model.predict(pd.read_csv({str(folder / 'rows.csv')!r})))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = ",".join(map(str, model.predict(X.head(20))))  # type: ignore[attr-defined]
    assert done.stdout.strip() == expected
    assert list(load_model(folder).predict(X.head(20))) == expected.split(",")


def _tamper(folder: Path, library: str, version: str) -> None:
    spec_path = folder / "spec.json"
    record = json.loads(spec_path.read_text())
    record["environment"]["libraries"][library] = version
    spec_path.write_text(json.dumps(record))


def test_other_minor_version_is_refused_unless_asked(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    _tamper(folder, "scikit-learn", "0.19.2")
    with pytest.raises(ModelError, match=r"scikit-learn 0\.19\.2 \(saved\)"):
        load_model(folder)
    with pytest.warns(UserWarning, match="scikit-learn 0.19.2"):
        assert load_model(folder, on_mismatch="warn") is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_model(folder, on_mismatch="ignore") is not None


def test_patch_level_difference_only_warns(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    import numpy

    major, minor = numpy.__version__.split(".")[:2]
    _tamper(folder, "numpy", f"{major}.{minor}.999")
    with pytest.warns(UserWarning, match="numpy"):
        assert load_model(folder) is not None
    serious, minor_differences = check_environment(read_spec(folder)["environment"])
    assert not serious and len(minor_differences) == 1


def test_missing_library_is_refused(saved: tuple[Path, object]) -> None:
    folder, _ = saved
    _tamper(folder, "no-such-library-anywhere", "1.0")
    with pytest.raises(ModelError, match=r"no-such-library-anywhere 1\.0 is not installed"):
        load_model(folder)


def test_spec_json_alone_rebuilds_the_pipeline(
    saved: tuple[Path, object], credit: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    folder, model = saved
    X, y = credit
    alone = tmp_path / "only-spec.json"
    alone.write_text((folder / "spec.json").read_text())
    rebuilt = rebuild_pipeline(alone).fit(X, y)
    np.testing.assert_array_equal(rebuilt.predict(X), model.predict(X))  # type: ignore[attr-defined]


def test_unreadable_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path)
    (tmp_path / "spec.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a saved model"):
        load_model(tmp_path)
    (tmp_path / "spec.json").write_text(json.dumps({"spec": {"steps": []}}))
    with pytest.raises(ModelError, match="saved no model"):
        load_model(tmp_path)
