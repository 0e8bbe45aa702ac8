"""User-driven evaluation on the bundled real example (credit-g)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.data import load_dataset
from mile_meta.errors import DataError, MileMetaError
from mile_meta.evaluate import FoldCache, evaluate_pipeline
from mile_meta.kb import KnowledgeBase
from mile_meta.pipelines import make_spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "corpora" / "examples" / "credit-g.csv"


def test_evaluate_records_a_local_run(writable_kb_path: Path) -> None:
    dataset = load_dataset(EXAMPLE, "class")
    assert dataset.task_type == "binary" and dataset.frame.shape == (1000, 20)
    with KnowledgeBase.open(writable_kb_path) as kb:
        result = evaluate_pipeline("sklearn.linear_model.LogisticRegression", dataset, kb=kb, cv=3)
        assert 0.55 < result.mean < 0.85 and len(result.fold_scores) == 3
        rows = kb.db.execute(
            "SELECT count(*), min(value) FROM evaluations WHERE source = 'local' AND dataset_id = ?",
            [dataset.dataset_id],
        ).fetchone()
        assert rows[0] == 3
        qualities = kb.qualities_frame(sources=["local"]).loc[dataset.dataset_id]
        assert qualities["NumberOfInstances"] == 1000
        assert "local" in kb.source_names()


def test_shared_preprocessing_reuses_cached_folds() -> None:
    dataset = load_dataset(EXAMPLE, "class")
    cache = FoldCache()
    first = evaluate_pipeline("RandomForestClassifier", dataset, cv=3, cache=cache)
    second = evaluate_pipeline("ExtraTreesClassifier", dataset, cv=3, cache=cache)
    assert first.cached_folds == 0 and second.cached_folds == 3
    third = evaluate_pipeline(
        "LogisticRegression", dataset, cv=3, cache=cache
    )  # scaled one-hot: other prep
    assert third.cached_folds == 0


def test_same_seed_same_score() -> None:
    dataset = load_dataset(EXAMPLE, "class")
    a = evaluate_pipeline("DecisionTreeClassifier", dataset, cv=3, seed=3)
    b = evaluate_pipeline("DecisionTreeClassifier", dataset, cv=3, seed=3)
    assert a.fold_scores == b.fold_scores


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="did you mean 'class'"):
        load_dataset(EXAMPLE, "klass")
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": ["a", "a", "a"]}).to_csv(one_class, index=False)
    with pytest.raises(DataError, match="single class"):
        load_dataset(one_class, "y")
    empty = tmp_path / "empty.csv"
    pd.DataFrame({"x": [None, None, None], "y": [1, 0, 1]}).to_csv(empty, index=False)
    with pytest.raises(DataError, match="every feature column is empty"):
        load_dataset(empty, "y")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 garbage")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset(broken, "y")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nope.csv", "y")
    with pytest.raises(MileMetaError, match="is a regressor but the task is binary"):
        evaluate_pipeline("Ridge", load_dataset(EXAMPLE, "class"))


def test_parquet_and_regression(tmp_path: Path) -> None:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    path = tmp_path / "diabetes.parquet"
    frame.to_parquet(path)
    dataset = load_dataset(path, "target")
    assert dataset.task_type == "regression"
    result = evaluate_pipeline("Ridge", dataset, cv=3)
    assert result.metric == "root_mean_squared_error" and 40 < result.mean < 80


def test_cli_evaluate_json(writable_kb_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(EXAMPLE),
            "--target",
            "class",
            "--pipeline",
            "GaussianNB",
            "--cv",
            "3",
            "--kb",
            str(writable_kb_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["family"] == "naive_bayes" and payload["recorded"] is True
    bad = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(EXAMPLE),
            "--target",
            "nope",
            "--pipeline",
            "GaussianNB",
            "--kb",
            str(writable_kb_path),
        ],
    )
    assert bad.exit_code == 2 and "not found" in bad.output


def test_more_bad_input_gets_one_line_errors(tmp_path: Path) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_text("x,y\n")
    with pytest.raises(DataError, match="no rows"):
        load_dataset(header_only, "y")
    three = tmp_path / "three.csv"
    pd.DataFrame({"x": range(9), "y": ["a", "b", "c"] * 3}).to_csv(three, index=False)
    with pytest.raises(DataError, match="3 classes, not 2; pass --task multiclass"):
        load_dataset(three, "y", task_type="binary")
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.5, 1.5, 2.5]}).to_csv(tiny, index=False)
    with pytest.raises(MileMetaError, match="3 rows, fewer than the 5 folds"):
        evaluate_pipeline("Ridge", load_dataset(tiny, "y"), cv=5)
    credit = load_dataset(EXAMPLE, "class")
    with pytest.raises(MileMetaError, match="unknown component 'Nope'"):
        evaluate_pipeline('{"steps": [{"component": "Nope", "params": {}}]}', credit)
    misspelt = make_spec("DecisionTreeClassifier", {"max_dept": 3}).to_json()
    with pytest.raises(MileMetaError, match="no hyperparameter"):
        evaluate_pipeline(misspelt, credit)
    invalid = make_spec("DecisionTreeClassifier", {"max_depth": -3})
    with pytest.raises(MileMetaError, match=r"failed on fold 1 of 3 .*max_depth") as caught:
        evaluate_pipeline(invalid, credit, cv=3)
    assert "\n" not in str(caught.value)


def test_infinite_feature_values_are_read_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "inf.csv"
    frame = pd.DataFrame({"x": [1.0, float("inf"), 3.0, -float("inf")] * 5, "y": ["a", "b"] * 10})
    frame.to_csv(path, index=False)
    dataset = load_dataset(path, "y")
    assert int(dataset.frame["x"].isna().sum()) == 10
    assert evaluate_pipeline("LogisticRegression", dataset, cv=2).n_folds == 2
