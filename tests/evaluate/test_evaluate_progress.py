"""An evaluation reports each fold as it finishes (what the workbench shows live)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mile_meta.data import load_dataset
from mile_meta.errors import MileMetaError
from mile_meta.evaluate import FoldCache, evaluate_pipeline
from mile_meta.pipelines import PipelineSpec, Step

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "mile_meta" / "resources" / "corpora" / "examples" / "credit-g.csv"


@pytest.mark.parametrize("cache", [None, "memory"])
def test_progress_is_called_once_per_fold_with_the_running_mean(cache: str | None) -> None:
    dataset = load_dataset(EXAMPLE, "class")
    calls: list[tuple[int, int, float]] = []
    result = evaluate_pipeline(
        "DecisionTreeClassifier",
        dataset,
        cv=4,
        cache=FoldCache() if cache else None,
        progress=lambda done, total, mean: calls.append((done, total, mean)),
    )
    assert [done for done, _, _ in calls] == [1, 2, 3, 4]
    assert {total for _, total, _ in calls} == {4}
    # each call's score is the mean of the folds finished so far; the last is the result's
    for done, _, mean in calls:
        assert mean == pytest.approx(np.mean(result.fold_scores[:done]))
    assert calls[-1][2] == pytest.approx(result.mean)


def test_no_progress_call_for_a_fold_that_failed() -> None:
    dataset = load_dataset(EXAMPLE, "class")
    spec = PipelineSpec(
        (Step("TabularPreprocessor", ()), Step("LogisticRegression", (("C", -1.0),)))
    )
    calls: list[int] = []
    with pytest.raises(MileMetaError, match="failed on fold 1 of 3"):
        evaluate_pipeline(
            spec, dataset, cv=3, progress=lambda done, total, mean: calls.append(done)
        )
    assert calls == []
