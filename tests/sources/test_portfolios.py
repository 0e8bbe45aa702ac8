"""The portfolio sources (AutoGluon, FLAML, auto-sklearn 2.0) and the warm-start reader."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mile_meta.errors import CorpusError, MileMetaError
from mile_meta.kb import KnowledgeBase, build_knowledge_base, portfolio_positions
from mile_meta.pipelines import COMPONENTS, PipelineSpec
from mile_meta.sources import available_sources, portfolio_sources, snapshot_writers
from mile_meta.sources.autogluon_portfolio import (
    AutoGluonPortfolioSource,
    autogluon_fit_order,
    write_autogluon_snapshot,
)
from mile_meta.sources.autosklearn2_portfolio import (
    AutoSklearn2PortfolioSource,
    write_autosklearn2_snapshot,
)
from mile_meta.sources.flaml_portfolio import FlamlPortfolioSource, write_flaml_snapshot
from mile_meta.sources.portfolios import (
    PORTFOLIO_SOURCES,
    portfolio_candidates,
    portfolio_configurations,
)
from mile_meta.testing import check_source_contract

REPO = Path(__file__).resolve().parents[2]
NAMES = ("autogluon_portfolio", "flaml_portfolio", "autosklearn2_portfolio")


@pytest.fixture(scope="module")
def portfolio_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portfolios") / "kb.sqlite"
    build_knowledge_base(path, list(NAMES))
    return path


# -- the contract and the counts --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_portfolio_source_passes_the_source_contract(name: str) -> None:
    assert name in available_sources() and name in snapshot_writers()
    counts = check_source_contract(portfolio_sources()[name]())
    expected = {
        # 3 task types; 110 configurations, 108 apply to classification and 106 to regression
        "autogluon_portfolio": (3, 108 + 108 + 106),
        # 333 training datasets over 18 files, one rank per configuration each ranks
        "flaml_portfolio": (333, 2563),
        # 3 metrics x 8 policies, 32 configurations each
        "autosklearn2_portfolio": (24, 24 * 32),
    }[name]
    assert (counts["datasets"], counts["evaluations"]) == expected


def test_autogluon_portfolio_holds_110_configurations_in_autogluon_fit_order() -> None:
    source = AutoGluonPortfolioSource()
    portfolio, priorities = source._payload()
    assert sum(len(v) for v in portfolio.values()) == 110
    assert priorities["GBM"]["default"] == 90 and priorities["FASTAI"]["multiclass"] == 95
    binary = autogluon_fit_order(portfolio, priorities, "binary")
    keys = [model for model, _ in binary]
    # model defaults first (LightGBM 90, RF 80, CatBoost 70, XT 60, FastAI 50, XGBoost 40, ...)
    assert keys[:10] == ["GBM", "GBM", "RF", "RF", "CAT", "XT", "XT", "FASTAI", "XGB", "NN_TORCH"]
    # then the learned configurations in their greedy order: priority -1, -2, ...
    learned = [
        c["ag_args"]["priority"] for _, c in binary if c.get("ag_args", {}).get("priority", 0) < 0
    ]
    assert learned == sorted(learned, reverse=True) and learned[0] == -1
    # FastAI goes first for multiclass, and regression forests use squared error only
    assert autogluon_fit_order(portfolio, priorities, "multiclass")[0][0] == "FASTAI"
    regression = autogluon_fit_order(portfolio, priorities, "regression")
    assert len(regression) == 106
    assert {c["criterion"] for m, c in regression if m in ("RF", "XT") and "criterion" in c} == {
        "squared_error"
    }


def _translation_counts(name: str) -> dict[str, int]:
    distinct = {}
    for slot in portfolio_sources()[name]().slots():
        distinct.setdefault(slot.origin_key, slot.translation)
    counts = {"exact": 0, "approximate": 0, "not translated": 0}
    for translation in distinct.values():
        if translation.spec is None:
            counts["not translated"] += 1
        else:
            counts["exact" if translation.exact else "approximate"] += 1
    return counts


def test_translation_shares_are_those_docs_portfolios_reports() -> None:
    docs = (REPO / "docs" / "portfolios.md").read_text()
    # per configuration and learner kind (classifier / regressor), as docs/portfolios.md counts
    assert _translation_counts("autogluon_portfolio") == {
        "exact": 34,
        "approximate": 92,
        "not translated": 88,
    }
    assert _translation_counts("flaml_portfolio") == {
        "exact": 168,
        "approximate": 0,
        "not translated": 0,
    }
    assert _translation_counts("autosklearn2_portfolio") == {
        "exact": 33,
        "approximate": 523,
        "not translated": 0,
    }
    for figure in ("| 34 | 92 | 88 |", "| 168 | 0 | 0 |", "| 33 | 523 | 0 |"):
        assert figure in docs


@pytest.mark.parametrize("name", NAMES)
def test_every_translated_configuration_builds(name: str) -> None:
    from mile_meta.pipelines import build_pipeline

    specs = {
        slot.translation.spec.pipeline_id: slot.translation.spec
        for slot in portfolio_sources()[name]().slots()
        if slot.translation.spec is not None
    }
    for spec in specs.values():
        assert PipelineSpec.from_json(spec.to_json()) == spec
        pipeline = build_pipeline(spec)  # checks every hyperparameter name against the class
        model = pipeline.steps[-1][1]
        if hasattr(model, "_parameter_constraints"):
            model._validate_params()  # scikit-learn checks the values without fitting


def test_portfolio_configurations_fit_on_real_data() -> None:
    from sklearn.datasets import load_breast_cancer, load_diabetes

    from mile_meta.pipelines import build_pipeline

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[::4, :10], y.iloc[::4]
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    for task, data, target in (("binary", X, y), ("regression", Xr, yr)):
        candidates = portfolio_candidates(task, {"NumberOfInstances": len(data)}, limit=9)
        assert {c.source for c in candidates} == (
            set(PORTFOLIO_SOURCES) if task == "binary" else set(PORTFOLIO_SOURCES[:2])
        )
        for candidate in candidates:
            spec = candidate.spec
            rounds = next(
                (k for k in ("n_estimators", "iterations") if k in spec.estimator.param_dict), None
            )
            if rounds is not None:  # fewer rounds: this checks fitting, not accuracy
                spec = spec.with_estimator_params(**{rounds: 10})
            fitted = build_pipeline(spec).fit(data, target)
            assert fitted.predict(data.iloc[:5]).shape == (5,)


# -- in the knowledge base --------------------------------------------------------------------


def test_positions_read_back_from_the_knowledge_base(portfolio_kb: Path) -> None:
    with KnowledgeBase.open(portfolio_kb) as kb:
        stats = kb.stats()
        assert {s["name"] for s in stats.sources} == set(NAMES)
        sources = {s["name"]: s for s in stats.sources}
        assert sources["flaml_portfolio"]["version"] == "2.8.0"
        files = dict(sources["autogluon_portfolio"]["files"])
        assert all(len(digest) == 64 for digest in files.values())
        assert "autogluon.tabular-1.4.0-py3-none-any.whl" in files
        binary = portfolio_positions(kb, sources=["autogluon_portfolio"], task_type="binary")
        assert [p.rank for p in binary] == list(range(1, 109))
        assert binary[0].origin_key == "GBMXT/classifier" and binary[0].runnable
        network = next(p for p in binary if p.origin_key.startswith("NN_TORCH"))
        assert not network.runnable and '"model":"NN_TORCH"' in network.spec_json
        # auto-sklearn 2.0's portfolios are classification ones: none for regression
        assert not portfolio_positions(
            kb, sources=["autosklearn2_portfolio"], task_type="regression"
        )
        assert (
            len(portfolio_positions(kb, sources=["autosklearn2_portfolio"], task_type="binary"))
            == 768
        )
        # the FLAML training datasets carry their meta-features in OpenML units
        qualities = kb.qualities_frame(sources=["flaml_portfolio"])
        assert qualities.shape == (333, 4)
        assert qualities["PercentageOfNumericFeatures"].between(0, 100).all()
        assert (qualities["NumberOfInstances"] > 100).all()


def test_the_knowledge_base_and_the_snapshot_give_the_same_warm_start(portfolio_kb: Path) -> None:
    features = {"NumberOfInstances": 4000, "NumberOfFeatures": 12, "NumberOfClasses": 2}
    with KnowledgeBase.open(portfolio_kb) as kb:
        for task in ("binary", "multiclass", "regression"):
            from_kb = portfolio_configurations(task, features, kb, metric="roc_auc")
            from_snapshot = portfolio_configurations(task, features, None, metric="roc_auc")
            assert from_kb == from_snapshot and len(from_kb) > 40
            assert len({spec.pipeline_id for spec in from_kb}) == len(from_kb)
            kind = "regressor" if task == "regression" else "classifier"
            assert all(COMPONENTS[s.estimator.component].kind == kind for s in from_kb)


def test_candidates_take_turns_and_keep_each_source_order() -> None:
    candidates = portfolio_candidates("binary", {"NumberOfInstances": 500}, limit=30)
    assert [c.source for c in candidates[:3]] == list(PORTFOLIO_SOURCES)
    for source in PORTFOLIO_SOURCES:
        ranks = [c.rank for c in candidates if c.source == source]
        assert ranks == sorted(ranks)
    assert candidates[0].describe() == "AutoGluon zero-shot portfolio #1 (GBMXT/classifier)"
    # the policy follows the search's cross-validation: 5 folds up to 1000 rows
    assert candidates[2].portfolio == "balanced_accuracy/RF_SH-eta4-i_5CV_iterative_es_if"
    only = portfolio_configurations("binary", sources=["flaml_portfolio"], limit=5)
    assert len(only) == 5


def _flaml_suggestion_by_hand(document: dict, features: list[float]) -> int:
    """FLAML's own rule, written from its file: normalise, one nearest neighbour."""
    point = (np.array(features) - document["preprocessing"]["center"]) / np.array(
        document["preprocessing"]["scale"]
    )
    table = np.array([n["features"] for n in document["neighbors"]])
    nearest = int(np.argmin(((table - point) ** 2).sum(axis=1)))
    return int(document["neighbors"][nearest]["choice"][0])


