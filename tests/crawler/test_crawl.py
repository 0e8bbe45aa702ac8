"""Crawls against the replay server: paging, faults, resuming, incremental re-crawls, scopes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import MEASURES, PAGE_SIZE, snapshot
from replay import ReplayServer

from mile_meta.kb import KnowledgeBase
from mile_meta.sources.openml import (
    CrawlScope,
    OpenMLCrawlError,
    OpenMLSource,
    RetryPolicy,
    crawl_status,
    openml_graph,
)
from mile_meta.testing import check_source_contract

SUITE = CrawlScope.suite(99)
# The fixture world: task 1 has 45 runs + recorded run 12; tasks 3 and 1882 have 45 runs;
# 5 runs per task lack area_under_roc_curve and one more is listed without a value.
LISTED = {("task/1", "predictive_accuracy"): 46, ("task/1", "area_under_roc_curve"): 40}
EVALUATIONS = 46 + 39 + 2 * (45 + 39)


def _offsets(server: ReplayServer, listing: str, measure: str) -> list[int]:
    kind, ident = listing.split("/")
    pattern = re.compile(
        rf"evaluation/list/function/{measure}/limit/\d+/offset/(\d+)/{kind}/{ident}$"
    )
    return [int(m.group(1)) for call in server.log if (m := pattern.match(call))]


def test_suite_crawl(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        report = make_crawler().crawl(kb, CrawlScope.suite("OpenML-CC18"), MEASURES)
        stats = kb.stats()
        best = kb.best_pipelines("openml:1", "predictive_accuracy", limit=3)
    assert report.evaluations_written == EVALUATIONS
    assert (report.listings, report.listings_finished) == (6, 6)
    assert report.pages == 7 + 6 + 7 + 6 + 7 + 6
    assert (report.tasks_fetched, report.datasets_fetched, report.datasets_without_qualities) == (
        3,
        3,
        1,
    )
    assert (report.setups_fetched, report.setups_translated) == (16, 11)
    assert report.retries == 0
    assert stats.per_source["openml"]["evaluations"] == EVALUATIONS
    assert stats.totals["tasks"] == 3
    assert best and best[0].value >= best[-1].value
    # pages walk the listing: 46 evaluations in pages of 7, the last one short
    assert _offsets(openml_server, "task/1", "predictive_accuracy") == [0, 7, 14, 21, 28, 35, 42]
    # the same knowledge base as the suite's id gives, alias aside
    rows = snapshot(tmp_path / "kb.sqlite")
    for table in ("evaluations", "pipelines", "qualities", "openml_setups", "openml_runs"):
        assert rows[table] == clean_suite_snapshot[table], table


def test_no_result_code_ends_a_listing(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path
) -> None:
    # 45 evaluations in pages of 5: the tenth request is past the end and OpenML answers 542
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        make_crawler(page_size=5).crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        (state,) = crawl_status(kb).scopes[0].listings
    assert _offsets(openml_server, "task/3", "predictive_accuracy") == list(range(0, 50, 5))
    assert (state.listed, state.evaluations, state.pages_done, state.finished) == (45, 45, 10, True)


def test_dataset_without_qualities(make_crawler: Any, tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        make_crawler().crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        summary = kb.dataset_summary("openml:3")
        note = kb.db.execute("SELECT note FROM openml_fetched WHERE kind = 'dataset'").fetchone()[0]
        task = kb.db.execute("SELECT task_type, target, estimation_procedure FROM tasks").fetchone()
    assert summary.name == "kr-vs-kp" and summary.n_classes == 2
    assert summary.qualities == {}
    assert note == "no-qualities"
    assert task == ("binary", "class", "10-fold crossvalidation")


def test_a_task_openml_refuses_is_skipped(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path
) -> None:
    crawler = make_crawler()
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        report = crawler.crawl(kb, CrawlScope.tasks([3, 9999]), ["predictive_accuracy"])
        status = crawl_status(kb)
        openml_server.reset()
        again = crawler.crawl(kb, CrawlScope.tasks([3, 9999]), ["predictive_accuracy"])
    assert (report.tasks_unavailable, report.evaluations_written) == (1, 45)
    assert status.scopes[0].finished and status.tasks_unavailable == 1 and status.tasks == 1
    assert "task/9999" not in openml_server.log and again.evaluations_written == 0


def test_state_is_forgotten_when_the_rows_are_removed(make_crawler: Any, tmp_path: Path) -> None:
    crawler = make_crawler()
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        crawler.crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        kb.remove_source("openml")
        report = crawler.crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        assert report.evaluations_written == 45 and report.tasks_fetched == 1
        assert kb.stats().per_source["openml"]["evaluations"] == 45


def test_recrawl_fetches_only_what_is_new(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path
) -> None:
    crawler = make_crawler()
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        crawler.crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        openml_server.reset()
        newer = (
            "<oml:evaluation><oml:run_id>5000</oml:run_id><oml:task_id>3</oml:task_id>"
            "<oml:setup_id>102</oml:setup_id><oml:flow_id>7001</oml:flow_id>"
            "<oml:flow_name>sklearn.ensemble._forest.RandomForestClassifier(1)</oml:flow_name>"
            "<oml:data_id>3</oml:data_id><oml:data_name>kr-vs-kp</oml:data_name>"
            "<oml:function>predictive_accuracy</oml:function><oml:uploader>1</oml:uploader>"
            "<oml:value>0.97</oml:value></oml:evaluation>"
        )
        with openml_server.extra_evaluations([newer]):
            report = crawler.crawl(kb, CrawlScope.tasks([3]), ["predictive_accuracy"])
        (state,) = crawl_status(kb).scopes[0].listings
    assert report.evaluations_written == 1
    # only the listing past the 45 already listed; the task, dataset and setup were known
    assert openml_server.log == [
        "evaluationmeasure/list",
        "evaluation/list/function/predictive_accuracy/limit/7/offset/45/task/3",
    ]
    assert (state.listed, state.last_run_id, state.evaluations) == (46, 5000, 46)


@pytest.mark.parametrize("fault", ["code107", "html502", "http429"])
def test_server_trouble_mid_crawl_is_retried(
    fault: str,
    make_crawler: Any,
    openml_server: ReplayServer,
    tmp_path: Path,
    clean_suite_snapshot: dict,
) -> None:
    openml_server.inject(fault, times=2, after=9)
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        report = make_crawler().crawl(kb, SUITE, MEASURES)
    assert report.retries == 2
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot


def test_dropped_connection_then_resume(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    crawler = make_crawler(retry=RetryPolicy(attempts=2, first_wait_seconds=0.01))
    openml_server.inject("drop", times=2, after=20)  # a later request, whatever it is
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        with pytest.raises(OpenMLCrawlError, match="connection failed"):
            crawler.crawl(kb, SUITE, MEASURES)
        status = crawl_status(kb)
        assert not status.scopes[0].finished
        written = kb.db.execute("SELECT count(*) FROM evaluations").fetchone()[0]
        assert 0 < written < EVALUATIONS
        assert written == status.evaluations  # the state says exactly what is there
        crawler.crawl(kb, None, resume=True)
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot


def test_malformed_xml_is_a_clear_error_without_partial_writes(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    crawler = make_crawler(retry=RetryPolicy(attempts=3, first_wait_seconds=0.01))
    path = tmp_path / "kb.sqlite"
    # the third page of task 1's listing comes back cut, on every retry
    openml_server.inject("malformed", times=3, after=2, match="evaluation/list")
    with (
        KnowledgeBase.open(path) as kb,
        pytest.raises(OpenMLCrawlError, match="HTTP 200 with malformed XML"),
    ):
        crawler.crawl(kb, SUITE, MEASURES)
    rows = snapshot(path)
    (state,) = [row for row in rows["openml_crawl_state"]]
    assert state[:4] == ("task/1", "predictive_accuracy", 14, 2)  # two pages, nothing of the third
    assert len(rows["evaluations"]) == 14 and len(rows["openml_runs"]) == 14
    with KnowledgeBase.open(path) as kb:
        crawler.crawl(kb, None, resume=True)
    assert snapshot(path) == clean_suite_snapshot


def test_budget_then_resume(make_crawler: Any, tmp_path: Path, clean_suite_snapshot: dict) -> None:
    crawler = make_crawler()
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        first = crawler.crawl(kb, SUITE, MEASURES, max_evaluations=60)
        assert first.budget_exhausted and first.evaluations_written <= 60
        assert not crawl_status(kb).scopes[0].finished
        second = crawler.crawl(kb, None, resume=True)
        assert not second.budget_exhausted
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot


def test_concurrency_gives_the_same_records(
    make_crawler: Any, tmp_path: Path, clean_suite_snapshot: dict
) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        make_crawler(concurrency=3).crawl(kb, SUITE, MEASURES)
    assert snapshot(tmp_path / "kb.sqlite") == clean_suite_snapshot


def test_dry_run_writes_nothing(make_crawler: Any, tmp_path: Path) -> None:
    crawler = make_crawler()
    path = tmp_path / "kb.sqlite"
    plan = crawler.plan(path, SUITE, MEASURES)
    assert not path.exists()
    (scope,) = plan.scopes
    assert scope.task_ids == (1, 3, 1882) and scope.tasks_to_fetch == (1, 3, 1882)
    assert [listing.action for listing in scope.listings] == ["list all evaluations"] * 6
    with KnowledgeBase.open(path) as kb:
        crawler.crawl(kb, SUITE, ["predictive_accuracy"], max_evaluations=10)
    before = path.read_bytes()
    plan = crawler.plan(path, None, resume=True)
    assert path.read_bytes() == before
    actions = {listing.listing: listing.action for listing in plan.scopes[0].listings}
    assert actions == {
        "task/1": "continue from offset 10",
        "task/3": "list all evaluations",
        "task/1882": "list all evaluations",
    }


def test_flow_scope(make_crawler: Any, openml_server: ReplayServer, tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        report = make_crawler().crawl(kb, CrawlScope.flow(7001), ["predictive_accuracy"])
        flows = {row[0] for row in kb.db.execute("SELECT DISTINCT flow_id FROM openml_runs")}
        tasks = kb.db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    expected = sum(
        1
        for e in openml_server.world.evaluations
        if e.flow_id == 7001 and e.function == "predictive_accuracy"
    )
    assert flows == {7001}
    # the tasks are met in the listing, and fetched with their datasets before their page
    assert tasks == 3 and report.tasks_fetched == 3
    assert report.evaluations_written == expected > 0


@pytest.mark.filterwarnings("ignore:Could not create task type id:RuntimeWarning")
def test_tag_scope(make_crawler: Any, tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        report = make_crawler().crawl(
            kb, CrawlScope.tag("mile-meta-fixture"), ["predictive_accuracy"]
        )
    assert report.scopes == ("tag:mile-meta-fixture",)
    assert report.evaluations_written == 46 + 45


def test_unknown_scopes_say_what_to_do(make_crawler: Any, tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        with pytest.raises(OpenMLCrawlError, match="no benchmark suite 'OpenML-100'"):
            make_crawler().crawl(kb, CrawlScope.suite("OpenML-100"), MEASURES)
        with pytest.raises(OpenMLCrawlError, match="did you mean predictive_accuracy"):
            make_crawler().crawl(kb, SUITE, ["predictive_acuracy"])
        with pytest.raises(OpenMLCrawlError, match="no OpenML task carries the tag"):
            make_crawler().crawl(kb, CrawlScope.tag("nothing-here"), MEASURES)
        with pytest.raises(Exception, match="nothing to resume"):
            make_crawler().crawl(kb, None, resume=True)


def test_source_contract_and_ingest(
    make_crawler: Any, openml_server: ReplayServer, tmp_path: Path
) -> None:
    source = OpenMLSource(
        CrawlScope.tasks([1, 3]),
        MEASURES,
        server=openml_server.url,
        cache_dir=tmp_path / "cache",
        page_size=PAGE_SIZE,
    )
    counts = check_source_contract(source)
    assert counts["evaluations"] == 46 + 39 + 45 + 39
    assert counts["datasets"] == 2
    with KnowledgeBase.open(tmp_path / "ingested.sqlite") as kb:
        kb.ingest(source)
    with KnowledgeBase.open(tmp_path / "crawled.sqlite") as kb:
        make_crawler().crawl(kb, CrawlScope.tasks([1, 3]), MEASURES)
    ingested, crawled = (
        snapshot(tmp_path / "ingested.sqlite"),
        snapshot(tmp_path / "crawled.sqlite"),
    )
    for table in ("evaluations", "pipelines", "pipeline_origins", "datasets", "qualities", "tasks"):
        assert ingested[table] == crawled[table], table


def test_graph_links(make_crawler: Any, tmp_path: Path) -> None:
    with KnowledgeBase.open(tmp_path / "kb.sqlite") as kb:
        make_crawler().crawl(kb, CrawlScope.tasks([1]), ["predictive_accuracy"])
        graph = openml_graph(kb)
        pipeline_of_101 = kb.db.execute(
            "SELECT pipeline_id FROM openml_setups WHERE setup_id = 101"
        ).fetchone()[0]
        run = kb.db.execute("SELECT run_id FROM openml_runs WHERE setup_id = 121").fetchone()[0]

    def targets(node: str, kind: str) -> set[str]:
        return {v for _, v, data in graph.out_edges(node, data=True) if data["kind"] == kind}

    # flow → components → hyperparameters
    assert targets("flow:7020", "has-component") == {"flow:7021", "flow:7022", "flow:7023"}
    assert "hyperparameter:7023:C" in targets("flow:7023", "has-hyperparameter")
    # run → setup → flow, and the setup's pipeline
    assert targets(f"run:{run}", "uses-setup") == {"setup:121"}
    assert targets("setup:121", "instance-of") == {"flow:7020"}
    values = {
        v: d["value"] for _, v, d in graph.out_edges("setup:121", data=True) if d["kind"] == "sets"
    }
    assert values["hyperparameter:7023:C"] == "0.5"
    assert targets("setup:101", "translated-to") == {f"pipeline:{pipeline_of_101}"}
    # evaluation → task → dataset
    evaluation = next(n for n, d in graph.nodes(data=True) if d.get("kind") == "evaluation")
    (task,) = targets(evaluation, "on-task")
    assert targets(task, "of-dataset") == {"dataset:openml:1"}
