"""Meta-learners: rank pipelines for a new dataset from the knowledge base.

>>> from mile_meta.kb import KnowledgeBase
>>> from mile_meta.metalearners import GreedyPortfolio, KnowledgeBaseView
>>> view = KnowledgeBaseView.from_kb(KnowledgeBase.open(), "balanced_accuracy")  # doctest: +SKIP
>>> learner = GreedyPortfolio().fit(view)                                          # doctest: +SKIP
>>> ranking = learner.rank({"NumberOfInstances": 1000, "NumberOfFeatures": 20})    # doctest: +SKIP
>>> ranking.top(5)                                                                 # doctest: +SKIP
"""

from mile_meta.metalearners._average_rank import AverageRank
from mile_meta.metalearners._base import Estimate, MetaLearner, Query
from mile_meta.metalearners._collaborative_filtering import CollaborativeFiltering
from mile_meta.metalearners._default import (
    DEFAULT_LEARNERS,
    DefaultModel,
    ModelMetadata,
    default_model_path,
    fit_default_learner,
    load_default_model,
    train_default_model,
)
from mile_meta.metalearners._ensemble import Ensemble
from mile_meta.metalearners._greedy_portfolio import GreedyPortfolio
from mile_meta.metalearners._nearest_datasets import NearestDatasets
from mile_meta.metalearners._performance_model import PerformanceModel
from mile_meta.metalearners._ranking import Evidence, RankedPipeline, Ranking
from mile_meta.metalearners._view import METRIC_EQUIVALENCES, KnowledgeBaseView

__all__ = [
    "DEFAULT_LEARNERS",
    "METRIC_EQUIVALENCES",
    "AverageRank",
    "CollaborativeFiltering",
    "DefaultModel",
    "Ensemble",
    "Estimate",
    "Evidence",
    "GreedyPortfolio",
    "KnowledgeBaseView",
    "MetaLearner",
    "ModelMetadata",
    "NearestDatasets",
    "PerformanceModel",
    "Query",
    "RankedPipeline",
    "Ranking",
    "default_model_path",
    "fit_default_learner",
    "load_default_model",
    "train_default_model",
]
