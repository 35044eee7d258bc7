"""Training helpers of the shared engine: the optimiser, shift augmentation, CPU threads."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import torch

from advisor import budget


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


class AdamW:
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019) and a cosine decay of the
    learning rate down to 2 % of `lr`, over `total_epochs` or, when the fit has a deadline
    (`advisor.budget`) that will cut training short, over the time left: the rate has come
    down by the time training stops, whichever ends it. Without a deadline the schedule depends
    on the epoch count alone, so seeded runs repeat.

    The same update as `torch.optim.AdamW`; written out because constructing any
    `torch.optim` optimizer imports `torch._dynamo`, which takes 3-10 s of a small trial's
    budget on a shared 2-core machine.
    """

    def __init__(self, params, lr=1e-3, weight_decay=1e-2, betas=(0.9, 0.999), eps=1e-8, total_epochs=1):
        self.params = [p for p in params if p.requires_grad]
        self.base_lr, self.lr, self.weight_decay = lr, lr, weight_decay
        self.betas, self.eps = betas, eps
        self.total_epochs, self.epoch, self.steps = max(int(total_epochs), 1), 0, 0
        self.start = time.monotonic()
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.steps += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.steps, 1 - b2**self.steps
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            p.mul_(1 - self.lr * self.weight_decay)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)

    def next_epoch(self):
        self.epoch += 1
        floor = 0.02 * self.base_lr
        progress = self.epoch / self.total_epochs
        left = budget.time_left()
        if math.isfinite(left):
            elapsed = time.monotonic() - self.start
            progress = max(progress, elapsed / max(elapsed + max(left, 0.0), 1e-9))
        progress = min(progress, 1.0)
        self.lr = floor + (self.base_lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


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
