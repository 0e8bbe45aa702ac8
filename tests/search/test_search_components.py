"""Contract suites for the search's extension points, run on every variant, plus the
constraint checks of cruise-control."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from mile_meta.data import Dataset
from mile_meta.kb import KnowledgeBase
from mile_meta.metrics import resolve_metric
from mile_meta.search import (
    Constraints,
    DefaultDesign,
    FullFidelity,
    NoInitialDesign,
    NoPruning,
    OptunaOptimizer,
    Outcome,
    PriorPruner,
    RankAgreement,
    SearchContext,
    SearchError,
    SuccessiveHalving,
    WarmStartDesign,
    constrained_space,
    cruise_control,
    load_prior,
)
from mile_meta.search._base import admits


@pytest.fixture(scope="module")
def kb(corpus_kb_path: Path):
    with KnowledgeBase.open(corpus_kb_path, must_exist=True) as knowledge_base:
        yield knowledge_base


@pytest.fixture(scope="module")
def context(kb: KnowledgeBase, credit_g: Dataset) -> SearchContext:
    prior, note = load_prior(kb, credit_g, "balanced_accuracy", exclude_datasets=[31])
    assert prior is not None, note
    return SearchContext(
        dataset=credit_g,
        metric=resolve_metric("balanced_accuracy"),
        seed=0,
        budget_seconds=30,
        cv=5,
        prior=prior,
        kb=kb,
    )


@pytest.fixture(scope="module")
def space():
    return constrained_space("binary", Constraints())[0]


# -- initial designs -------------------------------------------------------------------------
INITIAL_DESIGNS = [WarmStartDesign(), DefaultDesign(), NoInitialDesign()]


@pytest.mark.parametrize("design", INITIAL_DESIGNS, ids=lambda d: type(d).__name__)
def test_initial_design_contract(design, space, context) -> None:
    candidates = design.select(space, context)
    ids = [c.pipeline_id for c in candidates]
    assert len(ids) == len(set(ids))
    for candidate in candidates:
        assert candidate.reason
        assert admits(space, candidate, context.constraints)
    constrained, _ = constrained_space(
        "binary",
        Constraints(include=("random_forest", "lightgbm"), pinned=(("scaling", "robust"),)),
    )
    for candidate in design.select(constrained, context):
        assert candidate.family in ("random_forest", "lightgbm")
        assert candidate.spec.steps[0].param_dict["scaling"] == "robust"


def test_warm_start_takes_the_top_recommendations_per_family(space, context) -> None:
    candidates = WarmStartDesign(size=6, per_family=2).select(space, context)
    recommended = [c for c in candidates if c.origin == "warm_start"]
    assert recommended and recommended[0].reason.startswith("recommended #")
    first_family = context.prior.report.recommendations[0].family
    assert recommended[0].family == first_family  # families take turns, best family first
    families = [c.family for c in recommended]
    assert all(families.count(f) <= 2 for f in families)
    # the corpora hold no LightGBM results: its default covers that blind spot
    assert any(c.estimator == "LGBMClassifier" and c.origin == "default" for c in candidates)


# -- pruners ---------------------------------------------------------------------------------
PRUNERS = [PriorPruner(), NoPruning()]


@pytest.mark.parametrize("pruner", PRUNERS, ids=lambda p: type(p).__name__)
def test_pruner_contract(pruner, space, context) -> None:
    pruned, cuts = pruner.prune(space, context)
    assert pruned.estimators and set(pruned.estimator_names) <= set(space.estimator_names)
    for cut in cuts:
        assert cut.reason and cut.source == "prior"
    for narrowed in pruned.estimators:
        original = space.estimator(narrowed.estimator)
        for hyperparameter in narrowed.hyperparameters:
            before = original.hyperparameter(hyperparameter.name)
            if hyperparameter.kind == "categorical":
                assert set(hyperparameter.choices) <= set(before.choices)
            else:
                assert before.low <= hyperparameter.low <= hyperparameter.high <= before.high
    # a one-estimator space is never emptied
    tiny, _ = constrained_space("binary", Constraints(include=("knn",)))
    assert pruner.prune(tiny, context)[0].estimator_names == ("KNeighborsClassifier",)


def test_prior_pruner_says_why(space, context) -> None:
    _, cuts = PriorPruner().prune(space, context)
    assert cuts, "the prior narrows something on credit-g"
    for cut in cuts:
        if cut.kind == "family":
            assert "nearest datasets" in cut.reason and cut.kept_share == 0
        else:
            assert "the prior's" in cut.reason and "good" in cut.reason
            assert 0 < cut.kept_share <= 0.8  # narrowing that keeps most of a range is not done


def test_prior_pruner_narrows_to_the_exported_distributions(space, context) -> None:
    """The pruning reads "where the good values are" from the exported prior, not its own
    computation: each narrowed range lies inside the distribution's central interval."""
    pruner = PriorPruner(coverage=0.9)
    pruned, cuts = pruner.prune(space, context)
    exported = context.prior.prior
    ranges = [cut for cut in cuts if cut.kind in ("range", "choices")]
    assert ranges
    for cut in ranges:
        estimator, name = cut.target.split(".")
        fitted = exported.distribution(estimator, name)
        assert fitted is not None and fitted.support >= pruner.min_configurations
        narrowed = pruned.estimator(estimator).hyperparameter(name)
        if cut.kind == "choices":
            assert set(narrowed.choices) == set(fitted.likely_choices(pruner.min_weight))
        else:
            low, high = fitted.interval(0.9)
            assert math.floor(low) <= narrowed.low and narrowed.high <= math.ceil(high)


