"""Mixed-dtype tables to a float matrix and back.

Deep families need numbers; users have DataFrames with strings, integers, booleans and holes.
`TabularEncoder` maps each column to numbers (numeric: standardised or quantile-normalised, with
a missing-value indicator; categorical: one-hot or integer codes, missing as its own level) and
`inverse_transform` maps generated numbers back to the original column names, dtypes, category
levels, integer-ness, value ranges and missing values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from advisor.nn.frames import TakesTables, as_frame
OTHER = "__other__"


@dataclass
class ColumnSpec:
    """How one column is encoded, and everything needed to restore it."""

    name: str
    kind: str  # numeric | boolean | categorical
    dtype: str  # the original dtype's name, restored with pandas_dtype (kept as text so it saves safely)
    start: int = 0  # first output column of this column's block
    width: int = 1  # width of the value part (1 for numeric, number of levels for one-hot)
    indicator: int | None = None  # output column of the missing-value indicator (numeric)
    integer: bool = False
    support: np.ndarray | None = None  # the few values a discrete numeric column takes
    decimals: int | None = None  # decimals the values were recorded with (up to 6)
    low: float = 0.0
    high: float = 0.0
    center: float = 0.0
    scale: float = 1.0
    quantiles: np.ndarray | None = None
    levels: list = field(default_factory=list)  # categorical levels in output order (None = missing)
    categories: list | None = None  # the categories of a pandas `category` column
    tail_levels: list = field(default_factory=list)  # grouped into OTHER
    tail_weights: np.ndarray | None = None

    @property
    def value_slice(self) -> slice:
        return slice(self.start, self.start + self.width)


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)) or isinstance(
        s.dtype, pd.CategoricalDtype
    )


class TabularEncoder(TakesTables, TransformerMixin, BaseEstimator):
    """Encode a mixed-type DataFrame as a float32 matrix, and decode it back.

    Parameters:
        numeric: "standard" (z-score), "quantile" (rank-based map to a standard normal, robust to
            skew and outliers, as in TabDDPM) or "minmax" (to [-1, 1]).
        categorical: "onehot" or "codes" (one integer-coded column per categorical).
        missing_indicators: add a 0/1 column for each numeric column that has missing values.
        max_levels: categorical levels beyond this many most frequent ones share one bucket; on
            decoding, the bucket becomes one of its levels drawn by frequency.
        dtype: "float32" (what torch models take; about 7 significant digits) or "float64"
            (exact round trips of large integers).
        snap_values: a numeric column with at most this many distinct values (a rating, a
            count, a coded answer) is decoded to the nearest value it takes in the data, so that
            generated rows hold no value the column never had; 0 turns snapping off.
    """

    def __init__(self, numeric="standard", categorical="onehot", missing_indicators=True, max_levels=100, dtype="float32", snap_values=32):
        self.numeric = numeric
        self.categorical = categorical
        self.missing_indicators = missing_indicators
        self.max_levels = max_levels
        self.dtype = dtype
        self.snap_values = snap_values

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        X = as_frame(X)
        if self.numeric not in ("standard", "quantile", "minmax"):
            raise ValueError(f"numeric must be 'standard', 'quantile' or 'minmax', got {self.numeric!r}")
        if self.categorical not in ("onehot", "codes"):
            raise ValueError(f"categorical must be 'onehot' or 'codes', got {self.categorical!r}")
        specs, pos = [], 0
        for name in X.columns:
            s = X[name]
            if pd.api.types.is_bool_dtype(s):
                spec = ColumnSpec(str(name), "boolean", str(s.dtype), low=0.0, high=1.0, integer=True)
                spec.center, spec.scale = 0.5, 0.5
            elif _is_categorical(s):
                spec = self._fit_categorical(str(name), s)
            else:
                spec = self._fit_numeric(str(name), s)
            spec.start = pos
            pos += spec.width
            if spec.kind != "categorical" and self.missing_indicators and s.isna().any():
                spec.indicator = pos
                pos += 1
            specs.append(spec)
        self.columns_ = [str(c) for c in X.columns]
        self.specs_ = specs
        self.n_output_ = pos
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_numeric(self, name, s):
        values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            finite = np.zeros(1)
        spec = ColumnSpec(name, "numeric", str(s.dtype), low=float(finite.min()), high=float(finite.max()))
        spec.integer = bool(np.all(finite == np.round(finite)))
        distinct = np.unique(finite)
        if 0 < len(distinct) <= self.snap_values:
            spec.support = distinct
        spec.decimals = _recorded_decimals(distinct)
        if self.numeric == "standard":
            spec.center, spec.scale = float(finite.mean()), float(finite.std()) or 1.0
        elif self.numeric == "minmax":
            spec.center = (spec.high + spec.low) / 2
            spec.scale = (spec.high - spec.low) / 2 or 1.0
        else:
            probs = np.linspace(0, 1, min(1000, max(finite.size, 2)))
            spec.quantiles = np.quantile(finite, probs)
        return spec

    def _fit_categorical(self, name, s):
        counts = s.astype(object).where(s.notna(), None).value_counts(dropna=False)
        levels = [None if (k is None or (isinstance(k, float) and np.isnan(k))) else k for k in counts.index]
        spec = ColumnSpec(name, "categorical", str(s.dtype))
        if isinstance(s.dtype, pd.CategoricalDtype):
            spec.categories = list(s.dtype.categories)
        if len(levels) > self.max_levels:
            keep = self.max_levels - 1
            spec.tail_levels = levels[keep:]
            tail_counts = counts.to_numpy()[keep:].astype(float)
            spec.tail_weights = tail_counts / tail_counts.sum()
            levels = levels[:keep] + [OTHER]
        # Sorted for a stable layout; missing (None) goes last.
        present = sorted((lv for lv in levels if lv is not None), key=lambda v: (str(type(v)), str(v)))
        spec.levels = present + ([None] if None in levels else [])
        spec.width = len(spec.levels) if self.categorical == "onehot" else 1
        return spec

    # -- encoding ------------------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "specs_")
        X = as_frame(X)
        missing_cols = [c for c in self.columns_ if c not in X.columns]
        if missing_cols:
            raise ValueError(f"columns missing from the data: {missing_cols[:5]}")
        out = np.zeros((len(X), self.n_output_), dtype=np.dtype(self.dtype))
        for spec in self.specs_:
            s = X[spec.name]
            if spec.kind == "categorical":
                self._encode_categorical(spec, s, out)
                continue
            values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            missing = ~np.isfinite(values)
            z = self._forward(spec, np.where(missing, np.nan, values))
            out[:, spec.start] = np.where(missing, 0.0, z)
            if spec.indicator is not None:
                out[:, spec.indicator] = missing
        return out

    def _forward(self, spec, values):
        if spec.quantiles is not None and spec.kind == "numeric":
            from scipy.stats import norm

            grid = np.linspace(0, 1, len(spec.quantiles))
            # Tied quantiles (a column with few values) map to the middle of their band,
            # not its top: the average of interpolating from the left and from the right.
            up = np.interp(values, spec.quantiles, grid)
            down = 1 - np.interp(-values, -spec.quantiles[::-1], grid)
            return norm.ppf(np.clip((up + down) / 2, 1e-3, 1 - 1e-3))
        return (values - spec.center) / spec.scale

    def _encode_categorical(self, spec, s, out):
        index = {(lv if lv is not None else None): i for i, lv in enumerate(spec.levels)}
        other = index.get(OTHER)
        missing_code = index.get(None)
        codes = np.full(len(s), -1, dtype=int)
        for i, v in enumerate(s.astype(object).to_numpy()):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                codes[i] = missing_code if missing_code is not None else -1
            else:
                codes[i] = index.get(v, other if other is not None else -1)
        if self.categorical == "codes":
            out[:, spec.start] = codes
            return
        rows = np.nonzero(codes >= 0)[0]
        out[rows, spec.start + codes[rows]] = 1.0

    # -- decoding ------------------------------------------------------------------------------
    def inverse_transform(self, Z, random_state=None) -> pd.DataFrame:
        """Numbers back to a DataFrame with the original columns, dtypes and levels.

        Values are clipped to the range seen in training and rounded where the column held
        integers; one-hot blocks take their largest entry; an indicator above 0.5 means missing.
        """
        check_is_fitted(self, "specs_")
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != self.n_output_:
            raise ValueError(f"expected an array of shape (n, {self.n_output_}), got {Z.shape}")
        rng = np.random.default_rng(random_state)
        data = {}
        for spec in self.specs_:
            if spec.kind == "categorical":
                data[spec.name] = self._decode_categorical(spec, Z, rng)
                continue
            values = self._backward(spec, Z[:, spec.start])
            values = np.clip(values, spec.low, spec.high)
            if spec.support is not None:
                values = _snap(values, spec.support)
            elif spec.integer:
                values = np.round(values)
            elif spec.decimals is not None:
                # float32 arithmetic leaves values 1e-7 off the grid the data were recorded on,
                # which a classifier telling real from generated rows notices at once.
                values = np.round(values, spec.decimals)
            missing = Z[:, spec.indicator] > 0.5 if spec.indicator is not None else np.zeros(len(Z), bool)
            data[spec.name] = _restore_numeric(spec, values, missing)
        return pd.DataFrame(data, columns=self.columns_)

    def _backward(self, spec, z):
        if spec.quantiles is not None and spec.kind == "numeric":
            from scipy.stats import norm

            ranks = norm.cdf(z)
            return np.interp(ranks, np.linspace(0, 1, len(spec.quantiles)), spec.quantiles)
        return z * spec.scale + spec.center

    def _decode_categorical(self, spec, Z, rng):
        block = Z[:, spec.value_slice]
        if self.categorical == "onehot":
            codes = np.argmax(block, axis=1)
        else:
            codes = np.clip(np.round(block[:, 0]), 0, len(spec.levels) - 1).astype(int)
        values = np.array(spec.levels, dtype=object)[codes]
        if spec.tail_levels:
            is_other = values == OTHER
            if is_other.any():
                tail = np.empty(len(spec.tail_levels), dtype=object)
                tail[:] = spec.tail_levels
                values[is_other] = rng.choice(tail, size=int(is_other.sum()), p=spec.tail_weights)
        values = pd.Series(values, dtype=object)
        values = values.where(values.notna(), np.nan)
        if spec.categories is not None:
            return pd.Series(pd.Categorical(values, categories=spec.categories))
        try:
            return values.astype(pd.api.types.pandas_dtype(spec.dtype))
        except (TypeError, ValueError):
            return values

    # -- layout helpers for models -------------------------------------------------------------
    @property
    def numeric_columns_(self) -> list[int]:
        """Output columns holding numeric values (indicators excluded)."""
        return [s.start for s in self.specs_ if s.kind != "categorical"]

    @property
    def indicator_columns_(self) -> list[int]:
        return [s.indicator for s in self.specs_ if s.indicator is not None]

    @property
    def categorical_blocks_(self) -> list[slice]:
        """Output slices of the one-hot blocks (or the single code column with `codes`)."""
        return [s.value_slice for s in self.specs_ if s.kind == "categorical"]

    @property
    def categorical_cardinalities_(self) -> list[int]:
        return [len(s.levels) for s in self.specs_ if s.kind == "categorical"]


def _recorded_decimals(values: np.ndarray, most: int = 6) -> int | None:
    """The fewest decimals (up to `most`) that write every value exactly; None if more."""
    sample = values[:1000]
    for d in range(most + 1):
        if np.allclose(sample, np.round(sample, d), rtol=0, atol=10.0 ** -(most + 3)):
            return d
    return None


def _snap(values: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Each value to the nearest element of the sorted `support`."""
    idx = np.clip(np.searchsorted(support, values), 1, len(support) - 1) if len(support) > 1 else np.zeros(len(values), int)
    if len(support) == 1:
        return np.full(len(values), support[0])
    left, right = support[idx - 1], support[idx]
    return np.where(np.abs(values - left) <= np.abs(right - values), left, right)


def _restore_numeric(spec, values, missing):
    if spec.kind == "boolean":
        out = pd.Series(values > 0.5, dtype=object)
        if missing.any():
            out[missing] = np.nan
            return out
        return out.astype(bool)
    dtype = pd.api.types.pandas_dtype(spec.dtype)
    out = pd.Series(values)
    if missing.any():
        out[missing] = np.nan
    try:
        if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, np.dtype) or not missing.any():
            return out.astype(dtype)
    except (TypeError, ValueError):
        pass
    return out.astype(float)
