"""Convolution building blocks shared by the image and sequence families: one code path for
1-D (sequences) and 2-D (images) inputs."""

from __future__ import annotations

import torch
from torch import nn


def conv_layers(dim: int):
    """(Conv, BatchNorm, MaxPool) classes for 1-D or 2-D data."""
    if dim == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d
    return nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d


def odd_kernel(kernel_size: int, sizes) -> int:
    """The kernel size, odd (so 'same' padding is symmetric) and at most 2 * size - 1, the
    widest kernel whose every output still sees a real input; positions stay distinguishable
    through the zero padding even on inputs only two wide."""
    k = max(1, int(kernel_size))
    if len(sizes):
        k = min(k, 2 * int(min(sizes)) - 1)
    return k if k % 2 else max(1, k - 1)


def global_pool(h: torch.Tensor) -> torch.Tensor:
    """Average and max over every spatial position, side by side."""
    flat = h.flatten(2)
    return torch.cat([flat.mean(dim=2), flat.amax(dim=2)], dim=1)


class StagedTrunk(nn.Module):
    """Base of a convolutional trunk built stage by stage. It keeps the map size and the width
    after every stage, which a decoder needs to mirror the trunk (`BottleneckAutoencoder`)."""

    def _keep_stages(self, size, widths, stages) -> None:
        """`size`: the input map's; `widths`: those recorded before the first stage (the stem's);
        `stages`: (block, map size after it, width after it) in order."""
        self.sizes = [list(size)] + [list(after) for _, after, _ in stages]
        self.widths = list(widths) + [width for _, _, width in stages]
        self.blocks = nn.Sequential(*(block for block, _, _ in stages))
        self.out_channels = self.widths[-1]
        self.out_size = self.sizes[-1]


class BottleneckAutoencoder(nn.Module):
    """A convolutional trunk, a linear bottleneck, and a decoder that upsamples back to the input.

    A subclass builds `self.trunk` (with `out_channels` and `out_size`), calls
    `self._bottleneck(embed_dim, dropout)`, then sets `self.ups` (one block per upsampling step),
    `self.up_sizes` (the map size before each block) and `self.final` (back to the input's
    channels). `embed` is the bottleneck next to the trunk's globally pooled maps.
    """

    def _bottleneck(self, embed_dim: int, dropout: float) -> None:
        flat = self.trunk.out_channels * int(torch.tensor(self.trunk.out_size).prod())
        self.encode_fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(flat, embed_dim))
        self.decode_fc = nn.Sequential(nn.Linear(embed_dim, flat), nn.ReLU())

    def embed(self, x):
        h = self.trunk(x)
        return torch.cat([self.encode_fc(h.flatten(1)), global_pool(h)], dim=1)

    def forward(self, x):
        h = self.decode_fc(self.encode_fc(self.trunk(x).flatten(1))).view(len(x), self.trunk.out_channels, *self.trunk.out_size)
        for size, block in zip(self.up_sizes, self.ups):
            h = block(nn.functional.interpolate(h, size=tuple(size), mode="nearest"))
        return self.final(h)
