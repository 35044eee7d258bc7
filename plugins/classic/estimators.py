"""Estimators the classic families build: scikit-learn models behind the task methods of DESIGN.

Classifiers and regressors are plain pipelines. Generators (`sample`), the denoiser and the
embedders are small estimators of their own so that every task speaks the same methods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import TabularEncoder
from advisor_plugins.classic.preprocessing import to_frame


class _ImageAware:
    """Remembers whether fit saw an (N, H, W[, C]) array, so outputs come back in that form."""

    def _remember_input(self, X):
        arr_shape = np.shape(X) if not isinstance(X, pd.DataFrame) else None
        self.input_shape_ = tuple(arr_shape[1:]) if arr_shape is not None and len(arr_shape) > 2 else None
        return to_frame(X)

    def _restore_form(self, frame: pd.DataFrame, like=None):
        shape = self.input_shape_ if like is None else (tuple(np.shape(like)[1:]) if not isinstance(like, pd.DataFrame) and np.ndim(like) > 2 else None)
        if shape is not None:
            return frame.to_numpy(dtype=float).reshape((len(frame),) + shape)
        if like is not None and not isinstance(like, pd.DataFrame):
            return frame.to_numpy(dtype=float)
        return frame


class GaussianMixtureGenerator(_ImageAware, BaseEstimator):
    """A Gaussian mixture over the encoded table: `sample` for generate, `score_samples` for detect."""

    def __init__(self, n_components=8, covariance_type="full", reg_covar=1e-4, random_state=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X, y=None):
        frame = self._remember_input(X)
        self.encoder_ = TabularEncoder(numeric="standard", max_levels=50).fit(frame)
        Z = self.encoder_.transform(frame).astype(float)
        k = int(min(self.n_components, max(1, len(Z) // 2)))
        self.gmm_ = GaussianMixture(
            n_components=k, covariance_type=self.covariance_type, reg_covar=self.reg_covar, random_state=self.random_state
        ).fit(Z)
        self.n_features_in_ = frame.shape[1]
        self.offset_ = float(np.quantile(self.gmm_.score_samples(Z), 0.05))
        return self

    def sample(self, n, random_state=None):
        check_is_fitted(self, "gmm_")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        # GaussianMixture.sample uses the estimator's own random_state; draw with ours instead.
        counts = rng.multinomial(int(n), self.gmm_.weights_)
        parts = []
        for k, c in enumerate(counts):
            if c == 0:
                continue
            mean = self.gmm_.means_[k]
            if self.gmm_.covariance_type == "full":
                parts.append(rng.multivariate_normal(mean, self.gmm_.covariances_[k], size=c, method="cholesky"))
            elif self.gmm_.covariance_type == "diag":
                parts.append(mean + rng.normal(size=(c, len(mean))) * np.sqrt(self.gmm_.covariances_[k]))
            else:
                parts.append(mean + rng.normal(size=(c, len(mean))) * np.sqrt(self.gmm_.covariances_[k]))
        Z = np.vstack(parts)[rng.permutation(int(n))]
        return self._restore_form(self.encoder_.inverse_transform(Z, random_state=rng.integers(2**31)))

    def score_samples(self, X):
        check_is_fitted(self, "gmm_")
        return self.gmm_.score_samples(self.encoder_.transform(to_frame(X)).astype(float))

    def predict(self, X):
        return np.where(self.score_samples(X) >= self.offset_, 1, -1)


class InterpolationGenerator(_ImageAware, BaseEstimator):
    """SMOTE-style generation: a new row lies between a real row and one of its k nearest
    neighbours (categorical values are taken from the nearer of the two), plus optional jitter.

    Chawla et al. (2002) proposed it for oversampling; TabDDPM's authors (Kotelnikov et al.,
    2023) found it matched or beat their diffusion model on 4 of 9 datasets, at the price of
    rows that sit close to real ones (the advisor measures that as memorisation).
    """

    def __init__(self, k_neighbors=5, jitter=0.1, random_state=None):
        self.k_neighbors = k_neighbors
        self.jitter = jitter
        self.random_state = random_state

    def fit(self, X, y=None):
        frame = self._remember_input(X)
        self.encoder_ = TabularEncoder(numeric="standard", max_levels=100).fit(frame)
        self.Z_ = self.encoder_.transform(frame).astype(float)
        k = int(min(self.k_neighbors, len(self.Z_) - 1))
        self.k_ = max(k, 1)
        self.neighbors_ = NearestNeighbors(n_neighbors=self.k_ + 1).fit(self.Z_).kneighbors(self.Z_)[1][:, 1:]
        self.n_features_in_ = frame.shape[1]
        return self

    def sample(self, n, random_state=None):
        check_is_fitted(self, "Z_")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        n = int(n)
        i = rng.integers(len(self.Z_), size=n)
        j = self.neighbors_[i, rng.integers(self.k_, size=n)]
        lam = rng.uniform(0, 1, size=(n, 1))
        a, b = self.Z_[i], self.Z_[j]
        Z = a + lam * (b - a)
        if self.jitter > 0:
            gap = np.linalg.norm(b - a, axis=1, keepdims=True) / np.sqrt(a.shape[1])
            Z = Z + rng.normal(size=Z.shape) * self.jitter * gap
        nearer_b = (lam[:, 0] > 0.5)[:, None]
        for block in self.encoder_.categorical_blocks_:
            Z[:, block] = np.where(nearer_b, b[:, block], a[:, block])
        for col in self.encoder_.indicator_columns_:
            Z[:, col] = np.where(nearer_b[:, 0], b[:, col], a[:, col])
        return self._restore_form(self.encoder_.inverse_transform(Z, random_state=rng.integers(2**31)))


class PCAEmbedder(TransformerMixin, BaseEstimator):
    """PCA of the encoded table: `transform` returns the principal components."""

    def __init__(self, n_components=16, whiten=False, random_state=None):
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state

    def fit(self, X, y=None):
        frame = to_frame(X)
        self.encoder_ = TabularEncoder(numeric="standard", max_levels=50).fit(frame)
        Z = self.encoder_.transform(frame)
        k = int(max(1, min(self.n_components, Z.shape[1], len(Z))))
        self.pca_ = PCA(n_components=k, whiten=self.whiten, random_state=self.random_state).fit(Z)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "pca_")
        return self.pca_.transform(self.encoder_.transform(to_frame(X)))


class PCADenoiser(_ImageAware, TransformerMixin, BaseEstimator):
    """Denoising by projection: keep the leading principal components, drop the rest as noise."""

    def __init__(self, n_components=16, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        frame = self._remember_input(X).astype(float)
        values = frame.to_numpy()
        self.mean_ = np.nanmean(values, axis=0)
        self.low_, self.high_ = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        self.columns_ = list(frame.columns)
        filled = np.where(np.isnan(values), self.mean_, values)
        k = int(max(1, min(self.n_components, values.shape[1], len(values))))
        self.pca_ = PCA(n_components=k, random_state=self.random_state).fit(filled)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "pca_")
        frame = to_frame(X).astype(float)
        values = frame.to_numpy()
        filled = np.where(np.isnan(values), self.mean_, values)
        out = np.clip(self.pca_.inverse_transform(self.pca_.transform(filled)), self.low_, self.high_)
        result = pd.DataFrame(out, columns=frame.columns, index=frame.index)
        return self._restore_form(result, like=X)


class KernelFeatureEmbedder(TransformerMixin, BaseEstimator):
    """Random RBF kernel features (Nystroem) of the standardised table: a cheap non-linear
    embedding on which a linear model can separate what it cannot on the raw columns."""

    def __init__(self, n_components=256, gamma_scale=1.0, random_state=None):
        self.n_components = n_components
        self.gamma_scale = gamma_scale
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.kernel_approximation import Nystroem

        frame = to_frame(X)
        self.encoder_ = TabularEncoder(numeric="standard", max_levels=50).fit(frame)
        Z = self.encoder_.transform(frame)
        gamma = self.gamma_scale / max(Z.shape[1], 1)
        k = int(min(self.n_components, len(Z)))
        self.map_ = Nystroem(gamma=gamma, n_components=k, random_state=self.random_state).fit(Z)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "map_")
        return self.map_.transform(self.encoder_.transform(to_frame(X)))
