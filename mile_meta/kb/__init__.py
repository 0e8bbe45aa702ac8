"""The knowledge base: SQLite store (source of truth) and its networkx projection."""

from mile_meta.kb._browse import BROWSABLE, Page, browse
from mile_meta.kb._build import build_knowledge_base, ensure_default_knowledge_base
from mile_meta.kb._portfolios import PortfolioPosition, portfolio_positions
from mile_meta.kb._reads import LocalRun, display_name
from mile_meta.kb._store import (
    BestPipeline,
    DatasetSummary,
    IngestReport,
    KnowledgeBase,
    KnowledgeBaseStats,
    evaluation_id,
)
from mile_meta.kb._workflows import StaleSessionError, Workflows, compare_versions
from mile_meta.kb.graph import build_graph, component_wins

__all__ = [
    "BROWSABLE",
    "BestPipeline",
    "DatasetSummary",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseStats",
    "LocalRun",
    "Page",
    "PortfolioPosition",
    "StaleSessionError",
    "Workflows",
    "browse",
    "build_graph",
    "build_knowledge_base",
    "compare_versions",
    "component_wins",
    "display_name",
    "ensure_default_knowledge_base",
    "evaluation_id",
    "portfolio_positions",
]
