"""The four task classes of the shared deep engine (`advisor.nn.engine`), and the objective each one trains.

`DeepClassifier` (cross-entropy), `DeepRegressor` (squared error on a standardised target),
`DeepEmbedder` (a supervised net's penultimate layer, or a denoising autoencoder's bottleneck)
and `DeepDenoiser` (trained to undo Gaussian noise). A family mixes its hyperparameters and
`_make_net` into each of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from advisor.nn.engine import DeepEstimator, as_input, numeric_array


# -- objectives -------------------------------------------------------------------------------
class _Classification:
    def loss(self, net, xb, yb, generator):
        import torch.nn.functional as F

        return F.cross_entropy(net(xb), yb)

    def score(self, net, X, y):
        import torch.nn.functional as F

        # The negative log loss, not the accuracy: on a small validation share the accuracy
        # saturates within a few epochs and would stop training at a lucky early epoch.
        return -float(F.cross_entropy(net(X), y))


class _Regression:
    def loss(self, net, xb, yb, generator):
        return ((net(xb).squeeze(1) - yb) ** 2).mean()

    def score(self, net, X, y):
        mse = float(((net(X).squeeze(1) - y) ** 2).mean())
        return 1.0 - mse / max(float(y.var()), 1e-12) if len(y) > 1 else -mse


class _Denoising:
    """Reconstruct clean inputs from copies corrupted with Gaussian noise of a random level.

    The level is drawn per row, uniformly in [0.1, 1] x `max_noise` (noise units: the pixel
    range for images, one standard deviation per column otherwise), so one model serves any
    noise level up to `max_noise` (a blind denoiser, as DnCNN-B in Zhang et al., 2017).
    Noisy images are clipped to the training range, as real pixel noise is.
    """

    def __init__(self, unit: float, max_noise: float, low=None, high=None, mask=None):
        self.unit, self.max_noise, self.low, self.high, self.mask = unit, max_noise, low, high, mask

    def corrupt(self, x, generator):
        import torch

        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        level = (0.1 + 0.9 * torch.rand(shape, generator=generator)).to(x.device) * (self.max_noise * self.unit)
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        noisy = x + level * noise
        if self.low is not None:
            noisy = noisy.clamp(self.low, self.high)
        return noisy

    def loss(self, net, xb, yb, generator):
        out = net(self.corrupt(xb, generator))
        return ((out - xb) ** 2).mean()

    def score(self, net, X, y):
        import torch

        gen = torch.Generator().manual_seed(0)
        return -float(((net(self.corrupt(X, gen)) - X) ** 2).mean())


# -- task classes -----------------------------------------------------------------------------
def _with_target(estimator, X, y):
    """X as the engine reads it and y as a 1-D array of the same length (scikit-learn's errors)."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None")
    y = column_or_1d(np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy(), warn=True)
    X = as_input(X)
    check_consistent_length(X, y)
    return X, y


class DeepClassifier(ClassifierMixin, DeepEstimator):
    """`fit(X, y)`, `predict`, `predict_proba` (softmax of the logits)."""

    def fit(self, X, y):
        X, y = _with_target(self, X, y)
        check_classification_targets(y)
        inputs = self._fit_inputs(X)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; y holds 1 class")
        return self._train(inputs, codes.astype(np.int64), head="predict", n_out=len(self.classes_), objective=_Classification())

    def predict_proba(self, X):
        check_is_fitted(self, "net_")
        logits = self._forward(self._inputs(X))
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        check_is_fitted(self, "net_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class DeepRegressor(RegressorMixin, DeepEstimator):
    """`fit(X, y)` on a standardised target, `predict` back in the target's units."""

    def fit(self, X, y):
        X, y = _with_target(self, X, y)
        y = numeric_array(y)
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        inputs = self._fit_inputs(X)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        z = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
        return self._train(inputs, z, head="predict", n_out=1, objective=_Regression())

    def predict(self, X):
        check_is_fitted(self, "net_")
        return self._forward(self._inputs(X))[:, 0] * self.y_scale_ + self.y_mean_


class DeepEmbedder(TransformerMixin, DeepEstimator):
    """`fit(X[, y])`, `transform(X)` -> features from the layer before the output.

    With a target the net is trained to predict it (classes, or a standardised number) and the
    embedding is its penultimate layer; without one it is trained as a denoising autoencoder and
    the embedding is its bottleneck (for images and sequences, next to the encoder's pooled
    feature maps).
    """

    def fit(self, X, y=None):
        X = as_input(X)
        inputs = self._fit_inputs(X)
        if y is not None:
            y = column_or_1d(np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy(), warn=True)
            check_consistent_length(X, y)
            if type_of_target(y) == "continuous":
                y = numeric_array(y)
                z = ((y - y.mean()) / (y.std() or 1.0)).astype(np.float32)
                self.supervised_ = "regress"
                return self._train(inputs, z, head="predict", n_out=1, objective=_Regression())
            _, codes = np.unique(y, return_inverse=True)
            if codes.max() >= 1:
                self.supervised_ = "classify"
                return self._train(inputs, codes.astype(np.int64), head="predict", n_out=int(codes.max()) + 1, objective=_Classification())
        self.supervised_ = None
        return self._train(inputs, None, head="autoencode", n_out=0, objective=self._denoising())

    def _denoising(self) -> _Denoising:
        return _Denoising(unit=1.0, max_noise=float(getattr(self, "max_noise", 0.5)))

    def transform(self, X):
        check_is_fitted(self, "net_")
        return self._forward(self._inputs(X), method="embed")


class DeepDenoiser(TransformerMixin, DeepEstimator):
    """`fit(X)` on clean rows; `transform(X_noisy)` -> denoised rows in the form of the input
    (a DataFrame with the same columns, or an array of the same shape)."""

    def _numeric_scaling(self) -> str:
        return "standard"  # noise is measured in standard deviations of each column

    def fit(self, X, y=None):
        inputs = self._fit_inputs(X)
        if self.layout_ == "tabular":
            text = [spec.name for spec in self.encoder_.specs_ if spec.kind == "categorical"]
            if text:
                raise ValueError(f"denoising needs numeric columns; {', '.join(map(repr, text[:5]))} hold categories")
        if self.layout_ == "image":
            unit = (self.input_high_ - self.input_low_) / float(np.mean(self.input_scale_))
            low = float(((self.input_low_ - self.input_mean_) / self.input_scale_).min())
            high = float(((self.input_high_ - self.input_mean_) / self.input_scale_).max())
        else:
            unit, low, high = 1.0, None, None
        self.clip_ = (low, high)
        objective = _Denoising(unit=float(unit), max_noise=float(self.max_noise), low=low, high=high)
        return self._train(inputs, None, head="denoise", n_out=0, objective=objective)

    def transform(self, X):
        check_is_fitted(self, "net_")
        z = self._forward(self._inputs(X))
        if self.layout_ == "tabular":
            values = self._decode_numeric(z)
        else:
            values = self._unscale_spatial(z)
            if self.layout_ == "image":
                values = np.clip(values, self.input_low_, self.input_high_)
        return self._restore_form(values, X)

    def _decode_numeric(self, z: np.ndarray) -> np.ndarray:
        enc = self.encoder_
        cols = []
        for spec in enc.specs_:
            cols.append(enc._backward(spec, z[:, spec.start]))
        return np.column_stack(cols)

    def _restore_form(self, values: np.ndarray, like):
        like = as_input(like)
        if isinstance(like, pd.DataFrame):
            return pd.DataFrame(values.reshape(len(like), -1), columns=like.columns, index=like.index)
        return values.reshape(like.shape)


def deep_estimator(classes: dict, task: str, profile, **params):
    """The estimator of `classes[task]` for data described by `profile`: told the image shape and
    the modality, and stopping after a quarter of its epochs without a better validation score
    unless told otherwise (the validation loss of a small split is noisy, and the learning rate
    is still high early on)."""
    shape = tuple(profile.image_shape) if profile.modality == "image" and profile.image_shape else None
    params = dict(params)
    params.setdefault("patience", max(8, int(params.get("max_epochs", 40)) // 4))
    return classes[task](image_shape=shape, modality=profile.modality, **params)
