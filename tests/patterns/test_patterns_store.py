"""Patterns in a real knowledge base file: ingest, search (FTS5 + bm25), filters, graph."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from pattern_samples import GOOD_PATTERN

from mile_meta.errors import PatternError
from mile_meta.patterns import (
    add_patterns,
    corpus_directory,
    ensure_corpus,
    get_pattern,
    ingest_corpus,
    list_patterns,
    load_corpus,
    pattern_graph,
    resolve_level,
    resolve_stage,
    search_patterns,
    write_pattern,
)


def test_migration_created_tables(corpus_kb):
    tables = set(corpus_kb.db.table_names())
    assert {"patterns", "pattern_links", "patterns_fts"} <= tables
    versions = [row["name"] for row in corpus_kb.db.query("SELECT name FROM schema_migrations")]
    assert "patterns" in versions


def test_ingest_stores_the_whole_corpus_and_is_idempotent(writable_kb):
    assert writable_kb.db["patterns"].count == len(load_corpus())
    assert ingest_corpus(writable_kb) == 0
    assert ensure_corpus(writable_kb) == 0
    row = next(writable_kb.db.query("SELECT * FROM patterns WHERE name = 'defaults-or-tuning'"))
    assert row["author"] == "mile-meta developers"
    assert row["path"] == "corpora/patterns/defaults-or-tuning.md"
    assert json.loads(row["stages"]) == ["hyperparameter optimization & architecture search"]


def test_stored_pattern_equals_the_file(corpus_kb):
    for pattern in load_corpus():
        stored = get_pattern(corpus_kb, pattern.name)
        assert stored == replace(pattern, source=pattern.source or "mile-meta pattern corpus")
        assert stored.path == pattern.path.resolve()


def test_links_are_typed(corpus_kb):
    kinds = {row["kind"] for row in corpus_kb.db.query("SELECT DISTINCT kind FROM pattern_links")}
    assert kinds == {"stage", "related", "question", "information_need"}
    related = [
        row["target"]
        for row in corpus_kb.db.query(
            "SELECT target FROM pattern_links WHERE pattern = ? AND kind = 'related'",
            ["stratified-cv-for-rare-positives"],
        )
    ]
    assert "repeated-cv-for-small-datasets" in related


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "which of the 14 hyperparameters of gradient boosting are worth tuning",
            "tune-only-the-hyperparameters-that-matter",
        ),
        (
            "stratified folds when positives are rare in a churn table",
            "stratified-cv-for-rare-positives",
        ),
        ("near-duplicate rows scraped from marketplaces", "deduplicate-before-splitting"),
        ("score too good to be true, leakage", "detect-target-leakage-from-too-good-scores"),
        ("collect another season of data? learning curve", "will-more-data-help"),
        ("ensemble too slow for 20 ms latency", "skip-the-ensemble-under-a-latency-budget"),
        (
            "target encoding for postcodes with thousands of levels",
            "encode-high-cardinality-categoricals",
        ),
        ("patients with many visits in both folds", "group-aware-splits-for-repeated-entities"),
        ("successive halving on subsamples", "multi-fidelity-search-on-subsamples"),
    ],
)
def test_search_finds_the_expected_pattern_first(corpus_kb, query, expected):
    hits = search_patterns(corpus_kb, query, limit=5)
    assert hits[0].name == expected, [hit.name for hit in hits]
    assert hits[0].score > 0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_search_stems_words_and_marks_matches(corpus_kb):
    hits = search_patterns(corpus_kb, "tuned", limit=3)
    assert hits and "[tun" in " ".join(hit.snippet for hit in hits).lower()


def test_search_treats_operators_as_words(corpus_kb):
    # FTS5 syntax in the user's text must not raise a syntax error.
    assert search_patterns(corpus_kb, 'leakage AND "NEAR( -drift* )', limit=3)


def test_search_filters(corpus_kb):
    hits = search_patterns(corpus_kb, "cross-validation", stage="model validation", limit=50)
    assert hits and all("model validation" in hit.stages for hit in hits)
    hits = search_patterns(corpus_kb, "cross-validation", level="autopilot", limit=50)
    assert hits and all("autopilot" in hit.autonomy for hit in hits)
    hits = search_patterns(corpus_kb, "model", task="regression", limit=50)
    assert hits and all(hit.task in {"regression", "any"} for hit in hits)
    assert not search_patterns(corpus_kb, "ensemble", stage="labeling", limit=50)


def test_search_rejects_empty_text_and_bad_limit(corpus_kb):
    with pytest.raises(PatternError, match="no words"):
        search_patterns(corpus_kb, "the of ?")
    with pytest.raises(PatternError, match="limit"):
        search_patterns(corpus_kb, "drift", limit=0)


def test_list_filters_and_order(corpus_kb):
    everything = list_patterns(corpus_kb)
    assert len(everything) == len(load_corpus())
    assert everything[0].stages[0] == "data acquisition"
    ensembling = list_patterns(corpus_kb, stage="ensembling")
    assert len(ensembling) >= 4 and all("ensembling" in p.stages for p in ensembling)
    cruise_binary = list_patterns(corpus_kb, level="cruise", task="binary")
    assert cruise_binary
    assert all("cruise-control" in p.autonomy for p in cruise_binary)
    assert all(p.task in {"binary", "classification", "any"} for p in cruise_binary)
    assert {p.task for p in list_patterns(corpus_kb, task="any")} > {"any"}


def test_filter_values_resolve_by_prefix_and_alias():
    assert resolve_stage("hpo") == "hyperparameter optimization & architecture search"
    assert resolve_stage("Feature-Engineering") == "feature engineering"
    assert resolve_level("auto") == "autopilot"
    with pytest.raises(PatternError, match="ambiguous stage"):
        resolve_stage("model")
    with pytest.raises(PatternError, match="unknown autonomy level"):
        resolve_level("manual")


def test_get_unknown_pattern_suggests_names(corpus_kb):
    with pytest.raises(PatternError, match="did you mean defaults-or-tuning"):
        get_pattern(corpus_kb, "default-or-tuning")


def test_add_patterns_upserts_and_fills_in_author_and_source(writable_kb, tmp_path):
    path = tmp_path / "check-the-folds.md"
    path.write_text(write_pattern(GOOD_PATTERN), encoding="utf-8")
    assert add_patterns(writable_kb, [path], author="Someone", source="team wiki") == 1
    stored = get_pattern(writable_kb, "check-the-folds")
    assert stored.author == "Test Author"  # the file's own author wins
    assert stored.source == "team wiki"
    # The same call again finds nothing changed and writes nothing.
    assert add_patterns(writable_kb, [path], author="Someone", source="team wiki") == 0

    changed = replace(GOOD_PATTERN, goal="A zebra-stable estimate.")
    path.write_text(write_pattern(changed), encoding="utf-8")
    assert add_patterns(writable_kb, [path]) == 1
    # The full-text index follows the update: the new word is found, the old text is gone.
    assert search_patterns(writable_kb, "zebra")[0].name == "check-the-folds"
    assert get_pattern(writable_kb, "check-the-folds").goal == "A zebra-stable estimate."
    added = writable_kb.db["patterns"].get("check-the-folds")
    assert added["added_at"]


def test_add_patterns_is_all_or_nothing(writable_kb, tmp_path):
    good = tmp_path / "check-the-folds.md"
    good.write_text(write_pattern(GOOD_PATTERN), encoding="utf-8")
    bad = tmp_path / "broken.md"
    bad.write_text(
        write_pattern(GOOD_PATTERN)
        .replace("name: check-the-folds", "name: broken")
        .replace("## Solution", "## Soluton"),
        encoding="utf-8",
    )
    before = writable_kb.db["patterns"].count
    with pytest.raises(PatternError, match=r"broken\.md:\d+: unknown section \"Soluton\""):
        add_patterns(writable_kb, [good, bad])
    assert writable_kb.db["patterns"].count == before
    assert not list(writable_kb.db.query("SELECT 1 FROM patterns WHERE name = 'check-the-folds'"))


def test_add_patterns_rejects_unresolved_links(writable_kb, tmp_path):
    text = write_pattern(GOOD_PATTERN).replace(
        "repeated-cv-for-small-datasets.md", "no-such-pattern.md"
    )
    path = tmp_path / "check-the-folds.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PatternError, match='related pattern "no-such-pattern" not found'):
        add_patterns(writable_kb, [path])
    assert writable_kb.db["pattern_links"].count_where("pattern = 'check-the-folds'") == 0


def test_ingest_removes_withdrawn_corpus_patterns(writable_kb):
    writable_kb.db["patterns"].insert(
        {
            **writable_kb.db["patterns"].get("defaults-or-tuning"),
            "name": "withdrawn-pattern",
            "path": "corpora/patterns/withdrawn-pattern.md",
        }
    )
    assert ingest_corpus(writable_kb) == 1
    assert not list(writable_kb.db.query("SELECT 1 FROM patterns WHERE name = 'withdrawn-pattern'"))


def test_ensure_corpus_fills_an_empty_knowledge_base(tmp_path):
    from mile_meta.kb import KnowledgeBase

    with KnowledgeBase.open(tmp_path / "fresh.sqlite") as kb:
        assert ensure_corpus(kb) == len(load_corpus())
        assert ensure_corpus(kb) == 0


def test_a_copied_corpus_folder_loads_without_a_knowledge_base(tmp_path):
    folder = tmp_path / "patterns"
    shutil.copytree(corpus_directory(), folder)
    assert [p.name for p in load_corpus(folder)] == [p.name for p in load_corpus()]
    (folder / "defaults-or-tuning.md").unlink()
    with pytest.raises(PatternError, match='related pattern "defaults-or-tuning" not found'):
        load_corpus(folder)


def test_pattern_graph_has_typed_nodes_and_edges(corpus_kb):
    graph = pattern_graph(corpus_kb)
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert kinds == {"pattern", "stage", "question", "information_need"}
    edge_kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    assert edge_kinds == {"in-stage", "related-to", "answered-by", "needs"}
    node = "pattern:tune-only-the-hyperparameters-that-matter"
    assert graph.has_edge(
        node, "stage:hyperparameter optimization & architecture search", "in-stage"
    )
    need = "need:tune-only-the-hyperparameters-that-matter"
    assert graph.has_edge(node, need, "needs")
    assert graph.has_edge(need, "question:which_hyperparameters_matter", "answered-by")
    assert graph.has_edge(node, "pattern:defaults-or-tuning", "related-to")
    # The same graph can be built without a knowledge base.
    offline = pattern_graph(load_corpus())
    assert set(offline.nodes) == set(graph.nodes)
    assert offline.number_of_edges() == graph.number_of_edges()


def test_migration_upgrades_a_version_one_knowledge_base(tmp_path):
    """A file written before patterns existed gains the tables on open, and keeps its rows."""
    import sqlite_utils

    from mile_meta.kb import KnowledgeBase
    from mile_meta.kb.migrations import all_migrations

    path = tmp_path / "v1.sqlite"
    db = sqlite_utils.Database(path)
    db["schema_migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
    first = all_migrations()[0]
    assert first.version == 1
    first.upgrade(db)
    db["schema_migrations"].insert({"version": 1, "name": first.name, "applied_at": "2024-01-01"})
    db["sources"].insert({"name": "oboe", "version": "1", "licence": "x"})
    db.close()

    with KnowledgeBase.open(path, must_exist=True) as kb:
        assert kb.schema_version >= 2
        assert {"patterns", "pattern_links", "patterns_fts"} <= set(kb.db.table_names())
        assert kb.db["sources"].count == 1
        assert ensure_corpus(kb) == len(load_corpus())
        assert search_patterns(kb, "drift retrain")[0].name == "retrain-or-re-search-after-drift"