def test_warm_start_reads_the_exported_prior(space, context, kb: KnowledgeBase) -> None:
    """The search's first candidates are the exported prior's starting configurations: the
    same configurations in the same ranking another optimizer would be handed."""
    from mile_meta.priors import export, prior_from_report

    search_prior = context.prior
    exported = search_prior.prior
    # the search's prior is the exporters' prior, built from the same ranking
    rebuilt = prior_from_report(search_prior.report, kb, top=10)

    def first(prior):  # (source ranks stop at the cut: a short prior merges fewer duplicates)
        return [(s.rank, s.pipeline_id, s.params) for s in prior.starting_configurations[:10]]

    assert first(rebuilt) == first(exported)
    assert rebuilt.distributions == exported.distributions
    assert export(exported, "optuna")  # it exports as any prior does
    recommended = [c for c in WarmStartDesign().select(space, context) if c.origin == "warm_start"]
    assert recommended
    starting = {s.spec().pipeline_id: s for s in exported.starting_configurations}
    for candidate in recommended:
        assert candidate.pipeline_id in starting, candidate.reason
        item = starting[candidate.pipeline_id]
        assert candidate.reason.startswith(f"recommended #{item.source_ranks[0]}:")
    # families take turns in the order of their best starting configuration
    first_by_family: dict[str, int] = {}
    for item in exported.starting_configurations:
        first_by_family.setdefault(item.family, item.rank)
    turn = len({c.family for c in recommended})
    families = [c.family for c in recommended[:turn]]
    assert families == sorted(families, key=first_by_family.__getitem__)
    assert recommended[0].family == exported.starting_configurations[0].family


# -- fidelity schedules ----------------------------------------------------------------------
FIDELITIES = [FullFidelity(), SuccessiveHalving()]


@pytest.mark.parametrize("fidelity", FIDELITIES, ids=lambda f: type(f).__name__)
@pytest.mark.parametrize("n_rows", [300, 5000, 40000])
def test_fidelity_contract(fidelity, n_rows, context) -> None:
    stages = fidelity.rungs(n_rows, context)
    assert stages[-1].rows == n_rows and stages[-1].fraction == 1
    assert [s.rows for s in stages] == sorted({s.rows for s in stages})
    assert [s.rung for s in stages] == list(range(len(stages)))
    # the first candidate at a stage goes on; a clear loser after many does not
    assert fidelity.promote(0.7, [], True)
    if isinstance(fidelity, SuccessiveHalving):
        assert not fidelity.promote(0.1, [0.9, 0.8, 0.85, 0.7, 0.75, 0.6, 0.95, 0.9], True)
        assert not fidelity.promote(9.0, [1.0, 2.0, 1.5, 1.2], False)


def test_rank_agreement_is_measured_on_the_learning_curves(kb, context) -> None:
    agreement = RankAgreement.from_knowledge_base(kb)
    assert "learning curves" in agreement.source
    quarter = agreement.by_fraction[-2]
    sixteenth = agreement.by_fraction[-4]
    assert 0.75 < quarter < 0.95 and 0.6 < sixteenth < quarter  # LCDB: ~0.84 and ~0.71
    stages = SuccessiveHalving(min_rank_agreement=0.75).rungs(40000, context)
    assert len(stages) >= 3
    assert all(s.rank_agreement >= 0.75 for s in stages)


