"""What a result depends on invalidates it: data, target, folds, library versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mile_meta.cli import main
from mile_meta.data import Dataset, load_dataset
from mile_meta.evaluate import evaluate_pipeline
from mile_meta.pipelines import make_spec
from mile_meta.reuse import ReuseStore, incremental_for

FOREST = make_spec("RandomForestClassifier", {"n_estimators": 10})


def test_a_changed_input_reuses_nothing(
    credit_small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReuseStore()
    first = evaluate_pipeline(FOREST, credit_small, cv=3, cache=store)
    assert evaluate_pipeline(FOREST, credit_small, cv=3, cache=store).reused_folds == 3

    # the data file: one value changed
    path = tmp_path / "data.csv"
    frame = credit_small.frame.assign(**{"class": credit_small.target})
    frame.loc[0, "duration"] = int(frame.loc[0, "duration"]) + 1
    frame.to_csv(path, index=False)
    edited = load_dataset(path, "class")
    changed = evaluate_pipeline(FOREST, edited, cv=3, cache=store)
    assert (changed.reused_folds, changed.cached_folds, changed.reused_stages) == (0, 0, 0)

    # the target: same frame, another column predicted
    other_target = Dataset(
        name="credit-g-300",
        frame=credit_small.frame.drop(columns=["own_telephone"]).assign(
            **{"class": credit_small.target}
        ),
        target=credit_small.frame["own_telephone"],
        task_type="binary",
    )
    assert evaluate_pipeline(FOREST, other_target, cv=3, cache=store).reused_stages == 0

    # the folds: another number of folds, another seed
    assert evaluate_pipeline(FOREST, credit_small, cv=4, cache=store).reused_stages == 0
    assert evaluate_pipeline(FOREST, credit_small, cv=3, seed=1, cache=store).reused_stages == 0

    # a library upgrade: the core environment, or the estimator's own library
    import mile_meta.reuse._plan as plan_module

    real = plan_module.environment_token()
    monkeypatch.setattr(plan_module, "environment_token", lambda: (*real[:-1], "joblib=99"))
    assert evaluate_pipeline(FOREST, credit_small, cv=3, cache=store).reused_stages == 0
    monkeypatch.setattr(plan_module, "environment_token", lambda: real)
    monkeypatch.setattr(plan_module, "component_version", lambda path: "sklearn=99")
    assert evaluate_pipeline(FOREST, credit_small, cv=3, cache=store).reused_stages == 0
    monkeypatch.undo()
    assert (
        evaluate_pipeline(FOREST, credit_small, cv=3, cache=store).fold_scores == first.fold_scores
    )


@pytest.mark.parametrize(
    ("estimator", "extra"),
    [
        ("RandomForestClassifier", {}),
        ("ExtraTreesClassifier", {"max_features": 0.5}),
        ("GradientBoostingClassifier", {"subsample": 0.7}),
        ("LGBMClassifier", {"n_jobs": 1}),
    ],
)
def test_resized_ensembles_equal_fresh_fits(
    estimator: str, extra: dict[str, object], credit: Dataset
) -> None:
    store = ReuseStore()
    sizes = [20, 35, 10] if estimator != "GradientBoostingClassifier" else [20, 35]
    resized = 0
    for n_estimators in sizes:
        spec = make_spec(estimator, {"n_estimators": n_estimators, **extra})
        for metric in ("balanced_accuracy", "area_under_roc_curve"):
            reused = evaluate_pipeline(spec, credit, cv=3, cache=store, metric=metric)
            fresh = evaluate_pipeline(spec, credit, cv=3, metric=metric)
            assert reused.fold_scores == fresh.fold_scores
            resized += reused.resized_fits if metric == "balanced_accuracy" else 0
    assert resized == 3 * (len(sizes) - 1)  # every size after the first came from a resize


def test_what_cannot_be_resized_exactly_is_refitted() -> None:
    subsampled = make_spec("LGBMClassifier", {"subsample": 0.7, "subsample_freq": 1})
    resizable = incremental_for(subsampled.estimator)
    assert resizable is not None and resizable.can_shrink and not resizable.can_grow
    assert incremental_for(make_spec("LGBMClassifier", {"boosting_type": "dart"}).estimator) is None
    assert incremental_for(make_spec("HistGradientBoostingClassifier").estimator) is None
    early = make_spec("GradientBoostingClassifier", {"n_iter_no_change": 5})
    assert incremental_for(early.estimator) is None


def test_search_worker_reuses_between_candidates(credit_small: Dataset) -> None:
    from mile_meta.search._worker import CandidateRunner, EvaluateTask

    rows = np.arange(0, 300, 2)
    with CandidateRunner(credit_small) as runner:
        task = EvaluateTask(FOREST, "balanced_accuracy", 3, 0, rows)
        first = runner.run(task, timeout_seconds=120)
        second = runner.run(task, timeout_seconds=120)
        other = runner.run(
            EvaluateTask(make_spec("ExtraTreesClassifier"), "balanced_accuracy", 3, 0, rows),
            timeout_seconds=120,
        )
    assert first.status == second.status == other.status == "ok"
    # the worker replies with a CrossValidation (the result and its out-of-fold predictions)
    first_result, second_result = first.value.result, second.value.result
    assert first_result.reused_folds == 0 and second_result.reused_folds == 3
    assert other.value.result.cached_folds == 3
    assert second_result.fold_scores == first_result.fold_scores


def test_cache_command_and_no_cache(
    credit_small: Dataset, tmp_path: Path, private_cache: Path
) -> None:
    path = tmp_path / "credit.csv"
    credit_small.frame.assign(**{"class": credit_small.target}).to_csv(path, index=False)
    runner = CliRunner()
    args = ["evaluate", str(path), "--target", "class", "--pipeline", "RandomForestClassifier"]
    args += ["--cv", "3", "--no-record", "--json"]
    kept = runner.invoke(main, [*args, "--no-cache"])
    assert kept.exit_code == 0, kept.output
    empty = runner.invoke(main, ["cache", "info", "--json"])
    assert empty.exit_code == 0 and '"entries": 0' in empty.output
    for _ in range(2):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    assert '"cached_folds": 3' in result.output
    shown = runner.invoke(main, ["cache", "info", "--json"])
    assert '"entries": 0' not in shown.output and str(private_cache) in shown.output
    cleared = runner.invoke(main, ["cache", "clear"])
    assert cleared.exit_code == 0 and "freed" in cleared.output
    assert '"entries": 0' in runner.invoke(main, ["cache", "info", "--json"]).output
