"""What the BNN classifier and regressor share: the input checks, the training loop (variational
inference or Monte Carlo dropout, with a validation split for early stopping), and drawing
predictions from the posterior."""

from __future__ import annotations


import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d, validate_data

from advisor.sdk import (
    AdamW,
    TakesTables,
    TorchEstimator,
    derive_seed,
    minibatch_pass,
    torch_generator,
    torch_seed,
)
from advisor_plugins.bnn.inputs import InputEncoder, as_array_or_frame

PREDICT_CHUNK = 2048
MAX_VALID_ROWS = 2000
VALID_DRAWS = 8
CALIBRATION_GRID = np.exp(np.linspace(np.log(1 / 3), np.log(3), 41))


class _BayesianNetwork(TakesTables, TorchEstimator):
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
    # Each task's estimator (estimators.py) defines these three; the base never runs them itself.
    def _prepare_target(self, y) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _prepare_target(y), the target as the network's loss takes it")

    def _n_outputs(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _n_outputs(), the network's output width")

    def _log_likelihood(self, out, y):  # (S, B, out), (B,) -> (S, B)
        raise NotImplementedError(f"{type(self).__name__} must define _log_likelihood(out, y)")  # pragma: no cover - abstract

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

        from advisor_plugins.bnn.nets import Draws

        self._validate_params_values()
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        target = self._prepare_target(y)
        self.encoder_ = InputEncoder(self.image_shape, self.sequence, self.numeric).fit(X)
        Z = self.encoder_.transform(X)
        strata = target if isinstance(self, ClassifierMixin) else None
        train, valid = self._holdout(len(Z), derive_seed(self.random_state, "bnn"), strata=strata, cap=MAX_VALID_ROWS)
        self.n_train_ = int(len(train))
        self.arch_ = self._architecture()
        device = self._start_device()
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

        def batch_loss(idx):
            idx = idx.to(device)
            loss = -self._log_likelihood(net(Xt[idx], draws, n_draws=1), yt[idx]).mean()
            return loss + kl_scale * net.kl() if self.method == "vi" else loss

        def run_epoch(epoch: int) -> float:
            net.train()
            # batch normalisation in the feature extractor needs two rows (when there are two)
            return minibatch_pass(optimizer, n, batch, batch_loss, generator=order, min_rows=2 if n > 2 else 1)

        def validate() -> float:
            net.eval()
            out = self._draw(net, Xv, min(VALID_DRAWS, int(self.n_samples)), seed="valid")
            return float(self._log_predictive(out, yv, 1.0).mean())

        history = self._run_epochs(run_epoch, self.max_epochs, validate=validate if Xv is not None else None, module=net)
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
        self.history_ = self._record(history)
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
