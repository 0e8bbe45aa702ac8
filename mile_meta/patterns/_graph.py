"""The pattern graph: patterns, stages, information needs and questions, with typed edges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import networkx as nx

from mile_meta.patterns._model import KNOWN_QUESTIONS, STAGES, Pattern
from mile_meta.patterns._store import information_need_summary, list_patterns

if TYPE_CHECKING:
    from mile_meta.kb import KnowledgeBase

__all__ = ["pattern_graph"]


def pattern_graph(source: KnowledgeBase | Iterable[Pattern]) -> nx.MultiDiGraph:
    """The graph of the stored patterns (or of the patterns given, e.g. ``load_corpus()``).

    Nodes carry ``kind`` and ``label``; their ids are prefixed by kind:

    * ``pattern:<name>`` (kind ``pattern``; also ``title``, ``autonomy``, ``task``),
    * ``stage:<stage>`` (kind ``stage``; every stage, in pipeline order via ``order``),
    * ``need:<pattern name>`` (kind ``information_need``; ``text`` is the whole section),
    * ``question:<id>`` (kind ``question``; every known question).

    Edges carry ``kind`` (also used as the edge key): ``in-stage`` (pattern → stage),
    ``related-to`` (pattern → pattern), ``needs`` (pattern → its information need) and
    ``answered-by`` (information need → question).
    """
    patterns = list_patterns(source) if hasattr(source, "db") else list(source)  # type: ignore[arg-type]
    graph = nx.MultiDiGraph()
    for order, stage in enumerate(STAGES):
        graph.add_node(f"stage:{stage}", kind="stage", label=stage, order=order)
    for question in KNOWN_QUESTIONS:
        graph.add_node(f"question:{question}", kind="question", label=question)
    for pattern in patterns:
        node = f"pattern:{pattern.name}"
        graph.add_node(
            node,
            kind="pattern",
            label=pattern.name,
            title=pattern.title,
            autonomy=list(pattern.autonomy),
            task=pattern.task,
        )
        for stage in pattern.stages:
            graph.add_edge(node, f"stage:{stage}", key="in-stage", kind="in-stage")
        need = f"need:{pattern.name}"
        graph.add_node(
            need,
            kind="information_need",
            label=information_need_summary(pattern),
            text=pattern.information_need,
        )
        graph.add_edge(node, need, key="needs", kind="needs")
        for question in pattern.questions:
            graph.add_edge(need, f"question:{question}", key="answered-by", kind="answered-by")
    for pattern in patterns:
        for name in pattern.related:
            target = f"pattern:{name}"
            if target not in graph:
                # A link to a pattern removed since: keep the edge, mark the node as missing.
                graph.add_node(target, kind="pattern", label=name, title="", missing=True)
            graph.add_edge(f"pattern:{pattern.name}", target, key="related-to", kind="related-to")
    return graph
