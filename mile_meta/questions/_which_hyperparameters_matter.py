"""``which_hyperparameters_matter``: importance from the spread of a family's configurations.

On each nearest dataset, the family's evaluated configurations (Oboe's grid: e.g. 28 gradient
boosting, 30 random forest, 36 kernel SVM settings; auto-sklearn's where evaluated there too)
give a score per configuration. The variance of those scores that one hyperparameter explains
on its own (one-way ANOVA: the variance of the per-value means, weighted by how many
configurations share each value, over the total variance) is its main effect there, as in
functional ANOVA's marginals over the observed configurations. Main effects are averaged over
the datasets; a hyperparameter's importance is its share of the family's summed main effects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mile_meta.pipelines import PipelineSpec
from mile_meta.questions._base import Answer, AnswerEvidence, CannotAnswer, Question
from mile_meta.questions._context import QuestionContext
from mile_meta.questions._text import family_label, listing, number, percent

__all__ = ["ConfigurationScore", "HyperparameterImportance", "WhichHyperparametersMatter"]

MIN_CONFIGURATIONS = 3
"""Configurations of a family a dataset must have for its spread to say anything."""

_DEFAULT = "(default)"


@dataclass(frozen=True)
class HyperparameterImportance:
    """How much one hyperparameter of a family moves the score on data like the user's.

    ``importance`` is the share of the family's summed main effects (sums to 1 over the
    family's hyperparameters); ``variance_explained`` is the fraction of the score variance
    across configurations this hyperparameter explains alone, averaged over ``n_datasets``
    nearest datasets; ``best_value`` scored best on average (per-dataset min-max scaling).
    """

    family: str
    hyperparameter: str
    importance: float
    variance_explained: float
    best_value: str
    values: tuple[str, ...]
    n_datasets: int
    n_configurations: int


@dataclass(frozen=True)
class ConfigurationScore:
    """One configuration's stored result on one nearest dataset."""

    family: str
    dataset_id: str
    source: str
    pipeline_id: str
    value: float


def hyperparameters_of(spec_json: str) -> dict[str, str]:
    """``{name: value}`` of a pipeline's settings, as text; preprocessing ones are prefixed
    with their step (``TabularPreprocessor.scaling``)."""
    spec = PipelineSpec.from_json(spec_json)
    settings: dict[str, str] = {}
    for step in spec.preprocessing:
        for name, value in step.params:
            settings[f"{step.component}.{name}"] = str(value)
    for name, value in spec.estimator.params:
        settings[name] = str(value)
    return settings


@dataclass
class _Effects:
    """Per hyperparameter of one family: main effects and value standings over datasets."""

    fractions: dict[str, list[float]]
    standings: dict[str, dict[str, list[float]]]
    ranges: list[float]
    configurations: set[str]
    datasets: set[str]


def _family_effects(scores: pd.DataFrame) -> _Effects:
    """``scores``: one family's rows (dataset_id, source, pipeline_id, value, oriented,
    spec_json) on the nearest datasets."""
    effects = _Effects(defaultdict(list), defaultdict(lambda: defaultdict(list)), [], set(), set())
    settings = {
        pipeline_id: hyperparameters_of(spec_json)
        for pipeline_id, spec_json in scores[["pipeline_id", "spec_json"]].drop_duplicates().values
    }
    for (dataset_id, _source), group in scores.groupby(["dataset_id", "source"]):
        if len(group) < MIN_CONFIGURATIONS:
            continue
        oriented = group["oriented"].to_numpy(dtype=float)
        total = float(np.var(oriented))
        if not np.isfinite(total) or total <= 1e-12:
            continue  # every configuration scored the same: nothing to attribute
        table = pd.DataFrame([settings[p] for p in group["pipeline_id"]], index=group.index).fillna(
            _DEFAULT
        )
        scaled = (oriented - oriented.min()) / (oriented.max() - oriented.min())
        effects.ranges.append(
            float(np.quantile(group["value"], 0.9) - np.quantile(group["value"], 0.1))
        )
        effects.configurations.update(group["pipeline_id"])
        effects.datasets.add(str(dataset_id))
        for name in table.columns:
            values = table[name].astype(str)
            if values.nunique() < 2:
                continue
            means = pd.Series(oriented, index=group.index).groupby(values).mean()
            counts = values.value_counts().reindex(means.index)
            between = float((counts * (means - oriented.mean()) ** 2).sum() / len(oriented))
            effects.fractions[name].append(min(between / total, 1.0))
            for value, standing in (
                pd.Series(scaled, index=group.index).groupby(values).mean().items()
            ):
                effects.standings[name][str(value)].append(float(standing))
    return effects


