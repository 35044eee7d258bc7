"""Seeded randomness that leaves global random state alone.

Families get a seed through their `random_state` parameter; these helpers turn it into
generators, and run module initialisation under a forked torch RNG so that the user's own
`torch.manual_seed` stream is never consumed or reset.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import numpy as np


def derive_seed(seed: int | None, *keys: object) -> int:
    """A stable 31-bit seed from `seed` and any labels (same inputs, same seed, every run)."""
    text = "/".join([str(0 if seed is None else int(seed))] + [str(k) for k in keys])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def numpy_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def torch_generator(seed: int | None, device: str = "cpu"):
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(seed, "torch"))
    return g


@contextmanager
def torch_seed(seed: int | None):
    """Make torch's global RNG deterministic inside the block, then restore it.

    Use it around `nn.Module` construction, whose initialisers draw from the global RNG.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        yield
