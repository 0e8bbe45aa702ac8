"""The public home of the scikit-learn estimators mile-meta defines for its pipelines.

A fitted pipeline refers to its classes by module path when it is pickled
(``model.joblib``). The classes are written in private modules
(``mile_meta.pipelines._preprocessing``, ``mile_meta.pipelines._autosklearn_components``);
importing this module gives each of them a public path here, so a saved model names
``mile_meta.estimators.TabularPreprocessor`` and keeps loading however the private modules
are reorganised. :func:`mile_meta.deploy.save_model` imports this module before pickling.
"""

from __future__ import annotations

import importlib
from typing import Any

from sklearn.base import BaseEstimator

__all__: list[str] = []

# Modules whose estimator classes end up inside fitted pipelines.
_PRIVATE_MODULES = (
    "mile_meta.pipelines._preprocessing",
    "mile_meta.pipelines._autosklearn_components",
)


def _publish() -> None:
    for module_name in _PRIVATE_MODULES:
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            if not (isinstance(value, type) and issubclass(value, BaseEstimator)):
                continue
            if value.__module__ not in (module_name, __name__):  # imported from elsewhere
                continue
            public = name.lstrip("_")
            existing: Any = globals().get(public)
            if existing is not None and existing is not value:
                raise RuntimeError(f"two estimator classes want the public name {public!r}")
            value.__module__ = __name__
            value.__qualname__ = public
            globals()[public] = value
            if public not in __all__:
                __all__.append(public)


_publish()
