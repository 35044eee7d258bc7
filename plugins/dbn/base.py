"""What every DBN estimator shares: greedy layer-wise RBM pretraining of the stack, the upward
pass, and the thread limit for small data."""

from __future__ import annotations

import functools

import numpy as np
import torch

from advisor.sdk import (
    TakesTables,
    TorchEstimator,
    current_trial,
    derive_seed,
    fit_scope,
    load_torch_optim,
    thread_limit,
    torch_generator,
    torch_seed,
)
from advisor_plugins.dbn.inputs import VisibleMixin
from advisor_plugins.dbn.nets import FineTuneNet, RBMStack
from advisor_plugins.dbn.rbm import init_visible_bias, layer_budget, train_rbm

load_torch_optim()  # the first torch.optim optimiser is slow to build: not inside a fit

CHUNK = 4096


def small_data_threads(method):
    """Run `method` on one thread when its data (rows, or the number of samples asked for) is
    small: tiny networks run faster alone than with threads that wait for each other."""

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        try:
            n = int(X) if isinstance(X, (int, np.integer)) else len(X)
        except TypeError:
            n = 0  # not array-like: the method itself says what is wrong
        with thread_limit(n):
            return method(self, X, *args, **kwargs)

    return wrapper


# The hyperparameters, declared once (advisor.sdk.declared_init builds each __init__ from them).
PRETRAINING = {"image_shape": None, "hidden_layer_sizes": (256,), "visible": "auto", "cd_k": 1, "persistent": False,
               "pretrain_epochs": 30, "pretrain_lr": 1e-2, "batch_size": 64, "weight_decay": 1e-4}
FINETUNING = {"finetune_epochs": 100, "finetune_lr": 3e-3, "dropout": 0.0, "patience": 20, "pretrain_share": 0.4, "validation_fraction": 0.15}
SEEDING = {"random_state": None, "device": "auto"}


def pretraining(**overrides) -> dict:
    """The pretraining options with some defaults changed."""
    unknown = set(overrides) - set(PRETRAINING)
    if unknown:
        raise TypeError(f"not a pretraining option: {sorted(unknown)}")
    return {**PRETRAINING, **overrides}


class _DBNBase(VisibleMixin, TakesTables, TorchEstimator):
    """Shared parameters and greedy pretraining.

    Parameters:
        image_shape: (H, W) or (H, W, C) for images given as pixel columns; None for tables.
        hidden_layer_sizes: hidden units of each RBM, bottom first.
        visible: "auto" (Bernoulli for images and for tables whose values all lie in [0, 1],
            Gaussian otherwise), "bernoulli" or "gaussian".
        cd_k: Gibbs steps per update; persistent: persistent CD instead of CD-k.
        pretrain_epochs, pretrain_lr, batch_size, weight_decay: RBM training (Adam on the
            contrastive free-energy difference; weight decay on the weights only).
        random_state, device: seed and "auto" | "cpu" | "cuda" (set by the advisor).
    """

    _torch_modules = ("stack_",)

    def _sizes(self) -> list[int]:
        sizes = [self.hidden_layer_sizes] if np.isscalar(self.hidden_layer_sizes) else list(self.hidden_layer_sizes)
        if not sizes or any(int(s) < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        return [int(s) for s in sizes]

    def _build_module(self, attr="stack_"):
        if attr == "stack_":
            return RBMStack(self.n_visible_, self.sizes_, self.visible_)
        return FineTuneNet(self.n_visible_, self.sizes_, self.n_outputs_, self.dropout).double()

    def _start(self, X, reset=True) -> np.ndarray:
        X = self._validated(X, reset=reset)
        V = self._fit_inputs(X)
        if len(V) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples, got n_samples = {len(V)}")
        self.n_visible_ = int(V.shape[1])
        self.sizes_ = self._sizes()
        self._start_device()
        return V

    def _pretrain(self, V: np.ndarray, layers: int | None = None, report: bool = True):
        """Greedy layer-wise training of the first `layers` RBMs (all by default), each in an
        equal share of the time left. Returns the stack and the per-layer histories."""
        with torch_seed(self.random_state):
            stack = RBMStack(self.n_visible_, self.sizes_, self.visible_).to(self.device_)
        n_layers = len(stack.rbms) if layers is None else layers
        deadlines = layer_budget([1.0] * n_layers)
        g_cpu = torch_generator(derive_seed(self.random_state, "batches"))
        g_dev = torch_generator(derive_seed(self.random_state, "gibbs"), device=self.device_)
        data = torch.as_tensor(V, device=self.device_)
        histories = []
        trial = current_trial() if report else None
        for i, rbm in enumerate(stack.rbms[:n_layers]):
            init_visible_bias(rbm, data)
            epochs = int(self.pretrain_epochs)
            if epochs > 0:
                # Only the first layer reports to the pruner: its reconstruction error is
                # measured on the data itself, so trials can be compared on it.
                with fit_scope(deadlines[i], trial if i == 0 else None):
                    h = train_rbm(
                        rbm, data, max_epochs=epochs, learning_rate=float(self.pretrain_lr), batch_size=int(self.batch_size),
                        cd_k=int(self.cd_k), persistent=bool(self.persistent), weight_decay=float(self.weight_decay),
                        generator_cpu=g_cpu, generator=g_dev,
                    )
                histories.append({"layer": i, "epochs": h.epochs, "reconstruction_error": list(h.losses), "stopped_by": h.stopped_by, "seconds": h.seconds})
            with torch.no_grad():
                data = rbm.hidden_probs(data)
        stack.eval()
        return stack, histories

    def _up(self, V: np.ndarray, layers=None) -> np.ndarray:
        dev = next(self.stack_.parameters()).device
        with torch.no_grad():
            parts = [self.stack_.up(torch.as_tensor(V[i : i + CHUNK], device=dev), layers).cpu().numpy() for i in range(0, len(V), CHUNK)]
        return np.concatenate(parts).astype(np.float64)


class _PretrainedOnly(_DBNBase):
    """The estimators whose whole training is the greedy pretraining of the stack."""

    @small_data_threads
    def fit(self, X, y=None):
        V = self._start(X)
        self.stack_, self.history_ = self._pretrain(V)
        return self
