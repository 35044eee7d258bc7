"""Training helpers shared by the torch families: the optimiser, shift augmentation, CPU threads."""

from __future__ import annotations

import functools
import math
import time
from contextlib import contextmanager

import torch

from advisor.runtime import budget
@contextmanager
def cpu_threads(n: int | None, device: str):
    """Cap torch's intra-op CPU threads inside the block (no effect on CUDA or with None).

    Small convolutions gain little from a second thread, and lose several-fold when another
    process shares the cores (measured in benchmarks/results/cnn_resnet.md).
    """
    if n is None or str(device).startswith("cuda"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def load_torch_optim() -> None:
    """Build and drop one `torch.optim` optimiser, once per process.

    The first optimiser torch builds imports its compiler stack, which takes 3-10 s on a shared
    2-core machine. A family calls this when its estimators' module loads (it runs when this
    module loads, too), so that cost never lands inside a fit's deadline.
    """
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


class AdamW(torch.optim.AdamW):
    """`torch.optim.AdamW` (Loshchilov and Hutter, 2019) with a cosine decay of the learning rate
    down to 2 % of `lr`, stepped by `next_epoch`, over `total_epochs` or, when the fit has a
    deadline (`advisor.runtime.budget`) that will cut training short, over the time left: the rate has
    come down by the time training stops, whichever ends it. Without a deadline the schedule
    depends on the epoch count alone, so seeded runs repeat. A family that wants a constant rate
    never calls `next_epoch`; parameter groups with their own "weight_decay" work as in torch.
    """

    def __init__(self, params, lr=1e-3, weight_decay=1e-2, total_epochs=1, **kwargs):
        params = list(params)
        try:
            # The fused kernel: on the small networks of a short trial the per-step overhead of
            # the default loop costs 20-30 % of the training time on a CPU.
            super().__init__(params, lr=lr, weight_decay=weight_decay, **{"fused": True, **kwargs})
        except (RuntimeError, ValueError):  # parameters the fused kernel does not take
            super().__init__(params, lr=lr, weight_decay=weight_decay, **kwargs)
        self.base_lr = float(lr)
        self.total_epochs, self.epoch = max(int(total_epochs), 1), 0
        self.start = time.monotonic()

    @property
    def lr(self) -> float:
        return float(self.param_groups[0]["lr"])

    def next_epoch(self):
        self.epoch += 1
        floor = 0.02 * self.base_lr
        progress = self.epoch / self.total_epochs
        left = budget.time_left()
        if math.isfinite(left):
            elapsed = time.monotonic() - self.start
            progress = max(progress, elapsed / max(elapsed + max(left, 0.0), 1e-9))
        progress = min(progress, 1.0)
        lr = floor + (self.base_lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        for group in self.param_groups:
            group["lr"] = lr


def random_shift(x, generator, fraction: float = 0.125):
    """Shift each image or sequence in a batch by up to `fraction` of its size (zero padding,
    which is the mean after standardisation): translation invariance as data augmentation."""
    import torch.nn.functional as F

    sizes = x.shape[2:]
    shifts = [max(1, int(round(fraction * s))) if s >= 4 else 0 for s in sizes]
    if not any(shifts):
        return x
    b = x.shape[0]
    pad = []
    for s in reversed(shifts):
        pad += [s, s]
    padded = F.pad(x, pad)
    offsets = [torch.randint(0, 2 * s + 1, (b,), generator=generator).to(x.device) for s in shifts]
    batch = torch.arange(b, device=x.device)
    if len(sizes) == 1:
        pos = offsets[0][:, None] + torch.arange(sizes[0], device=x.device)[None, :]
        out = padded[batch[:, None], :, pos]  # (B, L, C)
        return out.permute(0, 2, 1).contiguous()
    rows = offsets[0][:, None] + torch.arange(sizes[0], device=x.device)[None, :]
    cols = offsets[1][:, None] + torch.arange(sizes[1], device=x.device)[None, :]
    out = padded[batch[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


load_torch_optim()
