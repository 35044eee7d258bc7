"""From user data to the diffusion model's numbers and back (numpy and pandas only, no torch).

- `TableSpace`: a mixed-type table becomes Gaussian columns (numerics, through a rank-Gauss map
  as in TabDDPM) and category codes (categoricals, booleans, missing-value indicators), and
  generated numbers become a DataFrame with the original columns, dtypes and levels again
  (`advisor.nn.encoding.TabularEncoder` restores those).
- `ImageSpace`: pixel columns or (N, H, W[, C]) arrays become (N, C, H, W) arrays in [-1, 1].
- `NumericSpace`: an all-numeric table, standardised per column (denoising needs a linear map,
  so that Gaussian noise stays Gaussian).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from advisor.sdk import TabularEncoder, as_frame


def decimals(values: np.ndarray, most: int = 6) -> int | None:
    """The fewest decimals that write every finite value exactly (None: more than `most`).

    Data recorded to 0.1 °C should come back to 0.1 °C: a value off the grid by a rounding
    error is a give-away to any classifier that compares synthetic with real rows.
    """
    v = values[np.isfinite(values)]
    for d in range(most + 1):
        scaled = v * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return None


class RankGauss:
    """Each column to a standard normal through its empirical CDF (knots at up to 1,000 quantiles).

    Tied values (integer columns, zero-inflated columns) own a band of ranks; training rows are
    spread uniformly over their band, so the model sees a continuous density, and the inverse map
    sends the whole band back to the tied value. Values between knots interpolate, so generated
    numbers need not be copies of training values.
    """

    def __init__(self, n_quantiles: int = 1000):
        self.n_quantiles = n_quantiles

    def fit(self, V: np.ndarray) -> RankGauss:
        self.knots_, self.eps_ = [], []
        for j in range(V.shape[1]):
            v = V[:, j]
            v = np.sort(v[np.isfinite(v)])
            if v.size == 0:
                v = np.zeros(1)
            m = int(min(self.n_quantiles, max(v.size, 2)))
            self.knots_.append(np.quantile(v, np.linspace(0, 1, m)))
            self.eps_.append(0.5 / max(v.size, 1))
        return self

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        hi = ndtri(1 - np.asarray(self.eps_))
        return -hi, hi

    def transform(self, V: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        out = np.zeros(V.shape, dtype=float)
        for j, q in enumerate(self.knots_):
            v = V[:, j]
            probs = np.linspace(0, 1, len(q))
            u, first = np.unique(q, return_index=True)
            last = np.r_[first[1:] - 1, len(q) - 1]
            pmin, pmax = probs[first], probs[last]
            k = np.searchsorted(u, np.nan_to_num(v, nan=u[0]))
            kc = np.clip(k, 0, len(u) - 1)
            exact = (k < len(u)) & (u[kc] == v)
            w = rng.uniform(size=len(v)) if rng is not None else np.full(len(v), 0.5)
            rank = pmin[kc] + w * (pmax[kc] - pmin[kc])
            lo, hi = np.clip(k - 1, 0, len(u) - 1), kc
            gap = u[hi] - u[lo]
            frac = np.where(gap > 0, (v - u[lo]) / np.where(gap > 0, gap, 1.0), 0.0)
            between = pmax[lo] + frac * (pmin[hi] - pmax[lo])
            rank = np.where(exact, rank, np.where(k == 0, 0.0, np.where(k >= len(u), 1.0, between)))
            out[:, j] = ndtri(np.clip(rank, self.eps_[j], 1 - self.eps_[j]))
        return out

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        out = np.zeros(Z.shape, dtype=float)
        for j, q in enumerate(self.knots_):
            out[:, j] = np.interp(ndtr(Z[:, j]), np.linspace(0, 1, len(q)), q)
        return out


class TableSpace:
    """Mixed-type table <-> (Gaussian columns, category codes).

    Parameters:
        numeric: "quantile" (rank-Gauss, for generation) or "standard" (z-scores, which keep
            outliers far out: better for anomaly scores).
        max_levels: categorical levels beyond this many most frequent ones share one code.
    """

    def __init__(self, numeric: str = "quantile", max_levels: int = 100):
        if numeric not in ("quantile", "standard"):
            raise ValueError(f"numeric must be 'quantile' or 'standard', got {numeric!r}")
        self.numeric = numeric
        self.max_levels = max_levels

    def fit(self, frame: pd.DataFrame) -> TableSpace:
        enc = TabularEncoder(numeric="standard", categorical="onehot", missing_indicators=True, max_levels=self.max_levels)
        self.encoder = enc.fit(frame)
        self.num_cols = [s.start for s in enc.specs_ if s.kind == "numeric"]
        self.num_indicators = [s.indicator if s.indicator is not None else -1 for s in enc.specs_ if s.kind == "numeric"]
        parts = []  # (kind, output column, number of codes)
        for s in enc.specs_:
            if s.kind == "categorical":
                parts.append(("block", s.start, len(s.levels)))
            elif s.kind == "boolean":
                parts.append(("bool", s.start, 2))
            if s.indicator is not None:
                parts.append(("ind", s.indicator, 2))
        self.parts = parts
        self.decimals = {}
        for spec in enc.specs_:
            if spec.kind == "numeric" and not spec.integer:
                d = decimals(pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
                if d is not None:
                    self.decimals[spec.name] = d
        Z = enc.transform(frame)
        V = self._numbers(Z)
        if self.numeric == "quantile":
            self.rank = RankGauss().fit(V)
            self.low, self.high = self.rank.bounds()
        else:
            self.rank = None
            finite = np.where(np.isfinite(V), V, 0.0)
            self.low = finite.min(axis=0) - 1.0 if len(V) else np.zeros(V.shape[1])
            self.high = finite.max(axis=0) + 1.0 if len(V) else np.zeros(V.shape[1])
        return self

    @property
    def cardinalities(self) -> tuple[int, ...]:
        return tuple(k for _, _, k in self.parts)

    def _numbers(self, Z: np.ndarray) -> np.ndarray:
        V = Z[:, self.num_cols].astype(float)
        for j, ind in enumerate(self.num_indicators):
            if ind >= 0:
                V[Z[:, ind] > 0.5, j] = np.nan
        return V

    def encode(self, X, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(numbers float32 (n, d), codes int64 (n, c)). Missing numbers are drawn from N(0, 1)
        with `rng` (0 without), so they leave no spike; the indicator code says they are missing."""
        Z = self.encoder.transform(as_frame(X))
        V = self._numbers(Z)
        missing = ~np.isfinite(V)
        num = self.rank.transform(V, rng) if self.rank is not None else np.where(missing, 0.0, V)
        if missing.any():
            num[missing] = rng.normal(size=int(missing.sum())) if rng is not None else 0.0
        codes = np.zeros((len(Z), len(self.parts)), dtype=np.int64)
        for j, (kind, col, k) in enumerate(self.parts):
            if kind == "block":
                codes[:, j] = np.argmax(Z[:, col : col + k], axis=1)
            elif kind == "bool":
                codes[:, j] = Z[:, col] > 0
            else:
                codes[:, j] = Z[:, col] > 0.5
        return num.astype(np.float32), codes

    def decode(self, num: np.ndarray, codes: np.ndarray, random_state=None) -> pd.DataFrame:
        n = len(num)
        Z = np.zeros((n, self.encoder.n_output_))
        Z[:, self.num_cols] = self.rank.inverse(num) if self.rank is not None else num
        rows = np.arange(n)
        for j, (kind, col, _k) in enumerate(self.parts):
            if kind == "block":
                Z[rows, col + codes[:, j]] = 1.0
            elif kind == "bool":
                Z[:, col] = np.where(codes[:, j] == 1, 1.0, -1.0)
            else:
                Z[:, col] = codes[:, j]
        frame = self.encoder.inverse_transform(Z, random_state=random_state)
        for name, d in self.decimals.items():
            frame[name] = frame[name].round(d)
        return frame


