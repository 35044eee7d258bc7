"""What users pass (frames, 2-D arrays, image arrays) as a DataFrame, and pixels back in the form
they came in. Shared by the plugins' estimators so that every family reads input the same way;
`TakesTables` tells scikit-learn that an estimator reads such tables whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_frame(X, columns=None) -> pd.DataFrame:
    """A DataFrame with string column names; arrays are flattened per row and named x0, x1, ..."""
    if isinstance(X, pd.DataFrame):
        # TabularEncoder names columns by str(name): frames with other names (0, 1, ...) are
        # renamed so that fitting and transforming look up the same names.
        if not all(isinstance(c, str) for c in X.columns):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        return X
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    if columns is None or len(columns) != arr.shape[1]:
        columns = [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=list(columns))


def image_form(pixels: np.ndarray, shape, columns):
    """Flat pixel rows as (n, *shape) when fitted on an image array, else as pixel columns."""
    if shape is not None:
        return pixels.reshape((len(pixels),) + tuple(shape))
    if columns is not None:
        return pd.DataFrame(pixels, columns=columns)
    return pixels


class TakesTables:
    """scikit-learn tags of an estimator that reads mixed tables itself: missing values,
    categorical and text columns are all accepted (put it before `BaseEstimator` in the bases)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def column_type(column: pd.Series) -> dict:
    """What `typed_column` needs to give drawn values a column's dtype back, as plain values (a
    saved model holds no pandas dtype objects): its name and, for a `category`, its categories."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return {"dtype": "category", "categories": list(column.dtype.categories), "ordered": bool(column.dtype.ordered)}
    return {"dtype": str(column.dtype)}


def typed_column(values, kind: dict, index=None) -> pd.Series:
    """`values` as a Series of the column type `kind` (from `column_type`): a category column
    keeps every category, drawn or not."""
    values = pd.Series(list(values), index=index, dtype=object)
    if kind.get("categories") is not None:
        return pd.Series(pd.Categorical(values, categories=kind["categories"], ordered=kind.get("ordered", False)), index=values.index)
    try:
        return values.astype(pd.api.types.pandas_dtype(kind["dtype"]))
    except (TypeError, ValueError):
        return values