class WhichHyperparametersMatter(Question):
    id = "which_hyperparameters_matter"
    title = "Which hyperparameters of the candidate families matter on data like this?"

    def _answer(self, context: QuestionContext) -> Answer:
        from mile_meta.ranking import KNOWLEDGE_BASE_METRICS

        report = context.report
        nearest = context.nearest_datasets()
        dataset_ids = [d.dataset_id for d in nearest]
        families = context.families()
        stored_metrics = [m for m, _ in KNOWLEDGE_BASE_METRICS.get(report.metric, ())]
        parts = []
        for stored in stored_metrics:
            frame = context.evaluations(stored)
            frame = frame[frame["dataset_id"].isin(dataset_ids) & frame["family"].isin(families)]
            if not frame.empty:
                higher = frame["higher_is_better"].astype(bool)
                parts.append(
                    frame.assign(
                        oriented=frame["value"].where(higher, -frame["value"]),
                        value=context.to_user_metric(frame["value"], stored),
                        metric=stored,
                    )
                )
        if not parts:
            raise CannotAnswer(
                f"no configurations of {listing(family_label(f) for f in families)} were "
                "evaluated on the nearest datasets"
            )
        scores = pd.concat(parts, ignore_index=True)
        rows: list[HyperparameterImportance] = []
        sentences = []
        used_datasets: set[str] = set()
        used_pipelines: set[str] = set()
        for family in families:
            effects = _family_effects(scores[scores["family"] == family])
            mean_effects = {name: float(np.mean(v)) for name, v in effects.fractions.items()}
            total = sum(mean_effects.values())
            if total <= 0:
                continue
            used_datasets |= effects.datasets
            used_pipelines |= effects.configurations
            family_rows = sorted(
                (
                    HyperparameterImportance(
                        family=family,
                        hyperparameter=name,
                        importance=effect / total,
                        variance_explained=effect,
                        best_value=_best_value(effects.standings[name]),
                        values=tuple(sorted(effects.standings[name], key=_value_order)),
                        n_datasets=len(effects.fractions[name]),
                        n_configurations=len(effects.configurations),
                    )
                    for name, effect in mean_effects.items()
                ),
                key=lambda row: -row.importance,
            )
            rows.extend(family_rows)
            sentences.append(_family_sentence(family_rows, effects, total, report.metric))
        if not rows:
            raise CannotAnswer(
                f"no family among {listing(family_label(f) for f in families)} has "
                f"{MIN_CONFIGURATIONS} or more differently scoring configurations on the "
                "nearest datasets"
            )
        summary = (
            f"On the {len(used_datasets)} knowledge-base datasets nearest to "
            f"{context.describe_dataset()}. " + " ".join(sentences)
        )
        points = tuple(
            ConfigurationScore(
                str(row.family),
                str(row.dataset_id),
                str(row.source),
                str(row.pipeline_id),
                float(row.value),
            )
            for row in scores.itertuples()
            if row.pipeline_id in used_pipelines and row.dataset_id in used_datasets
        )
        evidence = AnswerEvidence(
            datasets=tuple(d for d in nearest if d.dataset_id in used_datasets),
            pipelines=tuple(sorted(used_pipelines)),
            sources=tuple(sorted({p.source for p in points})),
            metric=report.knowledge_base_metric,
            points=points,
        )
        method = (
            "Per nearest dataset (and source), the fraction of the variance of the family's "
            "configuration scores explained by each hyperparameter alone (one-way ANOVA "
            "between-value variance over total variance), averaged over the datasets; "
            "importance = that fraction over the family's sum. Best value: highest mean "
            "min-max-scaled score. Evidence values are in the user's metric."
        )
        return self.answered(summary, tuple(rows), evidence, method)


def _best_value(standings: dict[str, list[float]]) -> str:
    return max(standings, key=lambda value: (float(np.mean(standings[value])), value))


def _value_order(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order first, then words."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _family_sentence(
    rows: list[HyperparameterImportance], effects: _Effects, total: float, metric: Any
) -> str:
    name = family_label(rows[0].family).capitalize()
    first, rest = rows[0], rows[1:]
    text = (
        f"{name} ({len(effects.configurations)} configurations, scores spanning "
        f"{number(float(np.median(effects.ranges)))} {str(metric).replace('_', ' ')} between "
        f"the 10th and 90th percentile): {first.hyperparameter} matters most "
        f"({percent(first.importance)} of the explained variance, best {first.best_value})"
    )
    if rest:
        text += ", then " + listing(
            f"{row.hyperparameter} ({percent(row.importance)}, best {row.best_value})"
            for row in rest
        )
    return (
        f"{text}; main effects alone explain {percent(min(total, 1.0))} of the spread, "
        "the rest is interactions and noise."
    )