class _Form:
    """Remembers the form data came in (frame with columns and dtypes, or array shape)."""

    def _remember(self, X):
        if isinstance(X, pd.DataFrame):
            self.columns = [str(c) for c in X.columns]
            self.dtypes = [str(t) for t in X.dtypes]
            self.array_shape = None
        else:
            self.columns, self.dtypes = None, None
            self.array_shape = tuple(np.shape(X)[1:])

    def _restore(self, flat: np.ndarray, like=None, index=None):
        """(n, p) floats -> the remembered form, or the form of `like` when given."""
        if like is not None:
            if isinstance(like, pd.DataFrame):
                return pd.DataFrame(flat, columns=like.columns, index=like.index)
            return flat.reshape((len(flat),) + tuple(np.shape(like)[1:]))
        if self.columns is None:
            return flat.reshape((len(flat),) + self.array_shape)
        frame = pd.DataFrame(flat, columns=self.columns)
        for col, dtype in zip(self.columns, self.dtypes):
            target = pd.api.types.pandas_dtype(dtype)
            if pd.api.types.is_integer_dtype(target) or pd.api.types.is_bool_dtype(target):
                frame[col] = np.round(frame[col].to_numpy()).astype(target)
            elif pd.api.types.is_float_dtype(target):
                frame[col] = frame[col].astype(target)
        return frame


