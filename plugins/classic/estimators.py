"""Estimators the classic families build: scikit-learn models behind the task methods of DESIGN.

Classifiers and regressors are plain pipelines. Generators (`sample`), the denoiser and the
embedders are small estimators of their own so that every task speaks the same methods.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import TabularEncoder, column_type, typed_column
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
    """A Gaussian mixture over the encoded table: `sample` for generate, `score_samples` for detect.

    With `condition_on` (a categorical column, the target of `--task generate --target COL`),
    one mixture per value of that column over the other columns, and rows drawn for each value
    in proportion to its training rows: the target keeps its distribution and each value its own
    rows, where one joint mixture would blur a label into a continuous one-hot coordinate;
    `sample_for(values)` draws one row from each value's own mixture.
    """

    def __init__(self, n_components=8, covariance_type="full", reg_covar=1e-4, condition_on=None, random_state=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.condition_on = condition_on
        self.random_state = random_state

    def fit(self, X, y=None):
        frame = self._remember_input(X)
        self.n_features_in_, self.columns_ = frame.shape[1], list(frame.columns)
        self.column_ = self.condition_on if self.condition_on in frame.columns else None
        features = frame.drop(columns=[self.column_]) if self.column_ else frame
        self.encoder_ = TabularEncoder(numeric="standard", max_levels=50).fit(features)
        Z = self.encoder_.transform(features).astype(float)
        if self.column_ is None:
            self.groups_ = [(None, 1.0, self._mixture(Z))]
            self.densities_ = [supported_components(self.gmm_, len(Z))]
        else:
            self.target_type_ = column_type(frame[self.column_])
            rows = pd.Series(np.arange(len(frame))).groupby(frame[self.column_].to_numpy(), dropna=False, sort=False).indices
            self.groups_ = [(value, len(idx) / len(frame), self._mixture(Z[idx])) for value, idx in rows.items()]
            self.densities_ = [supported_components(gmm, len(idx)) for (_, _, gmm), idx in zip(self.groups_, rows.values())]
        self.offset_ = float(np.quantile(self.score_samples(X), 0.05))
        return self

    def _mixture(self, Z) -> GaussianMixture:
        k = int(min(self.n_components, max(1, len(Z) // 2)))
        return GaussianMixture(n_components=k, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                               random_state=self.random_state).fit(Z)

    @property
    def gmm_(self) -> GaussianMixture:
        """The mixture of an unconditioned model (the first value's for a conditioned one)."""
        return self.groups_[0][2]

    # EM's record, read by the search as this trial's learning curve (advisor.judging.curves):
    # the iterations of the slowest mixture, and whether every mixture converged.
    @property
    def n_iter_(self) -> int:
        return max(int(gmm.n_iter_) for _, _, gmm in self.groups_)

    @property
    def converged_(self) -> bool:
        return all(bool(gmm.converged_) for _, _, gmm in self.groups_)

    def sample(self, n, random_state=None):
        check_is_fitted(self, "groups_")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        counts = rng.multinomial(int(n), [share for _, share, _ in self.groups_])
        parts = []
        for (value, _, gmm), count in zip(self.groups_, counts):
            if count == 0 and self.column_ is not None and int(n):
                continue
            part = self.encoder_.inverse_transform(_draw(gmm, int(count), rng), random_state=rng.integers(2**31))
            if self.column_ is not None:
                part[self.column_] = value
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True)
        if self.column_ is not None:
            frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)[self.columns_]
            frame[self.column_] = self._typed_target(frame[self.column_])
        return self._restore_form(frame)

    def _typed_target(self, values: pd.Series) -> pd.Series:
        """The drawn target values with the column's dtype (models saved before `target_type_`
        kept the dtype's name only)."""
        kind = getattr(self, "target_type_", None) or {"dtype": self.target_dtype_}
        return typed_column(values, kind, index=values.index)

    @property
    def condition_values_(self) -> list | None:
        """The values of `condition_on` with a mixture of their own (None: not conditioned)."""
        return [value for value, _, _ in self.groups_] if getattr(self, "column_", None) is not None else None

    def sample_for(self, values, random_state=None):
        """One row per entry of `values` (values of `condition_on` seen in training, in order),
        each drawn from its value's mixture: the model's conditional distribution, no rejection."""
        check_is_fitted(self, "groups_")
        if self.column_ is None:
            raise ValueError("sample_for needs a model fitted with condition_on")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        groups = {str(value): (value, gmm) for value, _, gmm in self.groups_}
        wanted = pd.Series([str(v) for v in values])
        unknown = sorted(set(wanted) - set(groups))
        if unknown:
            raise ValueError(f"{', '.join(unknown[:3])}: not a value of {self.condition_on} seen in training")
        if wanted.empty:
            return self.sample(0)
        parts, order = [], []
        for key, rows in wanted.groupby(wanted, sort=False).indices.items():
            value, gmm = groups[key]
            part = self.encoder_.inverse_transform(_draw(gmm, len(rows), rng), random_state=rng.integers(2**31))
            part[self.column_] = value
            parts.append(part)
            order.extend(rows)
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)[self.columns_]
        frame[self.column_] = self._typed_target(frame[self.column_])
        return self._restore_form(frame)

    def score_samples(self, X):
        """Each row's log density (a conditioned model: its value's share and mixture; a value
        unseen in training gets the lowest density any row got)."""
        check_is_fitted(self, "groups_")
        frame = to_frame(X)
        features = frame.drop(columns=[self.column_]) if self.column_ else frame
        Z = self.encoder_.transform(features).astype(float)
        # Models saved before `densities_` score with every component.
        densities = getattr(self, "densities_", None) or [gmm for _, _, gmm in self.groups_]
        if self.column_ is None:
            return densities[0].score_samples(Z)
        out = np.full(len(frame), np.nan)
        values = frame[self.column_].to_numpy()
        for (value, share, _), gmm in zip(self.groups_, densities):
            rows = pd.isna(values) if pd.isna(value) else values == value
            if rows.any():
                out[rows] = np.log(share) + gmm.score_samples(Z[rows])
        return np.where(np.isnan(out), np.nanmin(out) if np.isfinite(out).any() else -np.inf, out)

    def decision_function(self, X):
        """`score_samples` less the 5 % quantile of the training rows' scores: negative for the
        rows `predict` calls anomalies, as scikit-learn's detectors do."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


def supported_components(gmm: GaussianMixture, n_rows: int) -> GaussianMixture:
    """The mixture the densities are read from: its components that hold at least d + 1 of the
    `n_rows` rows it was fitted on (d: the encoded columns), their weights scaled to sum to 1.

    A component with fewer rows than that cannot have estimated its covariance from them: its
    shape is the regulariser's, and maximum likelihood puts such components on isolated rows
    (the singular solutions of a mixture's likelihood; Bishop, 2006, sect. 9.2.1). An isolated
    row of the training data, which is what a detector is asked to find, then gets a density
    higher than any ordinary row's. Measured on 600 rows holding 10 gross outliers, scored on
    those same rows: ROC-AUC 0.000 with 29 components, 1.000 with the supported ones. Rows the
    dropped components held are still covered by their neighbours' components where they are
    ordinary. With no such component, or all of them, the mixture is returned as fitted.
    """
    minimum = gmm.means_.shape[1] + 1
    keep = gmm.weights_ * n_rows >= minimum
    if keep.all() or not keep.any():
        return gmm
    trimmed = copy.copy(gmm)  # its arrays are replaced below, never changed in place
    trimmed.weights_ = gmm.weights_[keep] / gmm.weights_[keep].sum()
    per_component = ("means_",) if gmm.covariance_type == "tied" else ("means_", "covariances_", "precisions_", "precisions_cholesky_")
    for name in per_component:
        setattr(trimmed, name, getattr(gmm, name)[keep])
    trimmed.n_components = int(keep.sum())
    return trimmed


def _draw(gmm: GaussianMixture, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` encoded rows from a fitted mixture, drawn with `rng` (GaussianMixture.sample uses the
    estimator's own random_state)."""
    counts = rng.multinomial(n, gmm.weights_)
    parts = [np.zeros((0, gmm.means_.shape[1]))]
    for k, c in enumerate(counts):
        if c == 0:
            continue
        mean = gmm.means_[k]
        if gmm.covariance_type == "full":
            parts.append(rng.multivariate_normal(mean, gmm.covariances_[k], size=c, method="cholesky"))
        else:
            parts.append(mean + rng.normal(size=(c, len(mean))) * np.sqrt(gmm.covariances_[k]))
    return np.vstack(parts)[rng.permutation(n)]


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
