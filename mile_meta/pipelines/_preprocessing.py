"""The preprocessing every spec starts with, so that any estimator runs on any tabular frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

__all__ = ["TabularPreprocessor", "split_columns"]

_SCALERS: dict[str, Any] = {
    "none": None,
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "quantile": lambda: QuantileTransformer(n_quantiles=100, output_distribution="normal"),
}


def split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric columns and the rest (treated as categorical: strings, categories, booleans)."""
    numeric = [
        column
        for column in frame.columns
        if pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    ]
    categorical = [column for column in frame.columns if column not in set(numeric)]
    return numeric, categorical


class _AsString(TransformerMixin, BaseEstimator):
    """Cast categorical columns to str so mixed-type object columns encode cleanly."""

    def fit(self, X: Any, y: Any = None) -> _AsString:
        return self

    def transform(self, X: Any) -> Any:
        frame = pd.DataFrame(X)
        return frame.astype("string").fillna("__missing__").astype(object).to_numpy()


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Impute, encode categoricals and (optionally) scale numeric columns.

    Parameters
    ----------
    numeric_imputation: "median" | "mean" | "most_frequent"
    categorical_encoding: "onehot" (infrequent levels pooled beyond ``max_categories``)
        or "ordinal" (for tree models; unseen levels map to -1)
    scaling: "none" | "standard" | "minmax" | "robust" | "quantile"
    max_categories: most one-hot columns per categorical feature
    """

    def __init__(
        self,
        numeric_imputation: str = "median",
        categorical_encoding: str = "onehot",
        scaling: str = "none",
        max_categories: int = 32,
    ) -> None:
        self.numeric_imputation = numeric_imputation
        self.categorical_encoding = categorical_encoding
        self.scaling = scaling
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: Any = None) -> TabularPreprocessor:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        numeric, categorical = split_columns(frame)
        transformers: list[tuple[str, Any, list[str]]] = []
        if numeric:
            numeric_steps: list[tuple[str, Any]] = [
                (
                    "impute",
                    SimpleImputer(strategy=self.numeric_imputation, keep_empty_features=True),
                )
            ]
            scaler = _SCALERS.get(self.scaling)
            if self.scaling not in _SCALERS:
                raise ValueError(f"unknown scaling {self.scaling!r}; use one of {sorted(_SCALERS)}")
            if scaler is not None:
                numeric_steps.append(("scale", scaler()))
            transformers.append(("numeric", Pipeline(numeric_steps), numeric))
        if categorical:
            if self.categorical_encoding == "onehot":
                encoder: Any = OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    max_categories=self.max_categories,
                    sparse_output=False,
                    dtype=np.float64,
                )
            elif self.categorical_encoding == "ordinal":
                encoder = OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64
                )
            else:
                raise ValueError(
                    f"unknown categorical_encoding {self.categorical_encoding!r}; use 'onehot' or 'ordinal'"
                )
            transformers.append(
                (
                    "categorical",
                    Pipeline([("as_string", _AsString()), ("encode", encoder)]),
                    categorical,
                )
            )
        self.numeric_columns_ = numeric
        self.categorical_columns_ = categorical
        self.transformer_ = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
        self.transformer_.fit(frame, y)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        transformed = self.transformer_.transform(frame)
        return np.nan_to_num(
            np.asarray(transformed, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0
        )
