"""The Prior: what build_prior finds, projection onto the space, the JSON schema round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prior_helpers import REPO, assert_in_space

from mile_meta.errors import MileMetaError
from mile_meta.kb import KnowledgeBase
from mile_meta.pipelines import make_spec
from mile_meta.pipelines.space import estimator_space, search_space, spec_from_config
from mile_meta.priors import (
    PRIOR_SCHEMA,
    SCHEMA_VERSION,
    Prior,
    PriorSchemaError,
    build_prior,
    project_spec,
)


def test_build_prior_ranks_starting_configurations_in_the_space(credit_prior: Prior) -> None:
    prior = credit_prior
    assert prior.task_type == "binary" and prior.metric == "balanced_accuracy"
    assert prior.higher_is_better and prior.schema_version == SCHEMA_VERSION
    starts = prior.starting_configurations
    assert [s.rank for s in starts] == list(range(1, len(starts) + 1)) and len(starts) == 6
    for start in starts:
        assert_in_space(start.estimator, start.config)
        assert start.observed_scores, "evidence from similar datasets"
        assert all(o.dataset_id != "openml:31" for o in start.observed_scores)
        assert start.lower <= start.predicted_score <= start.upper
        start.spec()  # runnable
    # ranks are unique after projection: no configuration is listed twice
    assert len({json.dumps([s.estimator, s.config]) for s in starts}) == len(starts)
    assert "openml:31" in prior.provenance.excluded_datasets
    assert prior.provenance.knowledge_base_sources == ("lcdb", "oboe")
    assert len(prior.provenance.neighbour_datasets) == 10


def test_family_weights_cover_the_space_and_sum_to_one(credit_prior: Prior) -> None:
    weights = credit_prior.family_weights
    assert {f.family for f in weights} == {s.family for s in search_space("binary")}
    assert sum(f.weight for f in weights) == pytest.approx(1.0)
    assert all(f.weight > 0 for f in weights)
    best_family = credit_prior.starting_configurations[0].family
    assert weights[0].family == best_family
    estimator_weights = credit_prior.estimator_weights()
    assert sum(estimator_weights.values()) == pytest.approx(1.0)


def test_distributions_are_fitted_inside_the_space(credit_prior: Prior) -> None:
    assert credit_prior.distributions
    kinds = {d.distribution for d in credit_prior.distributions}
    assert {"normal", "categorical"} <= kinds
    for item in credit_prior.distributions:
        hyperparameter = estimator_space(item.estimator).hyperparameter(item.name)
        assert item.support > 0
        if item.distribution == "categorical":
            assert list(map(repr, item.choices)) == list(map(repr, hyperparameter.choices))
            assert sum(item.weights) == pytest.approx(1.0) and min(item.weights) > 0
        else:
            assert (item.low, item.high, item.log) == (
                hyperparameter.low,
                hyperparameter.high,
                hyperparameter.log,
            )
            centre = item.mean_value()
            assert hyperparameter.low <= centre <= hyperparameter.high


def test_projection_reports_what_the_space_cannot_hold() -> None:
    space = estimator_space("RandomForestClassifier")
    spec = make_spec("RandomForestClassifier", {"min_samples_split": 0.01, "criterion": "gini"})
    config, notes = project_spec(spec, space, n_rows=1000)
    assert config["min_samples_split"] == 10  # 0.01 x 1000 rows
    by_name = {note[0]: note for note in notes}
    assert "fraction of the rows" in by_name["min_samples_split"][2]
    # scikit-learn's max_features='sqrt' is not a float of the space: reported, default used
    assert by_name["max_features"][1] == "sqrt" and config["max_features"] == 0.3

    svc = make_spec("SVC", {"kernel": "linear", "C": 1e6})
    config, notes = project_spec(svc, estimator_space("SVC"))
    assert config["kernel"] == "rbf" and config["C"] == 32768.0
    assert {note[0] for note in notes} == {"kernel", "C"}

    mlp = make_spec("MLPClassifier", {"learning_rate": "adaptive", "max_iter": 50})
    _, notes = project_spec(mlp, estimator_space("MLPClassifier"))
    reasons = {note[0]: note[2] for note in notes}
    assert "not a searchable hyperparameter" in reasons["learning_rate"]
    assert "fixed at 300" in reasons["max_iter"]


def test_estimators_outside_the_space_are_reported(corpus_kb_path: Path) -> None:
    from mile_meta.priors import prior_from_report
    from mile_meta.recommend import recommend_from_metafeatures

    meta = {"NumberOfInstances": 300.0, "NumberOfFeatures": 8.0, "NumberOfClasses": 2.0}
    with KnowledgeBase.open(corpus_kb_path) as kb:
        report = recommend_from_metafeatures(meta, "binary", kb=kb, top=30)
        first = report.recommendations[0]
        perceptron = replace(first, spec=make_spec("Perceptron"), pipeline_id="perceptron")
        report = replace(report, recommendations=(perceptron, *report.recommendations[1:]))
        prior = prior_from_report(report, kb, top=3)
    outside = [u for u in prior.unexpressible if u.parameter is None]
    assert [(u.rank, u.estimator) for u in outside] == [(1, "Perceptron")]
    assert "not in the search space" in outside[0].reason
    assert len(prior.starting_configurations) == 3
    assert all(s.estimator != "Perceptron" for s in prior.starting_configurations)
    assert prior.starting_configurations[0].source_ranks[0] == 2


def _config_strategy(estimator: str) -> st.SearchStrategy[dict]:
    space = estimator_space(estimator)
    fields = {}
    for h in space.hyperparameters:
        if h.kind == "categorical":
            fields[h.name] = st.sampled_from(h.choices)
        elif h.kind == "int":
            fields[h.name] = st.integers(int(h.low), int(h.high))
        else:
            fields[h.name] = st.floats(h.low, h.high, allow_nan=False)
    return st.fixed_dictionaries(fields)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        [s.estimator for s in search_space("binary") + search_space("regression")]
    ).flatmap(lambda e: st.tuples(st.just(e), _config_strategy(e)))
)
def test_a_configuration_of_the_space_projects_onto_itself(drawn: tuple[str, dict]) -> None:
    estimator, config = drawn
    projected, notes = project_spec(spec_from_config(estimator, config), estimator_space(estimator))
    assert projected == config
    assert [n for n in notes if n[0] in config] == []


def test_json_round_trip_and_schema(credit_prior: Prior, tmp_path: Path) -> None:
    text = credit_prior.to_json()
    assert Prior.from_json(text) == credit_prior
    path = tmp_path / "prior.json"
    path.write_text(text)
    assert Prior.read(path) == credit_prior
    # the documented schema is the one the code validates against, and accepts the output
    documented = json.loads((REPO / "docs" / "prior-schema.json").read_text())
    assert documented == PRIOR_SCHEMA
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(text), documented)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(schema_version=2), "schema_version 2"),
        (lambda p: p.pop("metric"), "lacks the required key 'metric'"),
        (lambda p: p["starting_configurations"][0].update(rank="1"), "rank must be integer"),
        (lambda p: p.update(task_type="ranking"), "use one of binary, multiclass, regression"),
        (lambda p: p["provenance"].update(extra=1), "unknown key 'extra'"),
    ],
)
def test_invalid_prior_json_gets_one_line_error(credit_prior: Prior, change, message) -> None:
    payload = credit_prior.to_dict()
    change(payload)
    with pytest.raises(PriorSchemaError, match=message) as caught:
        Prior.from_json(json.dumps(payload))
    assert "\n" not in str(caught.value)
    with pytest.raises(PriorSchemaError, match="not valid JSON"):
        Prior.from_json("{")


def test_jsonschema_agrees_on_invalid_input(credit_prior: Prior) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    payload = credit_prior.to_dict()
    payload["distributions"][0]["distribution"] = "uniform"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, PRIOR_SCHEMA)
    with pytest.raises(PriorSchemaError, match="distribution"):
        Prior.from_dict(payload)


def test_prior_without_task_type_needs_number_of_classes(corpus_kb_path: Path) -> None:
    from mile_meta.errors import MileMetaError

    with KnowledgeBase.open(corpus_kb_path) as kb, pytest.raises(MileMetaError, match="task_type"):
        build_prior({"NumberOfInstances": 100.0}, kb=kb)


def test_replace_keeps_prior_frozen(credit_prior: Prior) -> None:
    with pytest.raises(AttributeError):
        credit_prior.metric = "r2"  # type: ignore[misc]
    assert replace(credit_prior, metric="r2").metric == "r2"


# -- what the search reads: ranges, likely choices, draws ---------------------------------------


def test_intervals_lie_inside_the_space_and_hold_the_centre(credit_prior: Prior) -> None:
    numeric = [d for d in credit_prior.distributions if d.distribution != "categorical"]
    assert numeric
    for distribution in numeric:
        narrow, wide = distribution.interval(0.5), distribution.interval(0.95)
        assert narrow is not None and wide is not None
        assert distribution.low <= wide[0] <= narrow[0] <= narrow[1] <= wide[1] <= distribution.high
        centre = distribution.mean_value()
        assert centre is not None
        clipped = min(max(centre, distribution.low), distribution.high)
        assert wide[0] <= clipped <= wide[1] or distribution.integer
    with pytest.raises(MileMetaError, match="coverage"):
        numeric[0].interval(1.0)


def test_likely_choices_are_the_heavy_ones(credit_prior: Prior) -> None:
    categorical = [d for d in credit_prior.distributions if d.distribution == "categorical"]
    assert categorical
    for distribution in categorical:
        chosen = distribution.likely_choices(0.0)
        assert set(map(repr, chosen)) == set(map(repr, distribution.choices))
        heaviest = max(zip(distribution.weights, map(repr, distribution.choices), strict=True))
        assert repr(chosen[0]) == heaviest[1]


def test_sampled_configurations_follow_the_weights_inside_the_space(credit_prior: Prior) -> None:
    drawn = credit_prior.sample_configurations(400, seed=0)
    for estimator, params in drawn:
        assert_in_space(estimator, params)
    weights = credit_prior.estimator_weights()
    favourite = max(weights, key=weights.get)
    share = sum(estimator == favourite for estimator, _ in drawn) / len(drawn)
    assert share == pytest.approx(weights[favourite], abs=0.07)
    assert credit_prior.sample_configurations(5, seed=1) == credit_prior.sample_configurations(
        5, seed=1
    )
