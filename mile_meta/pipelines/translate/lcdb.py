"""LCDB's 20 learners: scikit-learn classes with their default hyperparameters.

LCDB 0.1.0 names a learner by its class path (``sklearn.ensemble.RandomForestClassifier``)
or, for the four SVC kernels, ``SVC_<kernel>``.
"""

from __future__ import annotations

from mile_meta.pipelines.components import COMPONENTS, make_spec
from mile_meta.pipelines.translate import Translation

__all__ = ["translate_lcdb"]


def translate_lcdb(learner: str) -> Translation:
    if learner.startswith("SVC_"):
        return Translation(
            learner, make_spec("SVC", {"kernel": learner.removeprefix("SVC_")}), True
        )
    class_name = learner.rsplit(".", 1)[-1]
    if class_name not in COMPONENTS:
        return Translation(learner, None, False, (f"no component for LCDB learner {learner!r}",))
    return Translation(learner, make_spec(class_name), True)
