"""The contract of a knowledge-base question and the answer it returns."""

from __future__ import annotations

import dataclasses
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from mile_meta.errors import MileMetaError

if TYPE_CHECKING:
    from mile_meta.questions._context import QuestionContext

__all__ = [
    "Answer",
    "AnswerEvidence",
    "CannotAnswer",
    "EvidenceDataset",
    "Question",
]


class CannotAnswer(MileMetaError):
    """This question has no answer for this dataset and knowledge base; the message says why."""


@dataclass(frozen=True)
class EvidenceDataset:
    """A knowledge-base dataset an answer drew on; ``distance`` is the recommender's distance."""

    dataset_id: str
    name: str | None
    distance: float | None
    n_rows: int | None


@dataclass(frozen=True)
class AnswerEvidence:
    """What in the knowledge base an answer was computed from.

    ``metric`` is the stored metric the numbers come from (``None`` for runtimes only);
    ``points`` are the raw knowledge-base numbers behind the table, as frozen rows whose type
    depends on the question (learning-curve points, runtimes, per-dataset correlations...).
    """

    datasets: tuple[EvidenceDataset, ...] = ()
    pipelines: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    metric: str | None = None
    points: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Answer:
    """One question answered (or not) for one dataset.

    ``summary`` is one plain-language paragraph with the numbers that matter; ``table`` holds
    one frozen row per item (candidate, hyperparameter, fraction...), ``frame()`` gives it as
    a DataFrame; ``method`` says how the numbers were computed. When ``answered`` is False the
    summary says why and the table is empty.
    """

    question: str
    title: str
    answered: bool
    summary: str
    table: tuple[Any, ...] = ()
    evidence: AnswerEvidence = field(default_factory=AnswerEvidence)
    method: str = ""
    seconds: float = 0.0

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame, one column per row field."""
        return pd.DataFrame([dataclasses.asdict(row) for row in self.table])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; NaN and infinite numbers become ``None``."""
        return _json_ready(dataclasses.asdict(self))


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Question(ABC):
    """A question about the user's dataset, answered from the knowledge base.

    Subclasses set ``id`` (one of :data:`mile_meta.patterns.KNOWN_QUESTIONS`) and ``title``
    (the question in plain words) and implement :meth:`_answer`; they raise
    :class:`CannotAnswer` when the data or the knowledge base do not allow an answer.
    :meth:`answer` turns that (and any other :class:`~mile_meta.errors.MileMetaError`) into
    an unanswered :class:`Answer` saying why, and times the work.
    """

    id: ClassVar[str]
    title: ClassVar[str]

    def answer(self, context: QuestionContext) -> Answer:
        """Answer for ``context.dataset``; never raises for data the question cannot serve."""
        started = time.perf_counter()
        try:
            result = self._answer(context)
        except MileMetaError as error:
            result = self.unanswered(str(error))
        return dataclasses.replace(result, seconds=time.perf_counter() - started)

    @abstractmethod
    def _answer(self, context: QuestionContext) -> Answer:
        """Compute the answer; raise :class:`CannotAnswer` with the reason if there is none."""

    def answered(
        self,
        summary: str,
        table: tuple[Any, ...],
        evidence: AnswerEvidence,
        method: str,
    ) -> Answer:
        return Answer(self.id, self.title, True, summary, tuple(table), evidence, method)

    def unanswered(self, reason: str) -> Answer:
        return Answer(self.id, self.title, False, f"Cannot answer: {reason}")
