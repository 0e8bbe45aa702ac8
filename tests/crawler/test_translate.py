"""Flows + setups → PipelineSpec, on flows written by openml's own scikit-learn extension."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmltodict
from conftest import require_recorded
from replay import RECORDED

from mile_meta.pipelines import build_pipeline, make_spec
from mile_meta.sources.openml import FlowNode, SetupInfo, flow_description, translate_openml_setup

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _flow(flow_id: int) -> FlowNode:
    from openml.flows import OpenMLFlow

    path = FIXTURES / "flows" / f"flow_{flow_id}.xml"
    if flow_id == 100:  # a Weka flow recorded from OpenML
        require_recorded()
        path = RECORDED / "mock_responses" / "flows" / "flow_100.xml"
    xml = path.read_text(encoding="utf-8")
    return FlowNode.from_openml(OpenMLFlow._from_dict(xmltodict.parse(xml)))


def _setups() -> dict[int, SetupInfo]:
    from openml.setups.functions import _create_setup_from_xml

    parsed = xmltodict.parse(
        (FIXTURES / "setups.xml").read_text(encoding="utf-8"), force_list=("oml:setup",)
    )
    setups = {}
    for element in parsed["oml:setups"]["oml:setup"]:
        setup = SetupInfo.from_openml(_create_setup_from_xml({"oml:setup_parameters": element}))
        setups[setup.setup_id] = setup
    return setups


SETUPS = _setups()


def _translate(setup_id: int):
    setup = SETUPS[setup_id]
    return translate_openml_setup(_flow(setup.flow_id), setup)


def test_default_random_forest_is_exactly_the_registry_default() -> None:
    translation = _translate(101)
    assert translation.exact and translation.reasons == ()
    # the same pipeline id LCDB's default random forest gets: corpora meet on it
    assert translation.spec == make_spec("RandomForestClassifier")


def test_setup_values_differing_from_defaults_are_kept() -> None:
    spec = _translate(102).spec
    assert spec.estimator.param_dict == {"n_estimators": 500, "max_features": 0.5}
    assert _translate(103).spec.estimator.param_dict == {
        "criterion": "entropy",
        "min_samples_leaf": 3,
    }


def test_seeds_do_not_make_a_new_pipeline() -> None:
    assert _translate(104).spec == _translate(101).spec


def test_old_scikit_learn_flow_with_renamed_values() -> None:
    flow = _flow(7040)
    assert flow.class_name == "sklearn.ensemble.forest.RandomForestClassifier"
    translation = _translate(141)
    # n_estimators defaulted to 10 then; max_features="auto" is today's "sqrt"
    assert translation.spec.estimator.param_dict == {"n_estimators": 10}
    assert translation.exact


def test_pipeline_steps_and_absorbed_preprocessing() -> None:
    translation = _translate(121)
    assert [step.component for step in translation.spec.steps] == [
        "TabularPreprocessor",
        "PCA",
        "LogisticRegression",
    ]
    assert translation.spec.steps[1].param_dict == {"n_components": 5}
    assert not translation.exact
    assert any("SimpleImputer replaced" in reason for reason in translation.reasons)
    l1 = _translate(122).spec.estimator.param_dict
    assert l1 == {"l1_ratio": 1.0, "solver": "liblinear"}


@pytest.mark.parametrize(
    ("setup_id", "reason"),
    [
        (105, "class_weight"),  # a dict-valued hyperparameter
        (131, "GridSearchCV"),  # a search wrapper
        (151, "DummyClassifier"),  # a step without a component
        (1, "weka.J48"),  # not scikit-learn
    ],
)
def test_untranslatable_flows_say_why(setup_id: int, reason: str) -> None:
    translation = _translate(setup_id)
    assert translation.spec is None and not translation.runnable
    assert reason in translation.reasons[0]


def test_flow_description_is_canonical_json() -> None:
    setup = SETUPS[131]
    text = flow_description(_flow(setup.flow_id), setup)
    payload = json.loads(text)
    assert payload["openml_flow"]["flow_id"] == 7030
    assert json.dumps(payload, sort_keys=True, separators=(",", ":")) == text
    assert len(payload["parameters"]) == len(setup.parameters)


def test_translated_pipelines_fit_real_data() -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    features, target = data.data.iloc[::3], data.target.iloc[::3]
    for setup_id in (112, 121, 122, 141):
        model = build_pipeline(_translate(setup_id).spec)
        model.fit(features, target)
        assert model.score(features, target) > 0.6, setup_id
