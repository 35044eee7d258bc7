"""Energy-based estimators: one energy network E(x), three tasks.

Training (`training=`):

- ``"dsm"`` (default, stable): denoising score matching over a geometric ladder of noise levels
  (Vincent, 2011; Song & Ermon, 2019). For clean x, noise z and level sigma, the score
  s = -dE/dx of the noisy point x + sigma z should point back to x: the loss is
  |sigma s(x + sigma z, sigma) + z|^2, averaged over levels drawn at random. It needs no
  sampling during training, so it cannot diverge the way contrastive training can.
- ``"cd"``: contrastive divergence with short-run stochastic-gradient Langevin dynamics and a
  replay buffer of past chains (Du & Mordatch, 2019, "Implicit generation and modeling with
  energy-based models"): the loss lowers the energy of data and raises that of the chains'
  samples.

Stabilisers: a Gaussian base energy that keeps E bounded below (see `nets`); gradient-norm
clipping (`clip_grad`) in both modes; in ``cd`` mode an energy regulariser
`energy_reg * (E(x+)^2 + E(x-)^2)` that stops energies drifting apart (Du & Mordatch), 5 % of
chains restarted from noise, and optional spectral normalisation of every weight
(`spectral_norm`), which bounds how steep the energy can get.

Tasks:

- detect: `score_samples` = -E(x, sigma) at a level set by the data's nearest-neighbour
  distances, averaged over noise draws (higher = more normal).
- generate: annealed Langevin dynamics down the ladder, then one Tweedie denoising step; tables
  are decoded by the core's `TabularEncoder` (categories, integers, ranges, missing values).
- denoise: Tweedie's formula, x_hat = x + sigma^2 s(x, sigma) (Efron, 2011), with sigma given
  by `noise_std` or estimated from the noisy rows themselves (see `EnergyDenoiser`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import ClassConditionedSampler, as_frame, declared_init, derive_seed, fit_classes, numpy_rng, thread_limit, with_class_column
from advisor_plugins.ebm.base import ENERGY_MODEL, SEEDING, _EnergyModel


class EnergyGenerator(ClassConditionedSampler, _EnergyModel):
    """generate: `sample(n)` by annealed Langevin dynamics on the learned energy (in ``cd``
    mode, by a long SGLD chain from noise).

    With `condition_on` (a categorical column of a table: the target of `--task generate
    --target COL`), the energy is that of the other columns given the class, E(x | class), with
    a learned bias per class in the network; `sample` draws each row's class in the training
    rows' shares and runs its chain given it, and `sample_for(values)` draws one row given each
    value.
    """

    __init__ = declared_init({**ENERGY_MODEL, "langevin_steps": 50, "langevin_step": 0.1, "numeric": "quantile", "condition_on": None, **SEEDING}, keyword_only=False)

    def fit(self, X, y=None):
        self.class_condition_ = None
        if self.condition_on is None or not isinstance(X, pd.DataFrame) or self.condition_on not in X.columns:
            return super().fit(X)
        frame = as_frame(X)
        labels, self.class_condition_ = fit_classes(frame[self.condition_on])
        with thread_limit(len(frame)):
            self._fit(frame.drop(columns=[self.condition_on]), labels)
        self.all_columns_, self.n_features_in_ = list(frame.columns), frame.shape[1]
        return self

    def _answer_passes(self):
        return int(self.sgld_steps) * 10 if self.training == "cd" else int(self.n_sigmas) * int(self.langevin_steps) + 1

    def _reserve_rows(self, n):
        return max(n, 1000)  # the advisor scores a generator on at least 500 samples

    def _sample_seed(self, random_state):
        return self.random_state if random_state is None else random_state

    def _rows(self, n: int, seed, classes):
        with thread_limit(n):
            Z = self._sample_encoded(n, seed, classes)
        if self.image_shape_ is not None:
            Z = np.clip(Z, -1.0, 1.0)
        rows = self._decode_samples(Z, numpy_rng(derive_seed(seed, "decode")))
        return rows if classes is None else with_class_column(rows, self.class_condition_, classes, self.all_columns_)


class EnergyDetector(_EnergyModel):
    """detect: `score_samples` = -energy (higher = more normal); `predict` flags the rows whose
    score falls below the 5 % quantile of the training rows' scores as -1.

    Energies are read at one level sigma of the ladder, averaged over a fixed bank of noise
    draws: -mean_k E(x + sigma eps_k, sigma). At level sigma the network only ever saw points
    at a distance of about sigma * sqrt(d) from the data, so reading it there (rather than at the
    clean point) keeps the score where it was trained. The level is `detect_scale` times the
    median distance between a training row and its nearest neighbour: small enough to see
    broken dependencies between columns, large enough to generalise between training rows
    (at the smallest levels a flexible energy on few rows learns the rows themselves).
    In ``cd`` mode the energy is read as it is, at the one level it was trained on.

    Parameters (beyond the shared ones):
        detect_scale: the level, in multiples of the median nearest-neighbour distance.
        n_draws: noise draws averaged per row.
    """

    __init__ = declared_init({**ENERGY_MODEL, "numeric": "standard", "detect_scale": 0.5, "n_draws": 16, **SEEDING}, keyword_only=False)

    def _answer_passes(self):
        return max(1, int(self.n_draws) // 3)  # energies without gradients cost about a third

    def _after_fit(self, Z):
        from sklearn.neighbors import NearestNeighbors

        rng = numpy_rng(derive_seed(self.random_state, "detect"))
        if self.training == "cd":
            self.detect_sigma_ = float(self.sigmas_[0])
            self.noise_bank_ = np.zeros((1, Z.shape[1]), dtype=np.float32)
        else:
            sub = Z[rng.permutation(len(Z))[:2000]]
            nn_dist = NearestNeighbors(n_neighbors=2).fit(sub).kneighbors(sub)[0][:, 1]
            sigma = float(self.detect_scale) * float(np.median(nn_dist))
            self.detect_sigma_ = float(np.clip(sigma, self.sigmas_[-1], self.sigmas_[0]))
            self.noise_bank_ = rng.normal(size=(int(self.n_draws), Z.shape[1])).astype(np.float32)
        self.offset_ = float(np.quantile(self._scores(Z), 0.05))

    def _scores(self, Z):
        sigma = self.detect_sigma_
        return -np.mean([self._energy(Z + sigma * eps, sigma) for eps in self.noise_bank_], axis=0)

    def score_samples(self, X):
        check_is_fitted(self, "net_")
        with thread_limit(len(X)):
            return self._scores(self._encode(X))

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


class EnergyDenoiser(TransformerMixin, _EnergyModel):
    """denoise: one Tweedie step x + sigma^2 s(x, sigma) from the learned score.

    The noise level comes from `noise_std` (in the data's units: per-column standard deviations
    for tables, a fraction of the pixel range for images) or, when None, from the noisy rows
    themselves: at fit time the estimator records how large the Tweedie correction is, at each
    level, for training rows noised at that level; at transform time it picks the level where
    the correction on the given rows matches that record (a larger correction than expected
    means more noise than assumed). Numeric columns are encoded as plain z-scores, so that
    additive noise stays additive.
    """

    __init__ = declared_init({**ENERGY_MODEL, "noise_std": None, **SEEDING}, keyword_only=False)

    N_GRID = 24

    def _answer_passes(self):
        return 2 * self.N_GRID + 1  # calibration at fit, noise estimate and step at transform

    def _reserve_rows(self, n):
        return 256

    def _noise_grid(self) -> np.ndarray:
        lo, hi = math.log(self.sigmas_[-1]), math.log(self.sigmas_[0])
        return np.exp(np.linspace(lo, hi, self.N_GRID))

    def _correction_ratio(self, Z, sigma) -> float:
        corr = sigma**2 * self._score_fn(Z, sigma)
        return float(np.mean((corr**2).sum(axis=1)) / (Z.shape[1] * sigma**2))

    def _after_fit(self, Z):
        rng = numpy_rng(derive_seed(self.random_state, "calibrate"))
        sub = Z[rng.permutation(len(Z))[:256]].astype(np.float32)
        ratios = []
        for sigma in self._noise_grid():
            noisy = (sub + sigma * rng.normal(size=sub.shape)).astype(np.float32)
            ratios.append(self._correction_ratio(noisy, sigma))
        self.calibration_ratio_ = np.asarray(ratios)

    def _encoded_sigma(self, noise_std) -> float:
        if self.image_shape_ is not None:
            return float(noise_std) * 2.0  # pixel-range fraction -> [-1, 1] units
        return float(noise_std) * float(np.median(1.0 / self.z_scale_[self.encoder_.numeric_columns_])) if self.encoder_.numeric_columns_ else float(noise_std)

    def estimate_noise(self, Z) -> float:
        """The noise level (in encoded units) that best explains the Tweedie corrections on Z."""
        rng = numpy_rng(derive_seed(self.random_state, "estimate"))
        sub = Z[rng.permutation(len(Z))[:256]]
        grid = self._noise_grid()
        gap = np.array([math.log(max(self._correction_ratio(sub, s), 1e-12) / max(r, 1e-12)) for s, r in zip(grid, self.calibration_ratio_)])
        above = gap > 0  # more correction than expected at this level: the noise is larger
        if above.all():
            return float(grid[-1])
        if not above.any():
            return float(grid[0])
        i = int(np.flatnonzero(above)[-1])
        if i + 1 >= len(grid):
            return float(grid[-1])
        t = gap[i] / (gap[i] - gap[i + 1])
        return float(math.exp(math.log(grid[i]) + t * (math.log(grid[i + 1]) - math.log(grid[i]))))

    def transform(self, X):
        check_is_fitted(self, "net_")
        Z = self._encode(X)
        with thread_limit(len(Z)):
            sigma = self.estimate_noise(Z) if self.noise_std is None else self._encoded_sigma(self.noise_std)
            out = Z + sigma**2 * self._score_fn(Z, sigma)
        if self.image_shape_ is not None:
            out = np.clip(out, -1.0, 1.0)
        return self._decode_denoised(out, X)