# -- optimizers ------------------------------------------------------------------------------
OPTIMIZERS = [lambda: OptunaOptimizer("tpe", n_startup_trials=3), lambda: OptunaOptimizer("random")]


def _drive(make, space, context, initial, steps: int = 12) -> list[str]:
    optimizer = make()
    optimizer.start(space, context, initial)
    sequence = []
    for step in range(steps):
        proposal = optimizer.ask()
        assert proposal is not None
        sequence.append(proposal.candidate.pipeline_id)
        outcome = [
            Outcome("complete", 0.5 + 0.01 * step, ((0, 0.5 + 0.01 * step),)),
            Outcome("pruned", None, ((0, 0.4),)),
            Outcome("failed"),
        ][step % 3]
        optimizer.tell(proposal, outcome)
    return sequence


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["tpe", "random"])
def test_optimizer_contract(make, space, context) -> None:
    initial = WarmStartDesign(size=4).select(space, context)
    sequence = _drive(make, space, context, initial)
    assert sequence[: len(initial)] == [c.pipeline_id for c in initial]
    assert sequence == _drive(make, space, context, initial), "same seed, same candidates"
    optimizer = make()
    optimizer.start(space, context, ())
    for _ in range(5):
        proposal = optimizer.ask()
        candidate = proposal.candidate
        assert candidate.origin == "optimizer"
        assert space.config_of(candidate.spec) is not None  # inside the space
        optimizer.tell(proposal, Outcome("complete", 0.5, ((0, 0.5),)))


# -- constraints -----------------------------------------------------------------------------
def test_unsatisfiable_constraints_fail_before_any_work(credit_g: Dataset) -> None:
    started = time.perf_counter()
    with pytest.raises(SearchError, match="no estimator satisfies include=knn and interpretable"):
        cruise_control(credit_g, include=["knn"], interpretable=True, budget="10s", record=False)
    with pytest.raises(SearchError, match="is not among the estimators searched"):
        cruise_control(
            credit_g,
            include=["lightgbm"],
            pinned={"RandomForestClassifier.n_estimators": 10},
            budget="10s",
            record=False,
        )
    with pytest.raises(SearchError, match="not valid"):
        cruise_control(
            credit_g, pinned={"RandomForestClassifier.criterion": "coin-toss"}, record=False
        )
    with pytest.raises(SearchError, match="scaling"):
        cruise_control(credit_g, pinned={"TabularPreprocessor.scaling": "sideways"}, record=False)
    with pytest.raises(SearchError, match="must be positive"):
        cruise_control(credit_g, max_fit_seconds=0, record=False)
    with pytest.raises(Exception, match="unknown famil"):
        cruise_control(credit_g, include=["quantum_forest"], record=False)
    assert time.perf_counter() - started < 5


def test_pins_leave_the_tuned_space_and_reach_every_spec() -> None:
    space, cuts = constrained_space(
        "binary",
        Constraints(
            include=("random_forest",),
            pinned=(
                ("RandomForestClassifier.max_features", 0.5),
                ("TabularPreprocessor.numeric_imputation", "mean"),
            ),
        ),
    )
    forest = space.estimator("RandomForestClassifier")
    assert "max_features" not in forest.names and dict(forest.fixed)["max_features"] == 0.5
    spec = space.spec_for("RandomForestClassifier", forest.defaults())
    assert spec.estimator.param_dict["max_features"] == 0.5
    assert spec.steps[0].param_dict["numeric_imputation"] == "mean"
    assert {c.target for c in cuts if c.source == "constraint"} >= {
        "RandomForestClassifier.max_features",
        "ExtraTreesClassifier",
    }


def test_an_overrunning_first_stage_gets_a_smaller_one_in_front(credit_g: Dataset) -> None:
    from mile_meta.search._stages import StagePlan as _Plan

    stages = FullFidelity().rungs(len(credit_g.frame), None)  # type: ignore[arg-type]
    plan = _Plan.build(stages, credit_g, seed=0, cv=3)
    assert plan.rows == {0: None}
    smaller = plan.shrink()
    assert smaller is not None and smaller.rows == 250
    assert [s.rows for s in plan.stages] == [250, 1000] and [s.rung for s in plan.stages] == [0, 1]
    assert len(plan.rows[0]) >= 250 and plan.rows[1] is None
    counts = credit_g.target.iloc[plan.rows[0]].value_counts()
    assert counts.min() >= 3  # every class can be split into the folds
    assert plan.shrink() is None  # 62 rows would be below the floor
