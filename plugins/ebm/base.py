"""The energy model every EBM task shares: the network, the noise ladder, the two trainings
(denoising score matching and contrastive divergence), and the energy and score of encoded rows."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from advisor.sdk import (
    TakesTables,
    TorchEstimator,
    class_count,
    current_trial,
    deadline,
    derive_seed,
    fit_scope,
    iterate_minibatches,
    load_torch_optim,
    numpy_rng,
    thread_limit,
    time_left,
    torch_generator,
    torch_seed,
)
from advisor_plugins.ebm.inputs import InputsMixin
from advisor_plugins.ebm.nets import ConvEnergy, MLPEnergy, geometric_sigmas

load_torch_optim()  # the first torch.optim optimiser is slow to build: not inside a fit

TRAININGS = ("dsm", "cd")
CHUNK = 1024


# The hyperparameters every task shares, declared once (advisor.sdk.declared_init builds each
# __init__ from them, with the task's own options between these and the seed).
ENERGY_MODEL = {"image_shape": None, "training": "dsm", "width": 128, "depth": 3, "n_sigmas": 10, "sigma_min": 0.05, "sigma_max": None,
                "spectral_norm": False, "learning_rate": 1e-3, "weight_decay": 0.0, "batch_size": 128, "max_epochs": 200, "patience": 20,
                "clip_grad": 1.0, "energy_reg": 0.1, "sgld_steps": 20, "sgld_step": 0.01, "buffer_size": 5000}
SEEDING = {"random_state": None, "device": "auto"}


class _EnergyModel(InputsMixin, TakesTables, TorchEstimator):
    """Shared parameters and training of the energy estimators.

    Parameters:
        image_shape: (H, W) or (H, W, C) for images given as pixel columns; None for tables
            (an (N, H, W[, C]) array is read as images whatever this says).
        training: "dsm" (denoising score matching) or "cd" (contrastive divergence with SGLD).
        width, depth: hidden width and number of hidden layers of the MLP (tables); images
            use `width` channels in a three-block conv net.
        n_sigmas, sigma_min, sigma_max: the noise ladder in standardised units (images: the
            pixel range mapped to [-1, 1]); sigma_max=None takes the largest distance between
            training rows, as Song & Ermon (2020) recommend.
        spectral_norm: spectral normalisation of every weight.
        learning_rate, weight_decay, batch_size, max_epochs, patience, clip_grad: Adam training.
        energy_reg, sgld_steps, sgld_step, buffer_size: contrastive-divergence settings (the
            SGLD step is alpha in x <- x - alpha/2 dE/dx + sqrt(alpha) noise).
        langevin_steps, langevin_step: sampling; level i takes steps of size
            langevin_step * sigma_i^2.
        numeric: how the table's numeric columns are encoded ("quantile" or "standard"; the
            denoiser always uses "standard").
        random_state, device: seed and "auto" | "cpu" | "cuda" (set by the advisor).
    """

    _torch_modules = ("net_",)
    numeric = "standard"  # overridden by the estimators that take it as a parameter
    langevin_steps = 50
    langevin_step = 0.1

    # -- building --------------------------------------------------------------------------
    def _build_module(self, attr="net_"):
        if self.image_shape_ is not None and len(self.image_shape_) >= 2 and min(self.image_shape_[:2]) >= 4:
            return ConvEnergy(self.image_shape_, width=int(self.width_), spectral=bool(self.spectral_norm))
        return MLPEnergy(int(self.dim_), width=int(self.width_), depth=int(self.depth), spectral=bool(self.spectral_norm),
                         n_classes=self._n_classes())

    def _n_classes(self) -> int:
        """Classes a table energy is conditioned on (0: not conditioned; see EnergyGenerator)."""
        return class_count(getattr(self, "class_condition_", None))

    def _check_params(self):
        if self.training not in TRAININGS:
            raise ValueError(f"training must be one of {TRAININGS}, got {self.training!r}")
        if not (self.sigma_min > 0):
            raise ValueError(f"sigma_min must be positive, got {self.sigma_min!r}")
        if int(self.depth) < 1 or int(self.width) < 1 or int(self.n_sigmas) < 1:
            raise ValueError("depth, width and n_sigmas must be at least 1")

    def _noise_ladder(self, Z: np.ndarray) -> np.ndarray:
        if self.training == "cd":
            return np.array([1.0])
        sigma_max = self.sigma_max
        if sigma_max is None:
            rng = numpy_rng(derive_seed(self.random_state, "ladder"))
            sub = Z[rng.permutation(len(Z))[:500]].astype(np.float64)
            sq = (sub * sub).sum(1)
            d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * sub @ sub.T, 0)
            sigma_max = float(np.sqrt(d2.max())) if len(sub) > 1 else 1.0
        sigma_max = max(float(sigma_max), 2.0 * float(self.sigma_min))
        return np.array(geometric_sigmas(sigma_max, float(self.sigma_min), int(self.n_sigmas)))

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y=None):
        # Small data trains faster on one thread than on several that wait for each other.
        with thread_limit(len(X)):
            return self._fit(X)

    def _fit(self, X, labels: np.ndarray | None = None):
        """Fit on `X` (and, for a class-conditioned energy, each row's class index `labels`)."""
        self._check_params()
        Z = self._fit_inputs(X)
        if len(Z) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 rows, got {len(Z)}")
        self.dim_ = int(Z.shape[1])
        self.width_ = int(self.width) if self.image_shape_ is None else max(8, int(self.width) // 4)
        self._start_device()
        self.sigmas_ = self._noise_ladder(Z)
        with torch_seed(self.random_state):
            net = self._build_module().to(self.device_)
        self.net_ = net
        train_rows, valid_rows = self._holdout(len(Z), derive_seed(self.random_state, "ebm"), cap=1000, fraction=0.1)
        valid, train = Z[valid_rows], Z[train_rows]
        L_train = None if labels is None else torch.as_tensor(labels[train_rows], device=self.device_)
        L_valid = None if labels is None else torch.as_tensor(labels[valid_rows], device=self.device_)
        g_cpu = torch_generator(derive_seed(self.random_state, "batches"))
        g_dev = torch_generator(derive_seed(self.random_state, "noise"), device=self.device_)
        Xt = torch.as_tensor(train, device=self.device_)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay))
        with fit_scope(self._training_deadline(Z), current_trial()):
            if self.training == "dsm":
                history = self._fit_dsm(net, Xt, valid, opt, g_cpu, g_dev, L_train, L_valid)
            else:
                history = self._fit_cd(net, Xt, opt, g_cpu, g_dev, L_train)
        net.eval()
        self.history_ = self._record(history)
        self.n_train_ = int(len(train))
        self._after_fit(Z)
        return self

    def _after_fit(self, Z):
        """Hook for the task estimators (calibration on the training rows)."""

    def _answer_passes(self) -> int:
        """Score evaluations per row that the end of `fit` and the estimator's first answer
        cost (each task estimator says how many)."""
        return 0

    def _training_deadline(self, Z) -> float | None:
        """Training stops early enough that what follows the fit still meets the deadline:
        the calibration at the end of `fit`, and the first answer the advisor asks for (a
        Langevin sampler takes hundreds of score evaluations). That time is measured on one
        score evaluation of the untrained network and capped at half of the time left."""
        left = time_left()
        if not math.isfinite(left) or not self._answer_passes():
            return None
        m = min(len(Z), 256)
        probe = torch.as_tensor(Z[:m], device=self.device_)
        sigma = torch.tensor([float(self.sigmas_[-1])], device=self.device_)
        labels = torch.zeros(m, dtype=torch.long, device=self.device_) if self._n_classes() else None
        self.net_.score(probe, sigma, labels=labels)  # warm-up
        t0 = time.monotonic()
        self.net_.score(probe, sigma, labels=labels)
        per_row = (time.monotonic() - t0) / m
        reserve = min(2.0 * per_row * self._reserve_rows(len(Z)) * self._answer_passes(), 0.5 * left)
        return time.monotonic() + left - reserve

    def _reserve_rows(self, n: int) -> int:
        return n

    def _dsm_loss(self, net, x, sig, z, create_graph, labels=None):
        xn = (x + sig.reshape(-1, 1) * z).detach().requires_grad_(True)
        e = net.energy(xn, sig, labels)
        (grad,) = torch.autograd.grad(e.sum(), xn, create_graph=create_graph)
        return 0.5 * ((z - sig.reshape(-1, 1) * grad) ** 2).sum(dim=1).mean() / x.shape[1]

    def _fit_dsm(self, net, Xt, valid, opt, g_cpu, g_dev, L_train=None, L_valid=None):
        sigmas = torch.as_tensor(self.sigmas_, dtype=torch.float32, device=self.device_)
        L = len(self.sigmas_)
        bs = int(min(self.batch_size, len(Xt)))
        clip = float(self.clip_grad) if self.clip_grad else None

        def run_epoch(epoch):
            net.train()
            total, count = 0.0, 0
            for idx in iterate_minibatches(len(Xt), bs, generator=g_cpu):
                x = Xt[idx.to(self.device_)]
                levels = torch.randint(L, (len(x),), generator=g_cpu).to(self.device_)
                z = torch.randn(x.shape, generator=g_dev, device=self.device_)
                labels = None if L_train is None else L_train[idx.to(self.device_)]
                loss = self._dsm_loss(net, x, sigmas[levels], z, create_graph=True, labels=labels)
                _step(opt, loss, net, clip)
                total += float(loss.detach()) * len(x)
                count += len(x)
            return total / max(count, 1)

        validate = None
        if len(valid):
            g_val = torch_generator(derive_seed(self.random_state, "valid"), device=self.device_)
            xv = torch.as_tensor(valid, device=self.device_)
            zv = torch.randn(xv.shape, generator=g_val, device=self.device_)
            sv = sigmas[torch.arange(len(xv), device=self.device_) % L]

            def validate():
                net.eval()
                return -float(self._dsm_loss(net, xv, sv, zv, create_graph=False, labels=L_valid))

        return self._run_epochs(run_epoch, self.max_epochs, validate=validate, module=net)

    def _sgld(self, net, x, steps, alpha, sigma, g_dev, labels=None):
        noise = math.sqrt(alpha)
        for _ in range(steps):
            grad = -net.score(x, sigma, labels=labels)
            x = (x - 0.5 * alpha * grad + noise * torch.randn(x.shape, generator=g_dev, device=x.device)).detach()
        return x

    def _fit_cd(self, net, Xt, opt, g_cpu, g_dev, L_train=None):
        sigma = torch.tensor([float(self.sigmas_[0])], device=self.device_)
        d = Xt.shape[1]
        buffer = self._noise_on(int(self.buffer_size), d, g_dev, self.device_)
        # A conditioned energy's chains each keep a class, drawn in the training rows' shares.
        buffer_labels = None if L_train is None else L_train[torch.randint(len(L_train), (len(buffer),), generator=g_cpu).to(self.device_)]
        bs = int(min(self.batch_size, len(Xt)))
        clip = float(self.clip_grad) if self.clip_grad else None
        alpha, steps, reg = float(self.sgld_step), int(self.sgld_steps), float(self.energy_reg)

        def run_epoch(epoch):
            total, count = 0.0, 0
            for idx in iterate_minibatches(len(Xt), bs, generator=g_cpu):
                x = Xt[idx.to(self.device_)]
                pick = torch.randint(len(buffer), (len(x),), generator=g_cpu).to(self.device_)
                start = buffer[pick]
                fresh = torch.rand(len(x), generator=g_dev, device=self.device_) < 0.05
                start = torch.where(fresh[:, None], self._noise_on(len(x), d, g_dev, self.device_), start)
                net.eval()
                pos_labels = None if L_train is None else L_train[idx.to(self.device_)]
                neg_labels = None if buffer_labels is None else buffer_labels[pick]
                neg = self._sgld(net, start, steps, alpha, sigma, g_dev, labels=neg_labels)
                buffer[pick] = neg
                net.train()
                e_pos, e_neg = net.energy(x, sigma, pos_labels), net.energy(neg, sigma, neg_labels)
                loss = e_pos.mean() - e_neg.mean() + reg * (e_pos**2 + e_neg**2).mean()
                _step(opt, loss, net, clip)
                total += float(loss.detach()) * len(x)
                count += len(x)
            return total / max(count, 1)

        # Contrastive losses are not comparable with score-matching ones, so cd trials do not
        # report to the Optuna pruner (they still stop at the deadline).
        with fit_scope(deadline(), None):
            return self._run_epochs(run_epoch, self.max_epochs, patience=None)

    # -- inference helpers -----------------------------------------------------------------
    def _torch_device(self):
        return next(self.net_.parameters()).device

    def _energy(self, Z: np.ndarray, sigma: float) -> np.ndarray:
        dev = self._torch_device()
        out = []
        with torch.no_grad():
            s = torch.tensor([float(sigma)], device=dev)
            for i in range(0, len(Z), CHUNK):
                out.append(self.net_.energy(torch.as_tensor(Z[i : i + CHUNK], device=dev), s).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def _score_fn(self, Z: np.ndarray, sigma: float) -> np.ndarray:
        dev = self._torch_device()
        s = torch.tensor([float(sigma)], device=dev)
        out = [self.net_.score(torch.as_tensor(Z[i : i + CHUNK], device=dev), s).detach().cpu().numpy() for i in range(0, len(Z), CHUNK)]
        return np.concatenate(out).astype(np.float64) if out else np.zeros_like(Z, dtype=np.float64)

    def _sample_encoded(self, n: int, seed, classes: np.ndarray | None = None) -> np.ndarray:
        """`n` encoded rows (for a conditioned energy, row i of class index `classes[i]`)."""
        dev = self._torch_device()
        g = torch_generator(derive_seed(seed, "sample"), device=str(dev))
        d = self.dim_
        parts = []
        for start in range(0, n, 2048):
            m = min(2048, n - start)
            labels = None if classes is None else torch.as_tensor(classes[start : start + m], device=dev)
            if self.training == "cd":
                x = self._noise_on(m, d, g, dev)
                sigma = torch.tensor([float(self.sigmas_[0])], device=dev)
                x = self._sgld(self.net_, x, int(self.sgld_steps) * 10, float(self.sgld_step), sigma, g, labels=labels)
            else:
                x = torch.randn((m, d), generator=g, device=dev) * float(self.sigmas_[0])
                for s in self.sigmas_:
                    alpha = float(self.langevin_step) * float(s) ** 2
                    sig = torch.tensor([float(s)], device=dev)
                    for _ in range(int(self.langevin_steps)):
                        x = (x + 0.5 * alpha * self.net_.score(x, sig, labels=labels) + math.sqrt(alpha) * torch.randn(x.shape, generator=g, device=dev)).detach()
                last = torch.tensor([float(self.sigmas_[-1])], device=dev)
                x = (x + float(self.sigmas_[-1]) ** 2 * self.net_.score(x, last, labels=labels)).detach()
            parts.append(x.cpu().numpy())
        return np.concatenate(parts).astype(np.float64)

    def _noise_on(self, n, d, g, dev):
        if self.image_shape_ is not None:
            return torch.rand((n, d), generator=g, device=dev) * 2 - 1
        return torch.randn((n, d), generator=g, device=dev)


def _step(opt, loss, net, clip: float) -> None:
    """One optimiser step on `loss`, with the gradient norm clipped to `clip` (0: no clipping)."""
    opt.zero_grad()
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
    opt.step()