@pytest.mark.parametrize(
    ("task", "features"),
    [
        ("binary", [1000, 20, 2, 0.35]),
        ("binary", [250_000, 7, 2, 1.0]),
        ("multiclass", [3000, 60, 10, 1.0]),
        ("regression", [20_000, 9, 0, 0.9]),
    ],
)
def test_flaml_pick_follows_flaml_nearest_neighbour_rule(task: str, features: list[float]) -> None:
    documents = FlamlPortfolioSource().documents()
    document = documents[f"all/{task}"]
    first = _flaml_suggestion_by_hand(document, features)
    meta = dict(
        zip(("NumberOfInstances", "NumberOfFeatures", "NumberOfClasses"), features[:3], strict=True)
    )
    meta["PercentageOfNumericFeatures"] = features[3] * 100
    flaml = [c for c in portfolio_candidates(task, meta) if c.source == "flaml_portfolio"]
    assert flaml[0].rank == 1 and flaml[0].origin_key == f"all/{task}#{first}"


def test_bad_requests_are_one_line_errors() -> None:
    with pytest.raises(MileMetaError, match="unknown task type 'clustering'"):
        portfolio_configurations("clustering")
    with pytest.raises(
        MileMetaError, match="unknown portfolio source h2o; use autogluon_portfolio"
    ):
        portfolio_configurations("binary", sources=["h2o"])


