"""From what users pass (mixed-type frames, pixel columns, arrays) to float arrays for the nets.

- tables: the core's `TabularEncoder` (numerics standardised or quantile-normalised with
  missing-value indicators, categoricals one-hot with missing as a level);
- images: pixel columns `p0..` (row-major H, W[, C]) or an `(N, H, W[, C])` array become
  `(N, C, H, W)`, standardised per channel with the training mean and spread;
- sequences: columns `x0..x{L-1}` become `(N, 2, L)`: the values standardised with the training
  mean and spread, and a second channel standardised per row, so that the extractor sees the
  shape of a signal whatever its offset and amplitude.

Missing pixels or sequence values are set to the training mean. No torch here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import TabularEncoder


def as_array_or_frame(X):
    """Reject what no path can take (sparse, complex, 1-D, empty); leave frames as they are."""
    if scipy.sparse.issparse(X):
        raise TypeError("sparse input is not supported; pass a dense array or a DataFrame (X.toarray())")
    if isinstance(X, pd.DataFrame):
        frame = X
        shape = frame.shape
    else:
        frame = np.asarray(X)
        if np.iscomplexobj(frame):
            raise ValueError("Complex data not supported")
        shape = frame.shape
        if frame.ndim < 2:
            raise ValueError(
                f"Expected 2D array, got {'scalar' if frame.ndim == 0 else '1D'} array instead. "
                "Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
                "or array.reshape(1, -1) if it contains a single sample."
            )
    if shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required.")
    if int(np.prod(shape[1:])) == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required.")
    return frame


def _numeric_matrix(X) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        values = X.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(X)
        values = values.reshape(len(values), -1)
        if values.dtype == object:
            values = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.array(values, dtype=np.float64)  # a writable copy (frames may hand out read-only views)
    values[~np.isfinite(values)] = np.nan
    return values


class InputEncoder(BaseEstimator):
    """Turn the estimator's input into float32 arrays shaped for the network.

    Parameters:
        image_shape: (H, W) or (H, W, C) when the columns are pixels; None otherwise (an array
            with more than two dimensions is an image whatever this says).
        sequence: the columns are one ordered signal.
        numeric: tabular numeric scaling, "standard" or "quantile".
    """

    def __init__(self, image_shape=None, sequence=False, numeric="standard"):
        self.image_shape = image_shape
        self.sequence = sequence
        self.numeric = numeric

    def fit(self, X):
        X = as_array_or_frame(X)
        if not isinstance(X, pd.DataFrame) and X.ndim > 2:
            shape = tuple(int(s) for s in X.shape[1:])
            self.kind_ = "image"
            self.shape_ = shape if len(shape) == 3 else shape + (1,)
        elif self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) not in (2, 3):
                raise ValueError(f"image_shape must be (H, W) or (H, W, C), got {self.image_shape!r}")
            self.kind_ = "image"
            self.shape_ = shape if len(shape) == 3 else shape + (1,)
            if int(np.prod(self.shape_)) != X.shape[1]:
                raise ValueError(f"image_shape {shape} needs {int(np.prod(self.shape_))} columns, got {X.shape[1]}")
        elif self.sequence:
            self.kind_ = "sequence"
            self.shape_ = (int(np.prod(np.shape(X)[1:])),)
        else:
            self.kind_ = "tabular"
            self.shape_ = (int(np.prod(np.shape(X)[1:])),)
        if self.kind_ == "tabular":
            frame = _named(X) if isinstance(X, pd.DataFrame) else _frame_of(X)
            self.table_ = TabularEncoder(numeric=self.numeric, categorical="onehot", missing_indicators=True, max_levels=50).fit(frame)
            self.n_inputs_ = int(self.table_.n_output_)
            return self
        values = self._grid(X)
        axes = (0, 2, 3) if self.kind_ == "image" else (0, 2)
        self.center_ = np.nanmean(values, axis=axes).astype(np.float64)
        spread = np.nanstd(values, axis=axes)
        self.scale_ = np.where(np.isfinite(spread) & (spread > 1e-8), spread, 1.0).astype(np.float64)
        self.center_ = np.where(np.isfinite(self.center_), self.center_, 0.0)
        self.n_inputs_ = int(np.prod(values.shape[1:]))
        return self

    def _grid(self, X) -> np.ndarray:
        """Raw values shaped (N, C, H, W) for images, (N, 1, L) for sequences."""
        values = _numeric_matrix(X)
        expected = int(np.prod(self.shape_))
        if values.shape[1] != expected:
            raise ValueError(f"X has {values.shape[1]} features, but this model is expecting {expected} features as input")
        if self.kind_ == "image":
            h, w, c = self.shape_
            return values.reshape(len(values), h, w, c).transpose(0, 3, 1, 2)
        return values.reshape(len(values), 1, -1)

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "kind_")
        X = as_array_or_frame(X)
        if self.kind_ == "tabular":
            frame = _named(X) if isinstance(X, pd.DataFrame) else _frame_of(X, self.table_.columns_)
            return self.table_.transform(frame).astype(np.float32)
        values = self._grid(X)
        extra = (slice(None), None, None) if self.kind_ == "image" else (slice(None), None)
        z = (values - self.center_[extra]) / self.scale_[extra]
        z = np.where(np.isnan(z), 0.0, z)
        if self.kind_ == "sequence":
            spread = z.std(axis=2, keepdims=True)
            own = (z - z.mean(axis=2, keepdims=True)) / np.where(spread > 1e-6, spread, 1.0)
            z = np.concatenate([z, own], axis=1)
        return z.astype(np.float32)

    @property
    def in_channels_(self) -> int:
        return self.shape_[2] if self.kind_ == "image" else 2

    @property
    def size_(self) -> int:
        """The smaller spatial side (images) or the length (sequences)."""
        return min(self.shape_[:2]) if self.kind_ == "image" else self.shape_[0]


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with text column names (the tabular encoder keys its columns by their text)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)


def _frame_of(X, columns=None) -> pd.DataFrame:
    arr = np.asarray(X)
    arr = arr.reshape(len(arr), -1)
    names = columns if columns is not None and len(columns) == arr.shape[1] else [f"x{i}" for i in range(arr.shape[1])]
    frame = pd.DataFrame(arr, columns=names)
    if arr.dtype == object:
        # Object arrays holding numbers stay numeric; anything else is categorical text.
        for name in frame.columns:
            converted = pd.to_numeric(frame[name], errors="coerce")
            if converted.notna().sum() == frame[name].notna().sum():
                frame[name] = converted
            else:
                frame[name] = frame[name].map(lambda v: v if v is None or isinstance(v, float) and np.isnan(v) else str(v))
    return frame
