"""Restricted Boltzmann machines and their greedy layer-wise training.

An RBM couples visible units v and binary hidden units h through the energy

    Bernoulli-Bernoulli (data in [0, 1]):     E(v, h) = -b.v - c.h - v W h
    Gaussian-Bernoulli (standardised data):   E(v, h) = |v - b|^2 / 2 - c.h - v W h

(unit visible variance, the usual choice for standardised inputs; Hinton, 2010, "A practical
guide to training restricted Boltzmann machines"). Summing out h gives the free energy
F(v) = visible term - sum_j softplus(c_j + (v W)_j), and the log-likelihood gradient is
-dF/dtheta at the data minus the same at model samples. Those samples come from k steps of
block Gibbs sampling started at the data (CD-k, Hinton, 2002) or from chains that persist
across updates (persistent CD, Tieleman, 2008). The gradient is taken through autograd on
F(v_data) - F(v_model) with the model samples held fixed, which is the same update.

A deep belief network stacks RBMs (Hinton, Osindero & Teh, 2006): the first is trained on the
data, each next one on the hidden probabilities of the one below.
"""

from __future__ import annotations

import itertools
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from advisor.sdk import iterate_minibatches, time_left, train_epochs

VISIBLE_KINDS = ("bernoulli", "gaussian")


class RBM(nn.Module):
    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli"):
        super().__init__()
        if visible not in VISIBLE_KINDS:
            raise ValueError(f"visible must be one of {VISIBLE_KINDS}, got {visible!r}")
        self.visible = visible
        self.W = nn.Parameter(torch.randn(n_visible, n_hidden) * 0.01)
        self.b = nn.Parameter(torch.zeros(n_visible))
        self.c = nn.Parameter(torch.zeros(n_hidden))

    @property
    def n_visible(self) -> int:
        return self.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[1]

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(v @ self.W + self.c)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        act = h @ self.W.T + self.b
        return torch.sigmoid(act) if self.visible == "bernoulli" else act

    def sample_hidden(self, v, generator=None):
        p = self.hidden_probs(v)
        return (torch.rand(p.shape, generator=generator, device=p.device) < p).to(p.dtype)

    def sample_visible(self, h, generator=None):
        return self._draw(self.visible_mean(h), generator)

    def _draw(self, mean, generator=None):
        if self.visible == "bernoulli":
            return (torch.rand(mean.shape, generator=generator, device=mean.device) < mean).to(mean.dtype)
        return mean + torch.randn(mean.shape, generator=generator, device=mean.device)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        hidden = F.softplus(v @ self.W + self.c).sum(dim=1)
        if self.visible == "bernoulli":
            return -(v @ self.b) - hidden
        return 0.5 * ((v - self.b) ** 2).sum(dim=1) - hidden

    def gibbs(self, v, steps: int, generator=None):
        """`steps` rounds of v -> h -> v; returns the last visible sample and its mean."""
        mean = v
        for _ in range(steps):
            h = self.sample_hidden(v, generator)
            mean = self.visible_mean(h)
            v = self._draw(mean, generator)
        return v, mean

    def reconstruct(self, v):
        return self.visible_mean(self.hidden_probs(v))

    # -- exact quantities for small Bernoulli RBMs (tests, diagnostics) ---------------------
    def log_partition(self) -> float:
        """log Z by enumerating the hidden states (Bernoulli visible, at most 20 hidden units)."""
        if self.visible != "bernoulli" or self.n_hidden > 20:
            raise ValueError("exact log Z needs a Bernoulli RBM with at most 20 hidden units")
        with torch.no_grad():
            states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=self.n_hidden)), dtype=self.W.dtype, device=self.W.device)
            # sum over v factorises: log sum_v exp(-E) = c.h + sum_i softplus(b_i + (W h)_i)
            terms = states @ self.c + F.softplus(states @ self.W.T + self.b).sum(dim=1)
            return float(torch.logsumexp(terms, dim=0))

    def log_likelihood(self, v: torch.Tensor) -> torch.Tensor:
        """Exact mean log p(v) for small Bernoulli RBMs."""
        with torch.no_grad():
            return (-self.free_energy(v)).mean() - self.log_partition()

    def pseudo_log_likelihood(self, v: torch.Tensor, generator=None) -> torch.Tensor:
        """Mean pseudo-log-likelihood of binary rows, estimated by flipping one random unit per
        row: n_visible * log sigmoid(F(v flipped) - F(v)) (as in scikit-learn's BernoulliRBM)."""
        with torch.no_grad():
            idx = torch.randint(self.n_visible, (v.shape[0],), generator=generator).to(v.device)
            flipped = v.clone()
            rows = torch.arange(v.shape[0], device=v.device)
            flipped[rows, idx] = 1 - flipped[rows, idx]
            return (self.n_visible * F.logsigmoid(self.free_energy(flipped) - self.free_energy(v))).mean()


def init_visible_bias(rbm: RBM, data: torch.Tensor) -> None:
    """Bernoulli: log(p / (1 - p)) of the data means (Hinton's guide, section 8.1); Gaussian:
    the data means."""
    with torch.no_grad():
        mean = data.mean(dim=0)
        if rbm.visible == "bernoulli":
            p = mean.clamp(1e-3, 1 - 1e-3)
            rbm.b.copy_(torch.log(p / (1 - p)))
        else:
            rbm.b.copy_(mean)


def train_rbm(
    rbm: RBM,
    data: torch.Tensor,
    *,
    max_epochs: int,
    learning_rate: float,
    batch_size: int,
    cd_k: int = 1,
    persistent: bool = False,
    weight_decay: float = 1e-4,
    generator_cpu=None,
    generator=None,
    patience: int | None = None,
):
    """Train one RBM by CD-k or persistent CD; one epoch returns the mean squared reconstruction
    error per unit (what is reported to the pruner, negated)."""
    opt = torch.optim.Adam(
        [{"params": [rbm.W], "weight_decay": weight_decay}, {"params": [rbm.b, rbm.c], "weight_decay": 0.0}],
        lr=learning_rate,
    )
    n = data.shape[0]
    bs = int(min(batch_size, n))
    chain = None
    if persistent:
        start = torch.randperm(n, generator=generator_cpu)[:bs].to(data.device)
        chain = data[start].clone()

    def run_epoch(epoch):
        nonlocal chain
        total, count = 0.0, 0
        for idx in iterate_minibatches(n, bs, generator=generator_cpu):
            v0 = data[idx.to(data.device)]
            with torch.no_grad():
                if persistent:
                    chain, neg = rbm.gibbs(chain, cd_k, generator)
                    # The persistent chains keep their sampled states; the update uses the
                    # mean of the last visible step.
                else:
                    _, neg = rbm.gibbs(v0, cd_k, generator)
            loss = rbm.free_energy(v0).mean() - rbm.free_energy(neg[: len(v0)]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                err = ((v0 - rbm.reconstruct(v0)) ** 2).mean()
            total += float(err) * len(v0)
            count += len(v0)
        return total / max(count, 1)

    return train_epochs(run_epoch, max_epochs, patience=patience)


def layer_budget(shares: list[float]):
    """Deadlines (time.monotonic instants) that split the time left into consecutive phases;
    None when there is no deadline."""
    left = time_left()
    if not math.isfinite(left):
        return [None] * len(shares)
    now, total, out = time.monotonic(), sum(shares), []
    acc = 0.0
    for share in shares:
        acc += share
        out.append(now + max(left, 0.0) * acc / total)
    return out
