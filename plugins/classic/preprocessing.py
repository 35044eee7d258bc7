"""Column handling shared by the classic estimators: any DataFrame or array in, numbers out."""

from __future__ import annotations

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from advisor.sdk import as_frame

CATEGORICAL_DTYPES = ["object", "category", "string", "bool"]


def to_frame(X) -> pd.DataFrame:
    """Arrays (including (N, H, W[, C]) images) become frames with columns x0..; frames pass
    (`advisor.sdk.as_frame`). A named function of this module: saved pipelines refer to it."""
    return as_frame(X)


def frame_step() -> FunctionTransformer:
    return FunctionTransformer(to_frame, validate=False, feature_names_out="one-to-one")


def numeric_selector():
    return make_column_selector(dtype_exclude=CATEGORICAL_DTYPES)


def categorical_selector():
    return make_column_selector(dtype_include=CATEGORICAL_DTYPES)


def _categories_as_text(X):
    X = pd.DataFrame(X)
    return X.astype(object).where(X.notna(), "<missing>").astype(str)


def onehot_numeric(scale: bool = True, max_categories: int = 50) -> ColumnTransformer:
    """Median-imputed (and scaled) numerics next to one-hot categoricals (missing as a level)."""
    numeric = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()) if scale else SimpleImputer(strategy="median", keep_empty_features=True)
    categorical = make_pipeline(
        FunctionTransformer(_categories_as_text, feature_names_out="one-to-one"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories, sparse_output=False),
    )
    return ColumnTransformer(
        [("num", numeric, numeric_selector()), ("cat", categorical, categorical_selector())],
        verbose_feature_names_out=False,
    )


class CategoryCaster(TransformerMixin, BaseEstimator):
    """Casts text columns to pandas categories (at most `max_levels` frequent levels, others
    missing) so that HistGradientBoosting splits on them natively."""

    def __init__(self, max_levels: int = 250):
        self.max_levels = max_levels

    def fit(self, X, y=None):
        X = to_frame(X)
        self.levels_ = {}
        for col in X.columns:
            s = X[col]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
                top = s.astype(str)[s.notna()].value_counts().index[: self.max_levels]
                self.levels_[col] = sorted(top)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = to_frame(X).copy()
        for col, levels in self.levels_.items():
            s = X[col]
            text = s.astype(str).where(s.notna() & s.astype(str).isin(levels), None)
            X[col] = pd.Categorical(text, categories=levels)
        return X
