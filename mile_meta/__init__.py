"""mile-meta: a knowledge base and meta-learning recommender for AutoML."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

# The search as scikit-learn estimators, imported on first use (the CLI starts without sklearn).
__all__ += ["MileMetaClassifier", "MileMetaRegressor"]


def __getattr__(name: str) -> object:
    if name in ("MileMetaClassifier", "MileMetaRegressor"):
        from mile_meta import automl

        return getattr(automl, name)
    raise AttributeError(f"module 'mile_meta' has no attribute {name!r}")
