"""From what users pass (mixed-type tables, sequences, pixel columns, image arrays) to visible
units, and back.

Images become Bernoulli visible units: pixels mapped from their range to [0, 1], read as
probabilities. Tables and sequences go through the core's `TabularEncoder`; when every value
already lies in [0, 1] (flags, shares, one-hot levels) they feed Bernoulli units as they are,
otherwise they are standardised column by column for Gaussian visible units of unit variance.
`visible=` overrides the choice (Bernoulli units on other tables see min-max scaled columns). The estimator remembers the form it was fitted on, so that
`sample` and denoising `transform` answer in that form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted, validate_data

from advisor.sdk import TabularEncoder, as_frame, image_form


def _array_shape(X):
    """The per-row shape of an (N, H, W[, C]) image array; None for anything else."""
    return tuple(X.shape[1:]) if isinstance(X, np.ndarray) and X.ndim > 2 else None


def _unit_interval(frame: pd.DataFrame) -> bool:
    """Whether every column is categorical, boolean or numeric within [0, 1] (then Bernoulli
    units fit the table as it is: one-hot levels, flags and shares are probabilities)."""
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            return False
    return True


class VisibleMixin:
    """Encoding for the DBN estimators (needs the `image_shape` and `visible` parameters)."""

    def _validated(self, X, reset: bool):
        """scikit-learn's checks on 2-D input (shape, feature names, complex numbers); image
        arrays of shape (N, H, W[, C]) pass as they are. Frames keep their dtypes."""
        if _array_shape(X) is not None:
            if reset:
                self.n_features_in_ = int(np.prod(np.shape(X)[1:]))
            return X
        checked = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        return X if isinstance(X, pd.DataFrame) else checked

    def _fit_inputs(self, X) -> np.ndarray:
        arr_shape = _array_shape(X)
        self.input_shape_ = arr_shape
        image = arr_shape is not None or self.image_shape is not None
        frame = as_frame(X)
        if self.visible not in ("auto", "bernoulli", "gaussian"):
            raise ValueError(f"visible must be 'auto', 'bernoulli' or 'gaussian', got {self.visible!r}")
        kind = self.visible if self.visible != "auto" else ("bernoulli" if image or _unit_interval(frame) else "gaussian")
        self.visible_ = kind
        self.columns_ = [str(c) for c in frame.columns] if isinstance(X, pd.DataFrame) else None
        if image:
            shape = tuple(int(s) for s in (self.image_shape or arr_shape))
            if frame.shape[1] != int(np.prod(shape)):
                raise ValueError(f"image_shape {shape} needs {int(np.prod(shape))} pixel columns, got {frame.shape[1]}")
            self.image_shape_ = shape
            values = frame.to_numpy(dtype=np.float64)
            self.pixel_low_, self.pixel_high_ = float(np.nanmin(values)), float(np.nanmax(values))
            if not self.pixel_high_ > self.pixel_low_:
                self.pixel_high_ = self.pixel_low_ + 1.0
            fill = np.nanmean(values, axis=0)
            self.pixel_fill_ = np.where(np.isfinite(fill), fill, self.pixel_low_)
            self.encoder_ = None
            unit = self._unit_pixels(values)
            if kind == "gaussian":
                self.v_mean_, sd = unit.mean(axis=0), unit.std(axis=0)
                self.v_scale_ = np.where(sd > 1e-8, sd, 1.0)
                return ((unit - self.v_mean_) / self.v_scale_).astype(np.float32)
            return unit.astype(np.float32)
        self.image_shape_ = None
        self.encoder_ = TabularEncoder(numeric="standard", categorical="onehot", missing_indicators=True, max_levels=50).fit(frame)
        Z = self.encoder_.transform(frame).astype(np.float64)
        if kind == "gaussian":
            self.v_mean_, sd = Z.mean(axis=0), Z.std(axis=0)
            self.v_scale_ = np.where(sd > 1e-8, sd, 1.0)
        else:
            self.v_mean_ = Z.min(axis=0)
            span = Z.max(axis=0) - self.v_mean_
            self.v_scale_ = np.where(span > 1e-8, span, 1.0)
        return ((Z - self.v_mean_) / self.v_scale_).astype(np.float32)

    def _unit_pixels(self, values):
        values = np.where(np.isfinite(values), values, self.pixel_fill_)
        return np.clip((values - self.pixel_low_) / (self.pixel_high_ - self.pixel_low_), 0.0, 1.0)

    def _encode(self, X) -> np.ndarray:
        check_is_fitted(self, "visible_")
        frame = as_frame(X, self.columns_)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input")
        if self.image_shape_ is not None:
            unit = self._unit_pixels(frame.to_numpy(dtype=np.float64))
            if self.visible_ == "gaussian":
                return ((unit - self.v_mean_) / self.v_scale_).astype(np.float32)
            return unit.astype(np.float32)
        Z = self.encoder_.transform(frame).astype(np.float64)
        V = (Z - self.v_mean_) / self.v_scale_
        if self.visible_ == "bernoulli":
            V = np.clip(V, 0.0, 1.0)
        return V.astype(np.float32)

    def _raw(self, V: np.ndarray) -> np.ndarray:
        """Visible values back to the encoder's (or the pixels') units."""
        V = np.asarray(V, dtype=np.float64)
        if self.image_shape_ is not None:
            unit = V * self.v_scale_ + self.v_mean_ if self.visible_ == "gaussian" else V
            unit = np.clip(unit, 0.0, 1.0)
            return self.pixel_low_ + unit * (self.pixel_high_ - self.pixel_low_)
        return V * self.v_scale_ + self.v_mean_

    def _decode_samples(self, V: np.ndarray, rng: np.random.Generator):
        raw = self._raw(V)
        if self.image_shape_ is not None:
            return self._image_form(raw, self.input_shape_, self.columns_)
        return self.encoder_.inverse_transform(raw, random_state=int(rng.integers(2**31)))

    def _decode_denoised(self, V: np.ndarray, X):
        like_shape = _array_shape(X)
        columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
        raw = self._raw(V)
        if self.image_shape_ is not None:
            return self._image_form(raw, like_shape, columns)
        out = np.empty((len(raw), len(self.encoder_.specs_)), dtype=np.float64)
        for j, spec in enumerate(self.encoder_.specs_):
            if spec.kind == "categorical":
                raise ValueError(f"denoising needs numeric columns; {spec.name!r} is categorical")
            out[:, j] = raw[:, spec.start] * spec.scale + spec.center  # numeric="standard": inverse z-score
        if columns is not None:
            return pd.DataFrame(out, columns=columns, index=X.index)
        return out

    _image_form = staticmethod(image_form)
