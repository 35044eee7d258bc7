"""Energy networks: E(x, sigma) for tables (an MLP) and images (a small conv net).

Both are conditioned on the noise level sigma, so that one network serves every level of
denoising score matching (Song & Ermon, 2019, "Generative modeling by estimating gradients of
the data distribution"). The energy is

    E(x, sigma) = |x|^2 / (2 (1 + sigma^2)) + f(x, log sigma) / sigma

The first term is the energy of standardised data smoothed by noise of level sigma under a
standard normal: it keeps energies bounded below and growing far from the data, so Langevin
chains never run away, and leaves the network only the residual to learn. Dividing f by sigma
keeps the network's gradient of order one at every level (the scaling of Song & Ermon, 2020,
"Improved techniques for training score-based generative models"). Activations are SiLU, whose
smooth gradient the score and the score-matching loss differentiate through. Spectral
normalisation of every weight (Miyato et al., 2018) is an option that bounds the Lipschitz
constant of f, which stabilises contrastive-divergence training.
"""

from __future__ import annotations

import math

import torch
from torch import nn

N_FREQ = 4


def sigma_features(log_sigma: torch.Tensor) -> torch.Tensor:
    """A small Fourier embedding of log sigma, shape (n, 1 + 2 * N_FREQ)."""
    t = log_sigma.reshape(-1, 1)
    k = torch.arange(1, N_FREQ + 1, dtype=t.dtype, device=t.device).reshape(1, -1) * 0.5
    return torch.cat([t, torch.sin(k * t), torch.cos(k * t)], dim=1)


def _maybe_sn(layer: nn.Module, spectral: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer


class EnergyBase(nn.Module):
    """Shared energy formula; subclasses implement `residual(x, emb, labels)` -> (n,), where
    `labels` (each row's class, or None) conditions a class-conditioned table energy."""

    def energy(self, x: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        sigma = sigma.reshape(-1)
        if sigma.numel() == 1:
            sigma = sigma.expand(x.shape[0])
        emb = sigma_features(torch.log(sigma))
        flat = x.reshape(x.shape[0], -1)
        base = 0.5 * (flat * flat).sum(dim=1) / (1.0 + sigma * sigma)
        return base + self.residual(x, emb, labels) / sigma

    def score(self, x: torch.Tensor, sigma: torch.Tensor, create_graph: bool = False, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The score -dE/dx at noise level sigma (given each row's class, for a conditioned energy)."""
        with torch.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_(True)
            e = self.energy(x, sigma, labels)
            (grad,) = torch.autograd.grad(e.sum(), x, create_graph=create_graph)
        return -grad

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.energy(x, sigma, labels)


class MLPEnergy(EnergyBase):
    """Residual energy of a table row: an MLP whose hidden layers get a bias from sigma (and,
    with `n_classes`, the first one a learned bias per class: E(x | class))."""

    def __init__(self, dim: int, width: int = 128, depth: int = 3, spectral: bool = False, n_classes: int = 0):
        super().__init__()
        emb_dim = 1 + 2 * N_FREQ
        self.label = nn.Embedding(n_classes, width) if n_classes else None
        self.inp = _maybe_sn(nn.Linear(dim, width), spectral)
        self.hidden = nn.ModuleList([_maybe_sn(nn.Linear(width, width), spectral) for _ in range(depth - 1)])
        self.cond = nn.ModuleList([nn.Linear(emb_dim, width) for _ in range(depth)])
        self.out = _maybe_sn(nn.Linear(width, 1), spectral)
        self.act = nn.SiLU()

    def residual(self, x, emb, labels=None):
        h = self.inp(x) + self.cond[0](emb)
        if self.label is not None:
            if labels is None:
                raise ValueError("this energy is conditioned on a class: pass `labels`")
            h = h + self.label(labels)
        h = self.act(h)
        for layer, cond in zip(self.hidden, self.cond[1:]):
            h = self.act(layer(h) + cond(emb))
        return self.out(h).reshape(-1)


class ConvEnergy(EnergyBase):
    """Residual energy of an image: three 3x3 convolutions (two of stride 2), pooled to 2x2,
    then a small head; sigma enters as a bias on every block."""

    def __init__(self, image_shape: tuple, width: int = 32, spectral: bool = False):
        super().__init__()
        h, w = int(image_shape[0]), int(image_shape[1])
        c = int(image_shape[2]) if len(image_shape) > 2 else 1
        self.image_shape = (h, w, c)
        emb_dim = 1 + 2 * N_FREQ
        self.convs = nn.ModuleList(
            [
                _maybe_sn(nn.Conv2d(c, width, 3, padding=1), spectral),
                _maybe_sn(nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), spectral),
                _maybe_sn(nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), spectral),
            ]
        )
        self.cond = nn.ModuleList([nn.Linear(emb_dim, width), nn.Linear(emb_dim, 2 * width), nn.Linear(emb_dim, 2 * width)])
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.head = nn.ModuleList([_maybe_sn(nn.Linear(8 * width, 2 * width), spectral), _maybe_sn(nn.Linear(2 * width, 1), spectral)])
        self.head_cond = nn.Linear(emb_dim, 2 * width)
        self.act = nn.SiLU()

    def to_image(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.image_shape
        return x.reshape(x.shape[0], h, w, c).permute(0, 3, 1, 2)

    def residual(self, x, emb, labels=None):
        z = self.to_image(x)
        for conv, cond in zip(self.convs, self.cond):
            z = self.act(conv(z) + cond(emb)[:, :, None, None])
        z = self.pool(z).flatten(1)
        z = self.act(self.head[0](z) + self.head_cond(emb))
        return self.head[1](z).reshape(-1)


def geometric_sigmas(sigma_max: float, sigma_min: float, n: int) -> list[float]:
    """n noise levels from sigma_max down to sigma_min, evenly spaced in log."""
    if n <= 1:
        return [float(sigma_min)]
    a, b = math.log(sigma_max), math.log(sigma_min)
    return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
