"""Fetching from OpenML with the openml client, into frozen snapshots the crawler can keep.

Every function here runs inside :func:`~mile_meta.sources.openml._transport.openml_client`,
so requests are polite and retried. What is left to handle is what openml does with its
disk cache: it writes a downloaded document to the cache before parsing it, so a crawl
killed mid-write leaves a truncated file that openml would read back forever. A parse
failure therefore clears that entity's cache folder and fetches once more.
"""

from __future__ import annotations

import math
import xml.parsers.expat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from mile_meta.sources.openml._parse import ListedEvaluation, parse_evaluation_list
from mile_meta.sources.openml._transport import OpenMLCrawlError

__all__ = [
    "DatasetInfo",
    "EntityUnavailable",
    "FlowNode",
    "FlowParameter",
    "OpenMLFetcher",
    "SetupInfo",
    "SetupParameter",
    "TaskInfo",
    "evaluation_list_call",
]

T = TypeVar("T")


class EntityUnavailable(OpenMLCrawlError):
    """OpenML will not give this task or dataset (unknown, deleted, private): skip it."""


# OpenML refuses listing pages above this size.
MAX_PAGE_SIZE = 10_000
# Setup ids per `setup/list/setup/...` call: more would exceed URL length limits (openml's
# own list_evaluations_setups uses the same chunk size).
SETUP_CHUNK = 100
NO_QUALITIES_CODE = 362


@dataclass(frozen=True)
class TaskInfo:
    task_id: int
    dataset_id: int
    task_type: str  # OpenML's name: "Supervised Classification", "Supervised Regression", ...
    target: str
    estimation_procedure: str
    evaluation_measure: str
    n_class_labels: int | None


@dataclass(frozen=True)
class DatasetInfo:
    dataset_id: int
    name: str
    qualities: tuple[tuple[str, float | None], ...]  # (OpenML quality name, value); NaN → None
    has_qualities: bool

    def quality(self, name: str) -> float | None:
        return dict(self.qualities).get(name)


@dataclass(frozen=True)
class FlowParameter:
    name: str
    data_type: str | None
    default_value: str | None  # JSON text for scikit-learn flows
    description: str | None


@dataclass(frozen=True)
class FlowNode:
    """A flow and its component tree, as OpenML describes it."""

    flow_id: int
    name: str
    class_name: str | None
    external_version: str | None
    version: str | None
    uploader: str | None
    upload_date: str | None
    language: str | None
    dependencies: str | None
    description: str | None
    parameters: tuple[FlowParameter, ...]
    components: tuple[tuple[str, FlowNode], ...]  # (identifier, subflow) in OpenML's order

    def walk(self) -> Iterable[FlowNode]:
        """This flow and every subflow, depth first."""
        yield self
        for _, child in self.components:
            yield from child.walk()

    @classmethod
    def from_openml(cls, flow: Any) -> FlowNode:
        meta = flow.parameters_meta_info or {}
        return cls(
            flow_id=int(flow.flow_id),
            name=str(flow.name),
            class_name=flow.class_name,
            external_version=flow.external_version,
            version=None if flow.version is None else str(flow.version),
            uploader=None if flow.uploader is None else str(flow.uploader),
            upload_date=flow.upload_date,
            language=flow.language,
            dependencies=flow.dependencies,
            description=flow.description,
            parameters=tuple(
                FlowParameter(
                    name=str(name),
                    data_type=(meta.get(name) or {}).get("data_type"),
                    default_value=None if default is None else str(default),
                    description=(meta.get(name) or {}).get("description"),
                )
                for name, default in (flow.parameters or {}).items()
            ),
            components=tuple(
                (str(identifier), cls.from_openml(child))
                for identifier, child in (flow.components or {}).items()
            ),
        )


@dataclass(frozen=True)
class SetupParameter:
    input_id: int
    flow_id: int
    flow_name: str
    parameter_name: str
    full_name: str
    data_type: str | None
    default_value: str | None
    value: str | None


@dataclass(frozen=True)
class SetupInfo:
    """A flow with hyperparameter values (OpenML's setup)."""

    setup_id: int
    flow_id: int
    parameters: tuple[SetupParameter, ...]

    @classmethod
    def from_openml(cls, setup: Any) -> SetupInfo:
        parameters = tuple(
            SetupParameter(
                input_id=int(p.id),
                flow_id=int(p.flow_id),
                flow_name=str(p.flow_name),
                parameter_name=str(p.parameter_name),
                full_name=str(p.full_name),
                data_type=p.data_type,
                default_value=None if p.default_value is None else str(p.default_value),
                value=None if p.value is None else str(p.value),
            )
            for p in (setup.parameters or {}).values()
        )
        return cls(int(setup.setup_id), int(setup.flow_id), parameters)