# -- snapshot writers and broken snapshots ----------------------------------------------------


def _fake_packages(tmp_path: Path) -> dict[str, Path]:
    autogluon = tmp_path / "autogluon.tabular-1.4.0"
    zeroshot = autogluon / "autogluon" / "tabular" / "configs" / "zeroshot"
    zeroshot.mkdir(parents=True)
    (zeroshot / "zeroshot_portfolio_2023.py").write_text(
        "# learned\nhyperparameter_portfolio_zeroshot_2023 = {\n"
        '    "GBM": [{}, {"learning_rate": 0.1, "ag_args": {"name_suffix": "_r1", "priority": -1}}],\n'
        '    "RF": [{"criterion": "gini", "ag_args": {"name_suffix": "Gini", '
        '"problem_types": ["binary", "multiclass"]}}],\n'
        "}\n"
    )
    models = autogluon / "autogluon" / "tabular" / "models"
    for relative, key, priority in (
        ("lgb/lgb_model.py", "GBM", 90),
        ("catboost/catboost_model.py", "CAT", 70),
        ("xgboost/xgboost_model.py", "XGB", 40),
        ("rf/rf_model.py", "RF", 80),
        ("xt/xt_model.py", "XT", 60),
        ("tabular_nn/torch/tabular_nn_torch.py", "NN_TORCH", 25),
        ("fastainn/tabular_nn_fastai.py", "FASTAI", 50),
    ):
        path = models / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'class Model:\n    ag_key = "{key}"\n    ag_priority = {priority}\n'
            "    ag_priority_by_problem_type = MappingProxyType({MULTICLASS: 95})\n"
        )
    flaml = tmp_path / "flaml-2.8.0"
    for folder in ("all", "lgbm", "xgboost", "xgb_limitdepth", "rf", "extra_tree"):
        for task in ("binary", "multiclass", "regression"):
            path = flaml / "flaml" / "default" / folder / f"{task}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            document = {
                "version": "1.0.2",
                "meta_feature_names": [
                    "NumberOfInstances",
                    "NumberOfFeatures",
                    "NumberOfClasses",
                    "PercentageOfNumericFeatures",
                ],
                "portfolio": [
                    {"class": "rf", "hyperparameters": {"n_estimators": 10, "max_leaves": 8}},
                    {"class": "lgbm", "hyperparameters": {"n_estimators": 5, "log_max_bin": 4}},
                ],
                "preprocessing": {"center": [100.0, 5.0, 2.0, 1.0], "scale": [10.0, 1.0, 1.0, 1.0]},
                "neighbors": [{"features": [1.0, 0.0, 0.0, -0.5], "choice": [1, 0]}],
                "configsource": ["rf/a", "lgbm/b"],
            }
            path.write_text(json.dumps(document))
    askl2 = tmp_path / "auto-sklearn-0.15.0"
    config = {
        "balancing:strategy": "none",
        "classifier:__choice__": "random_forest",
        "classifier:random_forest:bootstrap": "True",
        "classifier:random_forest:criterion": "gini",
        "classifier:random_forest:max_depth": "None",
        "classifier:random_forest:max_features": 0.5,
        "classifier:random_forest:max_leaf_nodes": "None",
        "classifier:random_forest:min_impurity_decrease": 0.0,
        "classifier:random_forest:min_samples_leaf": 1,
        "classifier:random_forest:min_samples_split": 2,
        "classifier:random_forest:min_weight_fraction_leaf": 0.0,
        "data_preprocessor:__choice__": "feature_type",
        "feature_preprocessor:__choice__": "no_preprocessing",
    }
    for metric in ("balanced_accuracy", "roc_auc", "log_loss"):
        for schedule in ("None", "SH-eta4-i"):
            for evaluation in ("holdout", "3CV", "5CV", "10CV"):
                path = (
                    askl2
                    / "auto-sklearn-0.15.0"
                    / "autosklearn"
                    / "experimental"
                    / metric
                    / "askl2_portfolios"
                    / f"RF_{schedule}_{evaluation}_iterative_es_if.json"
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(
                    json.dumps({"portfolio": {"b": config, "a": config}, "config_to_task": {}})
                )
    return {
        "autogluon_portfolio": autogluon,
        "flaml_portfolio": flaml,
        "autosklearn2_portfolio": askl2,
    }


def test_snapshot_writers_are_deterministic_and_read_back(tmp_path: Path) -> None:
    packages = _fake_packages(tmp_path / "packages")
    writers = {
        "autogluon_portfolio": write_autogluon_snapshot,
        "flaml_portfolio": write_flaml_snapshot,
        "autosklearn2_portfolio": write_autosklearn2_snapshot,
    }
    for name, writer in writers.items():
        one, two = tmp_path / "one" / name, tmp_path / "two" / name
        originals = writer(packages[name], one)
        assert writer(packages[name], two) == originals
        assert all(len(digest) == 64 for digest in originals.values())
        for file in one.iterdir():
            assert file.read_bytes() == (two / file.name).read_bytes()
        shutil.copy(REPO / "corpora" / name / "PROVENANCE.json", one / "PROVENANCE.json")
    autogluon = AutoGluonPortfolioSource(tmp_path / "one" / "autogluon_portfolio")
    binary = [s for s in autogluon.slots() if s.task_type == "binary"]
    # default GBM (90) > RF Gini (80) > learned GBM (-1)
    assert [s.origin_key for s in binary] == [
        "GBM/classifier",
        "RFGini/classifier",
        "GBM_r1/classifier",
    ]
    assert [s.origin_key for s in autogluon.slots() if s.task_type == "regression"] == [
        "GBM/regressor",
        "GBM_r1/regressor",
    ]
    flaml = FlamlPortfolioSource(tmp_path / "one" / "flaml_portfolio")
    first = [s for s in flaml.slots() if s.portfolio == "all/binary/00"]
    assert [(s.rank, s.origin_key) for s in first] == [(1, "all/binary#1"), (2, "all/binary#0")]
    assert first[0].translation.spec.estimator.param_dict["max_bin"] == 15
    assert flaml.qualities()["all/binary/00"] == {
        "NumberOfInstances": 110.0,
        "NumberOfFeatures": 5.0,
        "NumberOfClasses": 2.0,
        "PercentageOfNumericFeatures": 50.0,
    }
    askl2 = AutoSklearn2PortfolioSource(tmp_path / "one" / "autosklearn2_portfolio")
    # the file's order is the ranking, whatever the keys
    assert [s.origin_key for s in askl2.slots()[:2]] == ["b", "a"]


def test_snapshot_writer_needs_the_package_files(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="missing"):
        write_flaml_snapshot(tmp_path, tmp_path / "out")
    with pytest.raises(CorpusError, match="missing"):
        write_autosklearn2_snapshot(tmp_path, tmp_path / "out")


@pytest.mark.parametrize("name", NAMES)
def test_missing_or_corrupt_snapshots_are_clear_errors(tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    shutil.copytree(REPO / "corpora" / name, folder)
    data = next(p for p in folder.iterdir() if p.suffix == ".gz")
    data.write_bytes(b"not gzip")
    source = portfolio_sources()[name](folder)
    with pytest.raises(CorpusError, match="corrupt"):
        next(iter(source.records()))
    with gzip.open(data, "wt") as handle:
        handle.write(json.dumps({"something": "else"}))
    with pytest.raises(CorpusError, match="rebuild the snapshot"):
        next(iter(source.records()))
    data.unlink()
    with pytest.raises(CorpusError, match="missing"):
        source.info()
