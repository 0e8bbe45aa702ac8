"""Test-only estimators that fail in the ways a search must survive (not in the registry)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier

from mile_meta.pipelines import COMPONENTS, ComponentInfo


class _Faulty(ClassifierMixin, BaseEstimator):
    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds

    def predict(self, X):  # pragma: no cover - never reached
        return np.zeros(len(X))


class RaisingClassifier(_Faulty):
    def fit(self, X, y):
        raise ValueError("this estimator always fails")


class SlowClassifier(_Faulty):
    """Sleeps in ``fit``, then behaves like a decision tree."""

    def fit(self, X, y):
        time.sleep(self.seconds)
        self.tree_ = DecisionTreeClassifier(random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X):
        return self.tree_.predict(X)


class MemoryHogClassifier(_Faulty):
    def fit(self, X, y):
        self.hog_ = np.ones((1 << 31,), dtype=np.float64)  # 16 GiB: over any test limit
        return self


class CrashingClassifier(_Faulty):
    def fit(self, X, y):
        os.kill(os.getpid(), signal.SIGKILL)  # the worker dies as in a native crash


FAULTY = (RaisingClassifier, SlowClassifier, MemoryHogClassifier, CrashingClassifier)


def register(monkeypatch) -> None:
    """Make the faulty estimators buildable for the duration of one test."""
    for cls in FAULTY:
        monkeypatch.setitem(
            COMPONENTS,
            cls.__name__,
            ComponentInfo(
                cls.__name__,
                "classifier",
                "decision_tree",
                f"{cls.__module__}:{cls.__name__}",
                encoding="ordinal",
            ),
        )
