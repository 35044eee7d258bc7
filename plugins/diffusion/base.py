"""The training loop and persistence shared by the diffusion estimators (`estimators.py`).

One loop serves every task: AdamW on minibatches, an exponential moving average of the weights
(the averaged model is the one kept, as is usual for diffusion models), a validation loss at
fixed noise levels on held-out rows reported every epoch (so Optuna can prune weak trials), and
the deadline of the search (`advisor.nn.training.train_epochs`).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch

from advisor.sdk import (
    TorchEstimator,
    class_count,
    derive_seed,
    iterate_minibatches,
    load_torch_optim,
    time_left,
    torch_generator,
    torch_seed,
)
from advisor_plugins.diffusion.nets import FlatMLP, MLPDenoiser, NoiseLevelNet, UNet
from advisor_plugins.diffusion.process import Diffusion, Layout
from advisor_plugins.diffusion.spaces import ImageSpace

load_torch_optim()  # the first torch.optim optimiser is slow to build: not inside a fit

VALID_SIGMAS = (0.1, 0.3, 1.0, 3.0)  # noise levels of the validation loss, in model units
MIN_STEPS_PER_EPOCH = 8  # tiny tables repeat their rows so that an epoch is worth a report
CHUNK = 20_000  # rows per forward pass when sampling or scoring
DEFAULTS = {"table": (256, 3), "unet": (32, 1), "image_mlp": (256, 3), "numeric": (128, 2)}  # (width, depth) when None
SMALL_IMAGE = 256  # values per image up to which architecture="auto" picks the MLP (not to generate)


def _fresh_seed() -> int:
    return int(np.random.default_rng().integers(2**31 - 1))


class _DiffusionBase(TorchEstimator):
    """Training, persistence and sampling plumbing shared by the three task estimators."""

    _mlp_for_small_images = True  # architecture="auto" on images of up to SMALL_IMAGE values

    _torch_modules = ("net_",)

    # -- set-up -----------------------------------------------------------------------------
    def _check_params(self):
        if int(self.diffusion_steps) < 2:
            raise ValueError(f"diffusion_steps must be at least 2, got {self.diffusion_steps}")
        if self.schedule not in ("cosine", "linear"):
            raise ValueError(f"schedule must be 'cosine' or 'linear', got {self.schedule!r}")
        if not (self.lr > 0 and int(self.epochs) >= 1 and int(self.batch_size) >= 1):
            raise ValueError("lr must be positive, epochs and batch_size at least 1")

    def _resolve_seed(self) -> int:
        return int(self.random_state) if self.random_state is not None else _fresh_seed()

    def _layout(self) -> Layout | None:
        return Layout(self.n_num_, tuple(self.cardinalities_)) if self.kind_ == "table" else None

    def _diffusion(self, device: str) -> Diffusion:
        return Diffusion(self.schedule, self.diffusion_steps, self._layout(), device)

    def _build_module(self, attr: str):
        if attr == "net_":
            if self.kind_ == "image":
                h, w, c = self.space_.shape
                if self.architecture_ == "mlp":
                    return FlatMLP(h * w * c, h * w * c, width=self.width_, depth=self.depth_, dropout=self.dropout)
                return UNet(c, h, w, width=self.width_, depth=self.depth_)
            d = self.n_num_ + int(sum(self.cardinalities_))
            return MLPDenoiser(d, d, width=self.width_, depth=self.depth_, dropout=self.dropout, n_classes=self._n_classes())
        if attr == "sigma_net_":
            if self.kind_ == "image":
                return NoiseLevelNet(0, image_channels=self.space_.shape[2])
            return NoiseLevelNet(self.n_num_)
        raise KeyError(attr)

    def _n_classes(self) -> int:
        """Classes the table denoiser is conditioned on (0: not conditioned)."""
        return class_count(getattr(self, "class_condition_", None))

    def _device(self) -> str:
        return str(next(self.net_.parameters()).device)

    def _set_size(self, kind: str):
        self.kind_ = kind
        arch = self.architecture
        if arch not in ("auto", "mlp", "unet"):
            raise ValueError(f"architecture must be 'auto', 'mlp' or 'unet', got {arch!r}")
        if kind != "image":
            arch = "mlp"
        elif arch == "auto":
            arch = "mlp" if self._mlp_for_small_images and int(np.prod(self.image_shape)) <= SMALL_IMAGE else "unet"
        self.architecture_ = arch
        width, depth = DEFAULTS["unet" if arch == "unet" else "image_mlp" if kind == "image" else kind]
        self.width_ = int(self.width if self.width is not None else width)
        self.depth_ = int(self.depth if self.depth is not None else depth)

    # -- training ---------------------------------------------------------------------------
    def _train(self, x: np.ndarray, codes: np.ndarray, *, labels: np.ndarray | None = None, clip=None,
               clip_share: float = 0.0, sigma_net: bool = False):
        """Fit `net_` (and `sigma_net_` when asked) on numbers `x` and category codes `codes`
        (and, for a class-conditioned denoiser, each row's class index `labels`)."""
        device = self._start_device()
        seed = self.seed_
        n = len(x)
        cap = 128 if self.kind_ == "image" else 512
        tr_idx, val_idx = self._holdout(n, derive_seed(seed, "diffusion"), cap=cap)
        n_val = len(val_idx)
        if n_val == 0:  # too few rows to hold any out: the validation loss is watched on training rows
            val_idx = np.random.default_rng(derive_seed(seed, "holdout")).permutation(n)[: min(n, cap)]
        X = torch.as_tensor(x, dtype=torch.float32, device=device)
        C = torch.as_tensor(codes, dtype=torch.long, device=device)
        X_tr, C_tr = X[torch.as_tensor(tr_idx, device=device)], C[torch.as_tensor(tr_idx, device=device)]
        X_va, C_va = X[torch.as_tensor(val_idx, device=device)], C[torch.as_tensor(val_idx, device=device)]
        L = None if labels is None else torch.as_tensor(labels, dtype=torch.long, device=device)
        L_tr = None if L is None else L[torch.as_tensor(tr_idx, device=device)]
        L_va = None if L is None else L[torch.as_tensor(val_idx, device=device)]
        clip_t = None if clip is None else tuple(torch.as_tensor(c, dtype=torch.float32, device=device) for c in clip)
        with torch_seed(seed):
            net = self._build_module("net_").to(device)
            snet = self._build_module("sigma_net_").to(device) if sigma_net else None
        ema = copy.deepcopy(net).eval()
        for p in ema.parameters():
            p.requires_grad_(False)
        params = list(net.parameters()) + (list(snet.parameters()) if snet is not None else [])
        opt = torch.optim.AdamW(params, lr=float(self.lr), weight_decay=float(self.weight_decay), foreach=True)
        diff = self._diffusion(device)
        g_batch = torch_generator(derive_seed(seed, "batches"))
        g_noise = torch_generator(derive_seed(seed, "noise"), device)
        n_tr = len(X_tr)
        batch = int(min(self.batch_size, n_tr))
        passes = max(1, math.ceil(MIN_STEPS_PER_EPOCH / math.ceil(n_tr / batch)))
        ema_params, net_params = list(ema.parameters()), list(net.parameters())
        state = {"step": 0}

        def run_epoch(epoch: int) -> float:
            net.train()
            total, count = 0.0, 0
            for rep in range(passes):
                if rep > 0 and time_left() <= 0:
                    break
                for idx in iterate_minibatches(n_tr, batch, g_batch):
                    idx = idx.to(device)
                    x0, c0 = X_tr[idx], C_tr[idx]
                    l0 = None if L_tr is None else L_tr[idx]
                    loss = diff.training_loss(net, x0, c0, g_noise, clip_t, clip_share, labels=l0)
                    if snet is not None:
                        loss = loss + self._sigma_loss(snet, x0, g_noise, clip_t)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                    state["step"] += 1
                    decay = min(float(self.ema_decay), (1 + state["step"]) / (10 + state["step"]))
                    with torch.no_grad():
                        torch._foreach_lerp_(ema_params, net_params, 1 - decay)
                    total += float(loss.detach()) * len(idx)
                    count += len(idx)
            return total / max(count, 1)

        def validate() -> float:
            g = torch_generator(derive_seed(seed, "validation"), device)
            with torch.no_grad():
                return -float(diff.fixed_level_loss(ema, X_va, C_va, VALID_SIGMAS, g, labels=L_va).mean())

        # No best-weights restore: the validation loss flattens early while samples keep improving.
        history = self._run_epochs(run_epoch, self.epochs, validate=validate, snapshot=ema)
        self.net_ = ema.eval()
        if snet is not None:
            self.sigma_net_ = snet.eval()
        self.history_ = self._record(history, steps=state["step"], n_train=int(n_tr), n_valid=int(n_val))

    def _sigma_loss(self, snet, x0, generator, clip):
        """Teach the noise-level net: inputs with noise of a random level (log-uniform 0.01..2,
        half of them clipped to the value range for images), target its log."""
        n = len(x0)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        log_s = torch.empty(n, device=x0.device).uniform_(math.log(0.01), math.log(2.0), generator=generator)
        noisy = x0 + log_s.exp().view(shape) * torch.randn(x0.shape, generator=generator, device=x0.device)
        if clip is not None:
            use = (torch.rand(n, generator=generator, device=x0.device) < 0.5).view(shape)
            noisy = torch.where(use, torch.maximum(torch.minimum(noisy, clip[1]), clip[0]), noisy)
        return ((snet(noisy) - log_s) ** 2).mean()

    def _begin_fit(self, X) -> bool:
        """Check the parameters and fix the seed; for images, fit the image space and say so."""
        self._check_params()
        self.seed_ = self._resolve_seed()
        if self.image_shape is None:
            return False
        self._set_size("image")
        self.space_ = ImageSpace(self.image_shape).fit(X)
        return True

    def _end_fit(self, X, x, codes, **training) -> None:
        """Train on the encoded rows `x` (and categorical `codes`) of the input `X`."""
        if len(x) < 2:
            raise ValueError(f"need at least 2 rows to fit, got {len(x)}")
        self.n_features_in_ = int(np.prod(np.shape(X)[1:])) if not isinstance(X, pd.DataFrame) else X.shape[1]
        self._train(x, codes, **training)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        if getattr(self, "image_shape", None) is None:
            tags.input_tags.categorical = True
            tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags


_COMMON_DOC = """
    Parameters shared by the diffusion estimators:
        image_shape: (H, W) or (H, W, C) to treat the columns (or an (N, H, W[, C]) array) as
            images and use a U-Net; None for tables (a residual MLP).
        architecture: images only: "unet" (a small U-Net), "mlp" (the residual MLP on
            flattened pixels: far cheaper on small images) or "auto" (the U-Net to generate;
            to denoise and detect, the MLP up to 256 values per image, the U-Net above). Tables
            always use the MLP.
        width, depth: MLP units and residual blocks, or U-Net base channels and residual blocks
            per resolution; None picks 256/3 (tables and the image MLP), 32/1 (U-Net).
        diffusion_steps: steps T of the training schedule (not named `steps`, which marks a Pipeline).
        schedule: "cosine" (Nichol & Dhariwal, 2021) or "linear" (Ho et al., 2020).
        lr, weight_decay, batch_size, epochs: AdamW and the epoch loop (which also stops at
            the search's deadline, and early when `patience` epochs bring no improvement).
        ema_decay: weight averaging; the averaged model is the one kept.
        validation_fraction: rows held out for the per-epoch validation loss (under 40 rows, some
            training rows stand in).
        random_state: seed of every random draw (CPU runs repeat exactly).
        device: "auto", "cpu" or "cuda".
"""
