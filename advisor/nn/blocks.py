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
