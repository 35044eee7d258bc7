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
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d, validate_data

from advisor.sdk import AdamW, TorchStateMixin, derive_seed, numpy_rng, resolve_device, torch_generator, torch_seed
from advisor_plugins.bnn.inputs import InputEncoder, as_array_or_frame

PREDICT_CHUNK = 2048
MAX_VALID_ROWS = 2000
MIN_VALID_ROWS = 10
VALID_DRAWS = 8
CALIBRATION_GRID = np.exp(np.linspace(np.log(1 / 3), np.log(3), 41))


class _BayesianNetwork(TorchStateMixin, BaseEstimator):
    """Shared fitting and sampling; subclasses define the likelihood and the outputs."""

    _torch_modules = ("net_",)

    def __init__(
        self,
        *,
        method="vi",
        hidden=64,
        depth=2,
        kl_weight=0.3,
        prior_scale=1.0,
        dropout=0.1,
        n_members=5,
        channels=16,
        n_samples=32,
        lr=3e-3,
        weight_decay=1e-4,
        batch_size=64,
        max_epochs=100,
        patience=20,
        validation_fraction=0.2,
        calibrate=True,
        numeric="standard",
        image_shape=None,
        sequence=False,
        random_state=None,
        device="auto",
    ):
        self.method = method
        self.hidden = hidden
        self.depth = depth
        self.kl_weight = kl_weight
        self.prior_scale = prior_scale
        self.dropout = dropout
        self.n_members = n_members
        self.channels = channels
        self.n_samples = n_samples
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.calibrate = calibrate
        self.numeric = numeric
        self.image_shape = image_shape
        self.sequence = sequence
        self.random_state = random_state
        self.device = device

    # -- subclass hooks --------------------------------------------------------------------
    def _prepare_target(self, y) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _n_outputs(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_likelihood(self, out, y):  # (S, B, out), (B,) -> (S, B)
        raise NotImplementedError  # pragma: no cover - abstract

    def _log_predictive(self, out, y, factor: float):
        """Log predictive density of each row under draws `out`, their spread widened by `factor`."""
        raise NotImplementedError  # pragma: no cover - abstract

    # -- input checks ------------------------------------------------------------------------
    def _check_X(self, X, reset: bool):
        X = as_array_or_frame(X)
        if isinstance(X, pd.DataFrame) or X.ndim == 2:
            validate_data(self, X, reset=reset, skip_check_array=True)
            if reset:
                self.input_shape_ = None
        elif reset:
            self.input_shape_ = tuple(int(s) for s in X.shape[1:])
            self.n_features_in_ = int(np.prod(self.input_shape_))
        elif tuple(X.shape[1:]) != tuple(self.input_shape_ or ()):
            raise ValueError(f"X has shape {X.shape[1:]} per row, but this model was fitted on {self.input_shape_}")
        return X

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X, y):
        import torch  # noqa: F401 - loaded before the thread limit, so that the limit reaches it

        from advisor.sdk import thread_limit

        X = as_array_or_frame(X)
        with thread_limit(len(X)):
            return self._fit(X, y)

    def _fit(self, X, y):
        import torch

        from advisor.sdk import iterate_minibatches, train_epochs
        from advisor_plugins.bnn.nets import Draws

        self._validate_params_values()
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        target = self._prepare_target(y)
        self.encoder_ = InputEncoder(self.image_shape, self.sequence, self.numeric).fit(X)
        Z = self.encoder_.transform(X)
        train, valid = self._split(len(Z), target)
        self.n_train_ = int(len(train))
        self.arch_ = self._architecture()
        device = resolve_device(self.device)
        self.device_ = str(device)
        with torch_seed(derive_seed(self.random_state, "bnn", "init")):
            net = self._build_module("net_").to(device)
        Xt = torch.as_tensor(Z[train], device=device)
        yt = torch.as_tensor(target[train], device=device)
        Xv = torch.as_tensor(Z[valid], device=device) if len(valid) else None
        yv = torch.as_tensor(target[valid], device=device) if len(valid) else None
        variational = {id(p) for p in net.variational_parameters()}
        groups = [
            {"params": [p for p in net.parameters() if id(p) in variational], "weight_decay": 0.0},
            {"params": [p for p in net.parameters() if id(p) not in variational], "weight_decay": float(self.weight_decay)},
        ]
        optimizer = AdamW([g for g in groups if g["params"]], lr=float(self.lr))
        order = torch_generator(derive_seed(self.random_state, "bnn", "order"))
        noise = torch_generator(derive_seed(self.random_state, "bnn", "noise"), device=device)
        n, batch = len(train), int(max(1, min(self.batch_size, len(train))))
        kl_scale = float(self.kl_weight) / n
        draws = Draws("train", noise)

        def run_epoch(epoch: int) -> float:
            net.train()
            total, rows = 0.0, 0
            for idx in iterate_minibatches(n, batch, generator=order):
                if len(idx) < 2 < n:
                    continue  # batch normalisation in the feature extractor needs two rows
                idx = idx.to(device)
                out = net(Xt[idx], draws, n_draws=1)
                loss = -self._log_likelihood(out, yt[idx]).mean()
                if self.method == "vi":
                    loss = loss + kl_scale * net.kl()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
                rows += len(idx)
            return total / max(rows, 1)

        def validate() -> float:
            net.eval()
            out = self._draw(net, Xv, min(VALID_DRAWS, int(self.n_samples)), seed="valid")
            return float(self._log_predictive(out, yv, 1.0).mean())

        history = train_epochs(
            run_epoch,
            int(self.max_epochs),
            validate=validate if Xv is not None else None,
            module=net,
            patience=None if self.patience is None else int(self.patience),
        )
        net.eval()
        self.calibration_ = 1.0
        if self.calibrate and Xv is not None:
            out = self._draw(net, Xv, int(self.n_samples), seed="predict")
            # Mean log density, plus a N(0, 0.5²) prior on log(factor) so that a few validation
            # rows, all predicted right, cannot sharpen the predictions without limit.
            scores = [float(self._log_predictive(out, yv, c).mean()) - np.log(c) ** 2 / (2 * 0.25 * len(valid)) for c in CALIBRATION_GRID]
            self.calibration_ = float(CALIBRATION_GRID[int(np.argmax(scores))])
        self.net_ = net
        # The record, not the checkpoint weights it kept for the search's learning curve.
        self.history_ = {"losses": list(history.losses), "scores": list(history.scores), "seconds": history.seconds,
                         "stopped_by": history.stopped_by, "best_epoch": history.best_epoch, "epochs": history.epochs}
        return self

    def _validate_params_values(self):
        from advisor_plugins.bnn.nets import METHODS

        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in ("hidden", "depth", "n_members", "channels", "n_samples", "batch_size", "max_epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (0 if name == "depth" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        for name in ("kl_weight", "prior_scale", "lr"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def _split(self, n: int, target: np.ndarray):
        """Training and validation rows (stratified by class for classifiers)."""
        rng = numpy_rng(derive_seed(self.random_state, "bnn", "split"))
        frac = float(self.validation_fraction)
        n_valid = int(round(n * frac))
        if frac <= 0 or n_valid < MIN_VALID_ROWS or n - n_valid < MIN_VALID_ROWS:
            return np.arange(n), np.arange(0)
        n_valid = min(n_valid, MAX_VALID_ROWS)
        groups = [np.arange(n)]
        if isinstance(self, ClassifierMixin):
            groups = [np.flatnonzero(target == k) for k in np.unique(target)]
        valid = []
        for rows in groups:
            rows = rng.permutation(rows)
            take = int(round(len(rows) * n_valid / n))
            if len(rows) - take >= 1:
                valid.extend(rows[:take])
        valid = np.sort(np.asarray(valid, dtype=int))
        train = np.setdiff1d(np.arange(n), valid)
        return train, valid

    def _architecture(self) -> dict:
        enc = self.encoder_
        arch = {
            "method": str(self.method),
            "n_inputs": int(enc.n_inputs_),
            "n_outputs": int(self._n_outputs()),
            "hidden": int(self.hidden),
            "depth": int(self.depth),
            "prior_scale": float(self.prior_scale),
            "dropout": float(self.dropout),
            "members": int(self.n_members),
            "dims": 0,
        }
        if enc.kind_ in ("image", "sequence"):
            arch.update(dims=2 if enc.kind_ == "image" else 1, in_channels=int(enc.in_channels_), size=int(enc.size_), channels=int(self.channels))
        return arch

    def _build_module(self, attr: str):
        from advisor_plugins.bnn.nets import BayesianNet

        return BayesianNet(self.arch_)

    # -- drawing -----------------------------------------------------------------------------
    def _draw(self, net, x, n_draws: int, seed: str):
        """Outputs of `n_draws` draws of the network for the rows of tensor `x`: (S, B, out).

        Every chunk of rows sees the same draws: the generator restarts from the same seed, and
        a draw (weights, dropout masks) does not depend on the number of rows. The generator is
        on the CPU whatever the device, so that a model saved on a GPU predicts the same on a CPU.
        """
        import torch

        from advisor_plugins.bnn.nets import Draws

        outs = []
        with torch.no_grad():
            for start in range(0, len(x), PREDICT_CHUNK):
                gen = torch_generator(derive_seed(self.random_state, "bnn", seed))
                outs.append(net(x[start : start + PREDICT_CHUNK], Draws("predict", gen), n_draws=n_draws))
        return torch.cat(outs, dim=1)

    def _sample_outputs(self, X) -> np.ndarray:
        """Draws of the network's outputs for new rows, as a numpy array (S, N, out)."""
        import torch

        from advisor.sdk import thread_limit

        check_is_fitted(self, "net_")
        X = self._check_X(X, reset=False)
        Z = self.encoder_.transform(X)
        device = next(self.net_.parameters()).device
        x = torch.as_tensor(Z, device=device)
        self.net_.eval()
        with thread_limit(len(Z)):
            out = self._draw(self.net_, x, int(self.n_samples), seed="predict")
        return out.cpu().numpy().astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


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
