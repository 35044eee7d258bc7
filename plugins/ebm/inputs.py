"""From what users pass (mixed-type tables, pixel columns, image arrays) to a float matrix, and back.

Tables go through the core's `TabularEncoder` (one-hot categoricals, missing-value indicators),
then every encoded column is standardised, so that noise levels mean the same thing on every
column. Images keep their pixel layout and are mapped from their pixel range to [-1, 1]. The
estimator remembers the form it was fitted on, so that `sample` and denoising `transform`
answer in that form (a DataFrame with the same columns, or an (n, H, W[, C]) array).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import TabularEncoder, as_frame, image_form

IMAGE_LOW, IMAGE_HIGH = -1.0, 1.0


class InputsMixin:
    """Encoding and decoding for the energy estimators (needs `image_shape` and `numeric` params)."""

    def _is_image(self, X=None) -> bool:
        if X is not None and not isinstance(X, pd.DataFrame) and np.ndim(X) > 2:
            return True
        return self.image_shape is not None

    def _fit_inputs(self, X) -> np.ndarray:
        arr_shape = tuple(np.shape(X)[1:]) if not isinstance(X, pd.DataFrame) and np.ndim(X) > 2 else None
        self.input_shape_ = arr_shape
        if self._is_image(X):
            shape = tuple(int(s) for s in (self.image_shape or arr_shape))
            self.image_shape_ = shape
            frame = as_frame(X)
            if frame.shape[1] != int(np.prod(shape)):
                raise ValueError(f"image_shape {shape} needs {int(np.prod(shape))} pixel columns, got {frame.shape[1]}")
            values = frame.to_numpy(dtype=np.float64)
            self.columns_ = [str(c) for c in frame.columns] if isinstance(X, pd.DataFrame) else None
            self.pixel_low_ = float(np.nanmin(values))
            self.pixel_high_ = float(np.nanmax(values))
            if not self.pixel_high_ > self.pixel_low_:
                self.pixel_high_ = self.pixel_low_ + 1.0
            self.pixel_fill_ = np.where(np.isfinite(np.nanmean(values, axis=0)), np.nanmean(values, axis=0), self.pixel_low_)
            self.encoder_ = None
            self.n_features_in_ = values.shape[1]
            return self._encode(X)
        self.image_shape_ = None
        frame = as_frame(X)
        self.columns_ = [str(c) for c in frame.columns]
        self.encoder_ = TabularEncoder(numeric=self.numeric, categorical="onehot", missing_indicators=True, max_levels=50).fit(frame)
        Z = self.encoder_.transform(frame).astype(np.float64)
        self.z_mean_ = Z.mean(axis=0)
        sd = Z.std(axis=0)
        self.z_scale_ = np.where(sd > 1e-8, sd, 1.0)
        self.n_features_in_ = frame.shape[1]
        return ((Z - self.z_mean_) / self.z_scale_).astype(np.float32)

    def _encode(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        frame = as_frame(X, self.columns_)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input")
        if self.image_shape_ is not None:
            values = frame.to_numpy(dtype=np.float64)
            values = np.where(np.isfinite(values), values, self.pixel_fill_)
            unit = (values - self.pixel_low_) / (self.pixel_high_ - self.pixel_low_)
            return (IMAGE_LOW + (IMAGE_HIGH - IMAGE_LOW) * unit).astype(np.float32)
        Z = self.encoder_.transform(frame).astype(np.float64)
        return ((Z - self.z_mean_) / self.z_scale_).astype(np.float32)

    def _pixels(self, Z: np.ndarray) -> np.ndarray:
        unit = (np.asarray(Z, dtype=np.float64) - IMAGE_LOW) / (IMAGE_HIGH - IMAGE_LOW)
        return np.clip(self.pixel_low_ + unit * (self.pixel_high_ - self.pixel_low_), self.pixel_low_, self.pixel_high_)

    def _decode_samples(self, Z: np.ndarray, rng: np.random.Generator):
        """Generated rows in the form the estimator was fitted on."""
        if self.image_shape_ is not None:
            return self._image_form(self._pixels(Z), self.input_shape_, self.columns_)
        raw = np.asarray(Z, dtype=np.float64) * self.z_scale_ + self.z_mean_
        return self.encoder_.inverse_transform(raw, random_state=int(rng.integers(2**31)))

    def _decode_denoised(self, Z: np.ndarray, X):
        """Denoised values in the form of the noisy input `X` (numeric columns only)."""
        like_shape = tuple(np.shape(X)[1:]) if not isinstance(X, pd.DataFrame) and np.ndim(X) > 2 else None
        columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
        if self.image_shape_ is not None:
            return self._image_form(self._pixels(Z), like_shape, columns)
        raw = np.asarray(Z, dtype=np.float64) * self.z_scale_ + self.z_mean_
        out = np.empty((len(raw), len(self.encoder_.specs_)), dtype=np.float64)
        for j, spec in enumerate(self.encoder_.specs_):
            if spec.kind == "categorical":
                raise ValueError(f"denoising needs numeric columns; {spec.name!r} is categorical")
            # Denoisers encode with numeric="standard": decoding is the inverse z-score.
            out[:, j] = raw[:, spec.start] * spec.scale + spec.center
        if columns is not None:
            return pd.DataFrame(out, columns=columns, index=X.index)
        return out

    _image_form = staticmethod(image_form)