def evaluation_list_call(listing: str, measure: str, *, offset: int, limit: int) -> str:
    """The API call for one page of a listing (``task/3`` or ``flow/8353``)."""
    kind, _, ident = listing.partition("/")
    if kind not in ("task", "flow") or not ident.isdigit():
        raise ValueError(f"a listing is task/<id> or flow/<id>, not {listing!r}")
    return f"evaluation/list/function/{measure}/limit/{limit}/offset/{offset}/{kind}/{ident}"


def _estimation_procedure(task: Any) -> str:
    procedure = getattr(task, "estimation_procedure", None) or {}
    kind = str(procedure.get("type") or "")
    parameters = procedure.get("parameters") or {}
    folds = parameters.get("number_folds")
    repeats = parameters.get("number_repeats")
    if kind == "crossvalidation" and folds:
        prefix = f"{repeats}x" if repeats and str(repeats) != "1" else ""
        return f"{prefix}{folds}-fold crossvalidation"
    if kind == "holdout" and parameters.get("percentage"):
        return f"holdout {parameters['percentage']}%"
    return kind


_PARSE_ERRORS = (xml.parsers.expat.ExpatError, KeyError, ValueError, TypeError, EOFError)


class OpenMLFetcher:
    """Reads OpenML entities through the openml client (installed by ``openml_client``)."""

    def __init__(self, *, download_data: bool = False) -> None:
        self.download_data = download_data

    # -- cache-aware calling ----------------------------------------------------------------
    @staticmethod
    def _with_cache_repair(
        what: str, cache_key: str | None, entity_id: int, call: Callable[[], T]
    ) -> T:
        import openml
        from openml.exceptions import OpenMLServerError

        for attempt in (1, 2):
            try:
                return call()
            except (*_PARSE_ERRORS, OpenMLServerError) as error:
                if isinstance(error, OpenMLServerError) and type(error) is not OpenMLServerError:
                    raise  # OpenMLServerException & co: a real answer from OpenML
                if attempt == 2 or cache_key is None:
                    raise OpenMLCrawlError(
                        f"OpenML's description of {what} cannot be read ({type(error).__name__}: "
                        f"{str(error)[:200]}); report it if it fails again"
                    ) from error
                folder = openml.utils._get_cache_dir_for_id(cache_key, entity_id)
                if folder.exists():
                    openml.utils._remove_cache_dir_for_id(cache_key, folder)
        raise AssertionError("unreachable")

    # -- scopes ----------------------------------------------------------------------------
    def suite_task_ids(self, suite: int | str) -> tuple[int, list[int]]:
        """(suite id, task ids) of a benchmark suite given by id or alias."""
        import openml
        from openml.exceptions import OpenMLServerException

        try:
            found = openml.study.get_suite(suite)
        except OpenMLServerException as error:
            raise OpenMLCrawlError(
                f"OpenML has no benchmark suite {suite!r} ({error.message}); pass a suite id "
                "or alias such as 99 or OpenML-CC18"
            ) from None
        except ValueError as error:
            raise OpenMLCrawlError(
                f"OpenML study {suite!r} is not a task suite ({error})"
            ) from None
        return int(found.study_id or 0), sorted(int(t) for t in (found.tasks or []))

    def tagged_task_ids(self, tag: str) -> list[int]:
        import openml

        frame = openml.tasks.list_tasks(tag=tag, output_format="dataframe")
        if len(frame) == 0:
            return []
        return sorted(int(t) for t in frame["tid"])

    def check_measures(self, measures: Iterable[str]) -> None:
        """Refuse measure names OpenML does not know (a typo would list nothing, silently)."""
        import difflib

        import openml

        known = set(openml.evaluations.list_evaluation_measures())
        for measure in measures:
            if measure not in known:
                close = difflib.get_close_matches(measure, sorted(known), n=3)
                hint = (
                    f"did you mean {' or '.join(close)}?"
                    if close
                    else "see `--measure` in the docs"
                )
                raise OpenMLCrawlError(f"OpenML has no evaluation measure {measure!r}; {hint}")

    # -- entities --------------------------------------------------------------------------
    def task(self, task_id: int) -> TaskInfo:
        """A task (openml fetches its dataset's description and features with it)."""
        import openml
        from openml.exceptions import OpenMLPrivateDatasetError, OpenMLServerException

        def call() -> Any:
            return openml.tasks.get_task(task_id, download_splits=False)

        try:
            task = self._with_cache_repair(f"task {task_id}", "tasks", task_id, call)
        except OpenMLServerException as error:
            raise EntityUnavailable(
                f"OpenML cannot give task {task_id} (code {error.code}: {error.message})"
            ) from None
        except OpenMLPrivateDatasetError as error:
            raise EntityUnavailable(
                f"the dataset of task {task_id} is private ({error.message})"
            ) from None
        labels = getattr(task, "class_labels", None)
        return TaskInfo(
            task_id=int(task.task_id),
            dataset_id=int(task.dataset_id),
            task_type=str(getattr(task, "task_type", "") or ""),
            target=str(getattr(task, "target_name", "") or ""),
            estimation_procedure=_estimation_procedure(task),
            evaluation_measure=str(getattr(task, "evaluation_measure", "") or ""),
            n_class_labels=len(labels) if labels else None,
        )

    def dataset(self, dataset_id: int) -> DatasetInfo:
        """A dataset's name and OpenML qualities (none when OpenML has none, code 362)."""
        import openml
        from openml.exceptions import OpenMLPrivateDatasetError, OpenMLServerException

        def call(qualities: bool) -> Any:
            return openml.datasets.get_dataset(
                dataset_id,
                download_data=self.download_data,
                download_qualities=qualities,
                download_features_meta_data=False,
            )

        has_qualities = True
        try:
            dataset = self._with_cache_repair(
                f"dataset {dataset_id}", "datasets", dataset_id, lambda: call(True)
            )
        except OpenMLPrivateDatasetError as error:
            raise EntityUnavailable(f"dataset {dataset_id} is private ({error.message})") from None
        except OpenMLServerException as error:
            # openml 0.15.1 means to return "no qualities" for code 362 but compares the
            # message against the wrong text, so the code arrives here as an exception.
            if error.code != NO_QUALITIES_CODE:
                raise EntityUnavailable(
                    f"OpenML cannot give dataset {dataset_id} (code {error.code}: {error.message})"
                ) from None
            has_qualities = False
            dataset = self._with_cache_repair(
                f"dataset {dataset_id}", "datasets", dataset_id, lambda: call(False)
            )
        qualities: tuple[tuple[str, float | None], ...] = ()
        if has_qualities:
            raw = dataset._qualities or {}  # the property would fetch again when empty
            qualities = tuple(
                (
                    str(name),
                    None if value is None or not math.isfinite(float(value)) else float(value),
                )
                for name, value in sorted(raw.items())
            )
        return DatasetInfo(int(dataset.dataset_id), str(dataset.name), qualities, has_qualities)

    def flow(self, flow_id: int) -> FlowNode:
        import openml
        from openml.exceptions import OpenMLServerException

        try:
            flow = self._with_cache_repair(
                f"flow {flow_id}", "flows", flow_id, lambda: openml.flows.get_flow(flow_id)
            )
        except OpenMLServerException as error:
            raise OpenMLCrawlError(f"OpenML cannot give flow {flow_id} ({error.message})") from None
        return FlowNode.from_openml(flow)

    def setups(self, setup_ids: Iterable[int]) -> dict[int, SetupInfo]:
        """The setups with these ids (those OpenML does not know are left out)."""
        import openml

        ids = sorted(set(setup_ids))
        found: dict[int, SetupInfo] = {}
        for start in range(0, len(ids), SETUP_CHUNK):
            chunk = ids[start : start + SETUP_CHUNK]
            try:
                listed = openml.setups.list_setups(setup=chunk, size=None, output_format="object")
            except _PARSE_ERRORS as error:
                raise OpenMLCrawlError(
                    f"OpenML's setup list for {chunk[0]}..{chunk[-1]} cannot be read ({error})"
                ) from error
            for setup in listed.values():
                info = SetupInfo.from_openml(setup)
                found[info.setup_id] = info
        return found

    def evaluation_page(
        self, listing: str, measure: str, *, offset: int, limit: int
    ) -> list[ListedEvaluation]:
        """One page of evaluations; an empty list when OpenML says "no results"."""
        import openml._api_calls
        from openml.exceptions import OpenMLServerException, OpenMLServerNoResult

        call = evaluation_list_call(
            listing, measure, offset=offset, limit=min(limit, MAX_PAGE_SIZE)
        )
        try:
            body = openml._api_calls._perform_api_call(call, "get")
        except OpenMLServerNoResult:
            return []
        except OpenMLServerException as error:
            raise OpenMLCrawlError(
                f"OpenML refused the evaluation listing {call} ({error.message}); check the "
                "measure name (e.g. predictive_accuracy)"
            ) from None
        # the transport checked the body is well-formed before handing it over
        return parse_evaluation_list(body, check_well_formed=False)
