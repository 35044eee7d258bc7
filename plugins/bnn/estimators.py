"""Bayesian neural network estimators: `BNNClassifier` and `BNNRegressor`.

Both take mixed-type DataFrames, pixel columns (with `image_shape`), ordered sequences (with
`sequence=True`) or arrays, and train one of three approximate posteriors (see `nets`):
`method="vi"` (Bayes by Backprop with the local reparameterisation trick, the default),
`"mc_dropout"` or `"ensemble"`.

Training objective, per training row: the negative log-likelihood of the row under a draw of the
network, plus, for `vi`, `kl_weight * KL(q(w) || p(w)) / n_train`. With `kl_weight=1` the sum over
the training rows is the negative evidence lower bound (ELBO) of Blundell et al. (2015); a
smaller weight tempers the posterior (Wenzel et al., 2020, found such "cold" posteriors often
predict better). The prior is N(0, prior_scale² / fan_in) on weights and N(0, prior_scale²) on
biases, so `prior_scale=1` has the spread of a standard initialisation whatever the layer width.

A held-out share of the training rows (`validation_fraction`) scores each epoch by its mean log
predictive density; the score is reported to the Optuna trial (pruning), drives early stopping
and picks the epoch whose weights are kept. With `calibrate=True` the same rows then fit one
factor that widens or narrows the whole predictive distribution (a temperature on every draw's
logits for classifiers, as in Guo et al., 2017; a scale on the spread of the predictive mixture
for regressors, as in Levi et al., 2019), chosen from [1/3, 3] by log predictive density under a
N(0, 0.5²) prior on its logarithm, so that a few validation rows cannot push it far. Mean-field
VI is known to under-fit the posterior spread on small data; this is where the correction pays.

Prediction averages over `n_samples` draws of the weights (ensemble: over the members):
`predict_proba` is the mean of the drawn class probabilities; the regressor's head is
heteroscedastic (a mean and a noise spread per row), and its predictive variance is the mean of
the drawn noise variances (aleatoric) plus the variance of the drawn means (epistemic).
`predict_uncertainty` returns the two parts separately.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets


from advisor_plugins.bnn.base import _BayesianNetwork


class BNNClassifier(ClassifierMixin, _BayesianNetwork):
    """A Bayesian neural network classifier; `predict_proba` averages over weight draws."""

    def _prepare_target(self, y):
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"the target has only one class ({self.classes_[0]!r}); a classifier needs at least two")
        return codes.astype(np.int64)

    def _n_outputs(self):
        return len(self.classes_)

    def _log_likelihood(self, out, y):
        import torch

        log_p = torch.log_softmax(out, dim=-1)
        return log_p.gather(-1, y.view(1, -1, 1).expand(log_p.shape[0], -1, 1)).squeeze(-1)

    def _log_predictive(self, out, y, factor):
        import torch

        log_lik = self._log_likelihood(out / factor, y)  # a temperature on every draw's logits
        return torch.logsumexp(log_lik, dim=0) - math.log(log_lik.shape[0])

    def _draw_probabilities(self, X) -> np.ndarray:
        logits = self._sample_outputs(X) / self.calibration_
        logits = logits - logits.max(axis=-1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=-1, keepdims=True)  # (S, N, K)

    def predict_proba(self, X):
        """Class probabilities averaged over the posterior draws, columns ordered as `classes_`."""
        p = self._draw_probabilities(X).mean(axis=0)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_uncertainty(self, X) -> dict:
        """Predictive entropy (nats) split into its aleatoric and epistemic parts.

        total = H[mean draw probabilities]; aleatoric = mean over draws of H[draw probabilities]
        (noise in the labels themselves); epistemic = total - aleatoric, the mutual information
        between the label and the weights (Houlsby et al., 2011), which shrinks with more data.
        """
        draws = self._draw_probabilities(X)
        mean = draws.mean(axis=0)
        total = -(mean * np.log(np.clip(mean, 1e-12, None))).sum(axis=1)
        aleatoric = -(draws * np.log(np.clip(draws, 1e-12, None))).sum(axis=2).mean(axis=0)
        return {"proba": mean, "total": total, "aleatoric": aleatoric, "epistemic": np.clip(total - aleatoric, 0.0, None)}


class BNNRegressor(RegressorMixin, _BayesianNetwork):
    """A Bayesian neural network regressor with a heteroscedastic Gaussian head.

    `predict(X, return_std=True)` returns the predictive mean and standard deviation (epistemic
    and aleatoric together); `predict_uncertainty(X)` gives the two parts separately.
    """

    def _prepare_target(self, y):
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the regression target must be numeric: {exc}") from None
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        self.y_mean_ = float(y.mean())
        spread = float(y.std())
        self.y_scale_ = spread if spread > 1e-12 else 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _n_outputs(self):
        return 2

    def _log_likelihood(self, out, y):
        from advisor_plugins.bnn.nets import gaussian_log_density, gaussian_parts

        mean, sigma = gaussian_parts(out)
        return gaussian_log_density(y.view(1, -1), mean, sigma)

    def _log_predictive(self, out, y, factor):
        import torch

        from advisor_plugins.bnn.nets import gaussian_log_density, gaussian_parts

        means, sigmas = gaussian_parts(out)
        center = means.mean(dim=0, keepdim=True)
        # Widen (or narrow) the whole predictive mixture around its mean by `factor`.
        log_lik = gaussian_log_density(y.view(1, -1), center + factor * (means - center), factor * sigmas)
        return torch.logsumexp(log_lik, dim=0) - math.log(log_lik.shape[0])

    def predict_uncertainty(self, X) -> dict:
        """Predictive mean and standard deviations: total, epistemic and aleatoric (target units)."""
        out = self._sample_outputs(X)
        means = out[..., 0]
        sigmas = np.logaddexp(0.0, out[..., 1]) + 1e-3  # softplus, as in the net's head
        c2 = self.calibration_**2
        aleatoric = c2 * np.mean(sigmas**2, axis=0)
        epistemic = c2 * np.var(means, axis=0)
        mean = means.mean(axis=0) * self.y_scale_ + self.y_mean_
        return {
            "mean": mean,
            "std": np.sqrt(aleatoric + epistemic) * self.y_scale_,
            "epistemic_std": np.sqrt(epistemic) * self.y_scale_,
            "aleatoric_std": np.sqrt(aleatoric) * self.y_scale_,
        }

    def predict(self, X, return_std=False):
        """Predictive mean; with `return_std=True`, `(mean, std)`."""
        parts = self.predict_uncertainty(X)
        if return_std:
            return parts["mean"], parts["std"]
        return parts["mean"]