MAX_LEVELS = 256


class ImageSpace(_Form):
    """Images <-> (N, C, H, W) float arrays in [-1, 1] (pixel range taken from the training data)."""

    def __init__(self, image_shape):
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"image_shape must be (H, W) or (H, W, C), got {image_shape}")
        self.shape = shape if len(shape) == 3 else shape + (1,)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def _flat(self, X) -> np.ndarray:
        arr = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)
        arr = arr.reshape(len(arr), -1)
        if arr.shape[1] != self.size:
            raise ValueError(f"expected images of shape {self.shape} ({self.size} values each), got {arr.shape[1]} values")
        return arr

    def fit(self, X) -> ImageSpace:
        self._remember(X)
        flat = self._flat(X)
        finite = flat[np.isfinite(flat)]
        self.low = float(finite.min()) if finite.size else 0.0
        self.high = float(finite.max()) if finite.size else 1.0
        if self.high <= self.low:
            self.high = self.low + 1.0
        mean = np.nanmean(np.where(np.isfinite(flat), flat, np.nan), axis=0) if len(flat) else np.zeros(self.size)
        self.fill = np.where(np.isfinite(mean), mean, self.low)
        levels = np.unique(finite)
        self.levels = levels if len(levels) <= MAX_LEVELS else None
        with np.errstate(all="ignore"):
            low, high = np.nanmin(np.where(np.isfinite(flat), flat, np.nan), axis=0), np.nanmax(np.where(np.isfinite(flat), flat, np.nan), axis=0)
        self.pixel_low = np.where(np.isfinite(low), low, self.low)
        self.pixel_high = np.where(np.isfinite(high), high, self.high)
        return self

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel (C, H, W) range seen in training, in model units: a border pixel that was
        always blank stays blank."""
        h, w, c = self.shape

        def model(v):
            return (2 * (v - self.low) / (self.high - self.low) - 1).reshape(h, w, c).transpose(2, 0, 1).astype(np.float32)

        return model(self.pixel_low), model(self.pixel_high)

    def encode(self, X) -> np.ndarray:
        flat = self._flat(X)
        flat = np.where(np.isfinite(flat), flat, self.fill)
        scaled = 2 * (flat - self.low) / (self.high - self.low) - 1
        h, w, c = self.shape
        return scaled.reshape(len(flat), h, w, c).transpose(0, 3, 1, 2).astype(np.float32)

    def decode(self, x: np.ndarray, like=None, snap: bool = False):
        """Model arrays back to images; `snap` rounds each pixel to the nearest level seen in
        training when there were at most 256 of them (8-bit images, counts), as the discrete
        decoder of Ho et al. (2020) does: off-grid values would give synthetic images away."""
        x = np.clip(np.asarray(x, dtype=float), -1, 1).transpose(0, 2, 3, 1).reshape(len(x), self.size)
        values = (x + 1) / 2 * (self.high - self.low) + self.low
        if snap and self.levels is not None and len(self.levels) > 1:
            mids = (self.levels[1:] + self.levels[:-1]) / 2
            values = self.levels[np.searchsorted(mids, values)]
        return self._restore(values, like)

    @property
    def unit(self) -> float:
        """Model units per unit of noise std given as a share of the pixel range."""
        return 2.0


class NumericSpace(_Form):
    """An all-numeric table <-> per-column z-scores (missing values set to the column mean)."""

    def fit(self, X) -> NumericSpace:
        self._remember(X)
        values = as_frame(X).to_numpy(dtype=float)
        with np.errstate(all="ignore"):
            mean = np.nanmean(values, axis=0) if len(values) else np.zeros(values.shape[1])
            sd = np.nanstd(values, axis=0) if len(values) else np.ones(values.shape[1])
        self.mean = np.where(np.isfinite(mean), mean, 0.0)
        self.sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        self.n_columns = values.shape[1]
        return self

    def encode(self, X) -> np.ndarray:
        values = as_frame(X).to_numpy(dtype=float)
        if values.shape[1] != self.n_columns:
            raise ValueError(f"expected {self.n_columns} columns, got {values.shape[1]}")
        z = (values - self.mean) / self.sd
        return np.where(np.isfinite(z), z, 0.0).astype(np.float32)

    def decode(self, z: np.ndarray, like=None):
        return self._restore(np.asarray(z, dtype=float) * self.sd + self.mean, like)

    @property
    def unit(self) -> float:
        """Model units per unit of noise std given in column standard deviations."""
        return 1.0
