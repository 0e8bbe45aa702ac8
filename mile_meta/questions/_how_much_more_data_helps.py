"""``how_much_more_data_helps``: the gain from doubling the data, read off LCDB curves.

LCDB measured each learner's accuracy at training sizes 16, 23, 32, ... (√2 apart) on each of
its datasets. Where a nearest dataset's curve spans the user's row count ``n`` and ``2n``, the
accuracy at both sizes is interpolated linearly in log2(training size) (*measured*). Where the
curve stops between ``n / 2`` and ``2n`` (similar datasets are about as large as the user's, so
this is the common case), the gain of the curve's last doubling up to ``min(n, end)`` is
carried forward as the gain of the next doubling (*carried*): on LCDB this persistence rule
predicts the next doubling's gain without bias and with a smaller error than assuming no gain
(``tests/questions`` checks it). A family's gain on a dataset is the mean over its LCDB
learners; the answer is the median over datasets with its 10th–90th percentile range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import CURVE_METRIC, QuestionContext
from mile_meta.questions._text import family_label, listing, number

__all__ = [
    "CurvePoint",
    "DataGrowthGain",
    "HowMuchMoreDataHelps",
    "accuracy_at",
    "doubling_gain",
]


@dataclass(frozen=True)
class DataGrowthGain:
    """Expected accuracy gain of one family from ``rows_now`` to ``rows_doubled`` rows.

    Accuracies and gains are fractions (0.018 = 1.8 accuracy points): medians over
    ``n_datasets`` nearest datasets, ``gain_low``/``gain_high`` their 10th/90th percentiles;
    ``n_carried`` of the datasets had curves ending before ``rows_doubled``, whose last
    doubling's gain was carried forward.
    """

    family: str
    learners: tuple[str, ...]
    rows_now: int
    rows_doubled: int
    accuracy_now: float
    accuracy_doubled: float
    expected_gain: float
    gain_low: float
    gain_high: float
    n_datasets: int
    n_carried: int


@dataclass(frozen=True)
class CurvePoint:
    """One point of an LCDB learning curve: accuracy (a fraction) at a training size (rows)."""

    dataset_id: str
    learner: str
    family: str
    train_size: int
    accuracy: float


def accuracy_at(curve: pd.DataFrame, rows: float) -> float:
    """Accuracy at ``rows`` training rows, interpolated in log2(size) (NaN outside the curve)."""
    sizes = np.log2(curve["train_size"].to_numpy(dtype=float))
    target = np.log2(rows)
    if target < sizes.min() - 1e-9 or target > sizes.max() + 1e-9:
        return float("nan")
    return float(np.interp(target, sizes, curve["value"].to_numpy(dtype=float)))


def doubling_gain(curve: pd.DataFrame, rows: int) -> tuple[float, float, bool] | None:
    """``(accuracy at rows, accuracy at 2 × rows, carried)`` from one learning curve.

    Measured by interpolation where the curve spans both sizes; else, if the curve ends
    between ``rows / 2`` and ``2 × rows``, its last doubling's gain (up to ``min(rows, end)``)
    carried forward (``carried`` True); None when the curve is too short or starts too late.
    """
    sizes = curve["train_size"]
    smallest, largest = float(sizes.min()), float(sizes.max())
    if smallest <= rows and largest >= 2 * rows:
        return accuracy_at(curve, rows), accuracy_at(curve, 2 * rows), False
    end = min(float(rows), largest)
    if largest >= 2 * rows or end < rows / 2 or smallest > end / 2:
        return None
    at_end = accuracy_at(curve, end)
    return at_end, at_end + at_end - accuracy_at(curve, end / 2), True


def _points(gain: float) -> str:
    return f"{100 * gain:+.1f}"


class HowMuchMoreDataHelps(Question):
    id = "how_much_more_data_helps"
    title = "How much would doubling the data help?"

    def _answer(self, context: QuestionContext) -> Answer:
        curves = context.require_learning_curves()
        nearest = context.nearest_curve_datasets()
        now, doubled = context.n_rows, 2 * context.n_rows
        families = context.families()
        local = curves[
            curves["dataset_id"].isin([d.dataset_id for d in nearest])
            & curves["family"].isin(families)
        ].sort_values("train_size")
        rows: list[DataGrowthGain] = []
        used: list[pd.DataFrame] = []
        missing: list[str] = []
        for family in families:
            per_dataset: dict[str, tuple[float, float, bool]] = {}
            learners: set[str] = set()
            for dataset_id, on_dataset in local[local["family"] == family].groupby("dataset_id"):
                pairs = []
                for _, curve in on_dataset.groupby("pipeline_id"):
                    estimate = doubling_gain(curve, now)
                    if estimate is not None and all(np.isfinite(estimate[:2])):
                        pairs.append(estimate)
                        learners.add(str(curve["learner"].iloc[0]))
                        used.append(curve)
                if pairs:
                    per_dataset[str(dataset_id)] = (
                        float(np.mean([p[0] for p in pairs])),
                        float(np.mean([p[1] for p in pairs])),
                        any(p[2] for p in pairs),
                    )
            if not per_dataset:
                missing.append(family_label(family))
                continue
            before = np.array([v[0] for v in per_dataset.values()])
            after = np.array([v[1] for v in per_dataset.values()])
            gains = after - before
            rows.append(
                DataGrowthGain(
                    family=family,
                    learners=tuple(sorted(learners)),
                    rows_now=now,
                    rows_doubled=doubled,
                    accuracy_now=float(np.median(before)),
                    accuracy_doubled=float(np.median(after)),
                    expected_gain=float(np.median(gains)),
                    gain_low=float(np.quantile(gains, 0.1)),
                    gain_high=float(np.quantile(gains, 0.9)),
                    n_datasets=len(per_dataset),
                    n_carried=sum(1 for v in per_dataset.values() if v[2]),
                )
            )
        if not rows:
            largest = int(local["train_size"].max()) if not local.empty else 0
            raise CannotAnswer(
                f"no LCDB curve of {listing(family_label(f) for f in families)} on the "
                f"{len(nearest)} nearest datasets reaches {now // 2:,} rows, half of yours "
                f"(the largest training size there is {largest:,})"
            )
        sentences = [
            f"Doubling {context.dataset.name} from {now:,} to {doubled:,} rows, judged by the "
            "LCDB learning curves of the nearest datasets:"
        ]
        for row in rows:
            sentences.append(
                f"{family_label(row.family).capitalize()} gains {_points(row.expected_gain)} "
                f"accuracy points (median over {row.n_datasets} datasets, {row.n_carried} of "
                "them from the last doubling of a shorter curve; 10–90 %: "
                f"{_points(row.gain_low)} to {_points(row.gain_high)}); its median accuracy "
                f"at your size is {number(row.accuracy_now)}."
            )
        best = max(rows, key=lambda row: row.expected_gain)
        if best.expected_gain < 0.005:
            sentences.append(
                "Every family is close to its plateau: more rows are unlikely to pay off."
            )
        else:
            sentences.append(f"The curve is steepest for {family_label(best.family)}.")
        if missing:
            sentences.append(f"No usable LCDB curve for {listing(missing)}.")
        curve_rows = pd.concat(used, ignore_index=True) if used else local.iloc[0:0]
        points = tuple(
            CurvePoint(
                str(p.dataset_id),
                str(p.learner),
                str(p.family),
                int(p.train_size),
                float(p.value),
            )
            for p in curve_rows.itertuples()
        )
        used_ids = set(curve_rows["dataset_id"])
        evidence = AnswerEvidence(
            datasets=tuple(d for d in nearest if d.dataset_id in used_ids),
            pipelines=tuple(sorted(set(curve_rows["pipeline_id"]))),
            sources=("lcdb",),
            metric=CURVE_METRIC,
            points=points,
        )
        method = (
            "LCDB accuracy at n and 2n training rows (n = your row count), interpolated "
            "linearly in log2(training size) on each learner's curve; for curves ending "
            "before 2n (but after n/2), the gain of their last doubling up to min(n, end) "
            "carried forward. Per dataset the mean over the family's learners; median and "
            "10th–90th percentile over the nearest datasets."
        )
        return self.answered(" ".join(sentences), tuple(rows), evidence, method)
