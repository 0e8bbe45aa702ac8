"""Pipeline specs: JSON round-trips, stable ids, and every corpus pipeline builds and fits."""

from __future__ import annotations

import gzip
import io
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer

from mile_meta.pipelines import COMPONENTS, PipelineSpec, Step, build_pipeline, make_spec
from mile_meta.pipelines.translate.lcdb import translate_lcdb
from mile_meta.pipelines.translate.oboe import translate_oboe

REPO = Path(__file__).resolve().parents[2]


def _oboe_headers() -> list[str]:
    raw = gzip.decompress((REPO / "corpora" / "oboe" / "error_matrix.csv.gz").read_bytes())
    return list(pd.read_csv(io.BytesIO(raw), index_col=0, nrows=1).columns)


def _lcdb_learners() -> list[str]:
    raw = gzip.decompress((REPO / "corpora" / "lcdb" / "curves-accuracy.csv.gz").read_bytes())
    return sorted(pd.read_csv(io.BytesIO(raw), usecols=["learner"])["learner"].unique())


@pytest.fixture(scope="module")
def small_real_data() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :8].copy()
    X.loc[::7, "mean radius"] = None  # missing values must be handled by the spec's preprocessing
    return X.iloc[::3], y.iloc[::3]


def test_all_oboe_pipelines_and_lcdb_learners_translate_build_and_fit(small_real_data) -> None:
    X, y = small_real_data
    translations = [translate_oboe(h) for h in _oboe_headers()] + [
        translate_lcdb(n) for n in _lcdb_learners()
    ]
    assert len(translations) == 219 + 20
    assert all(t.exact and t.spec is not None for t in translations)
    for translation in translations:
        assert translation.spec is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = build_pipeline(translation.spec).fit(X, y)
        assert fitted.predict(X.iloc[:5]).shape == (5,)


def test_oboe_translation_is_faithful() -> None:
    spec = translate_oboe(
        "{'algorithm': 'Logit', 'hyperparameters': {'C': 2, 'solver': 'saga', 'penalty': 'l1'}}"
    ).spec
    assert spec is not None
    assert spec.estimator == Step.of("LogisticRegression", C=2.0, solver="saga", l1_ratio=1.0)
    assert spec.steps[0].param_dict["scaling"] == "standard"


def test_spec_id_is_content_hash_and_order_free() -> None:
    a = PipelineSpec(
        (
            Step("TabularPreprocessor", (("scaling", "none"),)),
            Step("SVC", (("C", 1.0), ("kernel", "rbf"))),
        )
    )
    b = PipelineSpec.from_json(
        '{"steps":[{"component":"TabularPreprocessor","params":{"scaling":"none"}},'
        '{"component":"SVC","params":{"kernel":"rbf","C":1.0}}]}'
    )
    assert a == b and a.pipeline_id == b.pipeline_id and len(a.pipeline_id) == 16


_estimators = sorted(name for name, info in COMPONENTS.items() if info.kind == "classifier")
_values = st.one_of(
    st.integers(-5, 5),
    st.floats(-3, 3, allow_nan=False),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(
    estimator=st.sampled_from(_estimators),
    params=st.dictionaries(st.text(min_size=1, max_size=8), _values, max_size=4),
)
def test_spec_json_round_trip(estimator: str, params: dict) -> None:
    spec = make_spec(estimator, params)
    again = PipelineSpec.from_json(spec.to_json())
    assert again == spec and again.pipeline_id == spec.pipeline_id
    assert again.to_json() == spec.to_json()


@settings(max_examples=30, deadline=None)
@given(estimator=st.sampled_from(_estimators))
def test_spec_to_estimator_round_trip(estimator: str) -> None:
    spec = PipelineSpec.from_json(make_spec(estimator).to_json())
    pipeline = build_pipeline(spec)
    assert type(pipeline.steps[-1][1]).__name__ in (estimator, "OneVsRestClassifier")
    assert len(pipeline.steps) == len(spec.steps)


def test_unknown_component_and_hyperparameter_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown component 'Forest'"):
        make_spec("Forest")
    with pytest.raises(ValueError, match="no hyperparameter"):
        build_pipeline(make_spec("SVC", {"gamma_typo": 1.0}))
