"""Torch denoisers: a residual MLP for tables, a small U-Net for images, and noise-level nets.

Every denoiser takes the noisy input and the log noise level `log_sigma` (one value per row, see
`process.py`) and predicts the noise that was added (and, for tables, logits of the clean
categories). The table denoiser can also take a class label per row (`labels`), embedded and
added to the noise embedding as TabDDPM conditions on the target. Conditioning on the noise level rather than on a step index keeps one network
usable with any schedule, any number of sampling steps and any noise level a user hands in.
"""

from __future__ import annotations

import math

import torch
from torch import nn

LOG_SIGMA_RANGE = 8.0  # log noise levels are clamped to [-8, 8] before they are embedded
EMBED_DIM = 64


def noise_embedding(log_sigma: torch.Tensor, dim: int = EMBED_DIM) -> torch.Tensor:
    """Sinusoidal features of the log noise level, as the step embedding of Ho et al. (2020).

    The clamped log level is stretched onto [0, 960] so the usual frequencies (up to 1/10000)
    resolve it as they would resolve a step index out of 1000.
    """
    u = (log_sigma.clamp(-LOG_SIGMA_RANGE, LOG_SIGMA_RANGE) + LOG_SIGMA_RANGE) * (960.0 / (2 * LOG_SIGMA_RANGE))
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=u.device, dtype=torch.float32) / half)
    args = u.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class _NoiseMLP(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(EMBED_DIM, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, log_sigma):
        if len(log_sigma) > 1 and bool((log_sigma == log_sigma[0]).all()):
            # One noise level for the whole batch (sampling, denoising): embed it once.
            return self.net(noise_embedding(log_sigma[:1])).expand(len(log_sigma), -1)
        return self.net(noise_embedding(log_sigma))


class MLPDenoiser(nn.Module):
    """TabDDPM's denoiser shape (Kotelnikov et al., 2023): an input projection plus the noise
    embedding (plus, with `n_classes`, a learned embedding of each row's class), then `depth`
    residual blocks (LayerNorm, Linear, SiLU, dropout) and a linear head."""

    def __init__(self, d_in: int, d_out: int, width: int = 256, depth: int = 3, dropout: float = 0.0, n_classes: int = 0):
        super().__init__()
        self.inp = nn.Linear(max(d_in, 1), width)
        self.noise = _NoiseMLP(width)
        self.label = nn.Embedding(n_classes, width) if n_classes else None
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.SiLU(), nn.Dropout(dropout)) for _ in range(depth)
        )
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, d_out))
        self.d_in = d_in

    def forward(self, x: torch.Tensor, log_sigma: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.d_in == 0:
            x = torch.zeros(len(log_sigma), 1, device=log_sigma.device)
        emb = self.noise(log_sigma)
        if self.label is not None:
            if labels is None:
                raise ValueError("this denoiser is conditioned on a class: pass `labels`")
            emb = emb + self.label(labels)
        h = self.inp(x) + emb
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


class FlatMLP(MLPDenoiser):
    """The residual MLP on flattened images: no notion of neighbouring pixels, but a tenth of a
    small U-Net's cost on 8x8 images, which buys many more training steps on a CPU."""

    def forward(self, x: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1), log_sigma).view(x.shape)


def _groups(channels: int) -> int:
    for g in (8, 4, 2):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    """GroupNorm, SiLU, 3x3 conv; the noise embedding is added between the two convolutions."""

    def __init__(self, c_in: int, c_out: int, emb: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb, c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(nn.functional.silu(self.norm2(h)))
        return self.skip(x) + h


def unet_levels(height: int, width: int, max_levels: int = 3) -> int:
    """How many resolutions the U-Net uses: halve while both sides stay even and at least 4."""
    levels = 1
    while levels < max_levels and height % 2 == 0 and width % 2 == 0 and height // 2 >= 4 and width // 2 >= 4:
        height, width, levels = height // 2, width // 2, levels + 1
    return levels


class UNet(nn.Module):
    """A small U-Net (Ronneberger et al., 2015, as used by Ho et al., 2020) without attention:
    `levels` resolutions with `width`, 2·`width`, 2·`width` channels and `depth` residual
    blocks each, skip connections by concatenation. 8x8 images use two resolutions, 16x16 and
    32x32 three."""

    def __init__(self, channels: int, height: int, width_px: int, width: int = 32, depth: int = 1):
        super().__init__()
        self.levels = unet_levels(height, width_px)
        chs = [width * (1 if i == 0 else 2) for i in range(self.levels)]
        emb = 4 * width
        self.noise = _NoiseMLP(emb)
        self.inp = nn.Conv2d(channels, width, 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = width
        for i, ch in enumerate(chs):
            self.down_blocks.append(nn.ModuleList([ResBlock(prev if j == 0 else ch, ch, emb) for j in range(depth)]))
            prev = ch
            if i < self.levels - 1:
                self.downsample.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        self.mid = ResBlock(prev, prev, emb)
        self.up_blocks = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(self.levels)):
            ch = chs[i]
            self.up_blocks.append(nn.ModuleList([ResBlock(prev + ch if j == 0 else ch, ch, emb) for j in range(depth)]))
            prev = ch
            if i > 0:
                self.upsample.append(nn.ConvTranspose2d(ch, chs[i - 1], 2, stride=2))
                prev = chs[i - 1]
        self.out = nn.Sequential(nn.GroupNorm(_groups(width), width), nn.SiLU(), nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        emb = self.noise(log_sigma)
        h = self.inp(x)
        skips = []
        for i, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if i < self.levels - 1:
                h = self.downsample[i](h)
        h = self.mid(h, emb)
        for k, blocks in enumerate(self.up_blocks):
            i = self.levels - 1 - k
            h = torch.cat([h, skips[i]], dim=1)
            for block in blocks:
                h = block(h, emb)
            if i > 0:
                h = self.upsample[k](h)
        return self.out(h)


class NoiseLevelNet(nn.Module):
    """Estimates the log noise level of a noisy input, so that `transform` works without being
    told how noisy the data are. Images: two 3x3 convolutions, then the mean and spread of each
    feature map over the image (noise is a local, image-wide statistic). Tables: a small MLP."""

    def __init__(self, d_in: int, image_channels: int | None = None, width: int = 16):
        super().__init__()
        self.image = image_channels is not None
        if self.image:
            self.features = nn.Sequential(
                nn.Conv2d(image_channels, width, 3, padding=1), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1), nn.SiLU()
            )
            self.head = nn.Sequential(nn.Linear(2 * width, width), nn.SiLU(), nn.Linear(width, 1))
        else:
            self.features = nn.Identity()
            self.head = nn.Sequential(nn.Linear(d_in, 2 * width), nn.SiLU(), nn.Linear(2 * width, 2 * width), nn.SiLU(), nn.Linear(2 * width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.image:
            f = self.features(x)
            x = torch.cat([f.mean(dim=(2, 3)), f.std(dim=(2, 3))], dim=1)
        return self.head(x)[:, 0]
