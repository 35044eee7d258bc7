"""The diffusion processes: noise schedules, training losses and a strided sampler.

Numeric values (and image pixels) follow Gaussian diffusion (Ho et al., 2020):
`x_t = sqrt(ab_t)·x_0 + sqrt(1 - ab_t)·eps`, and the network predicts `eps`. Categorical values
follow multinomial diffusion (Hoogeboom et al., 2021), as in TabDDPM (Kotelnikov et al., 2023):
`q(x_t | x_0) = Cat(ab_t·onehot(x_0) + (1 - ab_t)/K)`; the network predicts the clean category
and is trained on the KL divergence between the true and the predicted posteriors
`q(x_{t-1} | x_t, x_0)`. Both parts share the schedule `ab_t` ("alpha bar").

The sampler takes strided steps (DDIM, Song et al., 2021): it walks down any decreasing
sequence of noise levels, so 50 steps stand in for the 1,000 of training. For categories the
same closed-form posterior holds between any two levels (`q(x_t | x_s)` is again a uniform mix
with weight `ab_t / ab_s`), so they stride with the numbers. The network is conditioned on the
noise level itself (`log sigma`, with `sigma² = (1 - ab)/ab`), which is what lets `denoise`
start the reverse process at the level of the noise it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SCHEDULES = ("cosine", "linear")


def alpha_bars(schedule: str, steps: int) -> np.ndarray:
    """`ab_t` for t = 0..steps (ab_0 = 1).

    linear: betas from 1e-4 to 0.02, scaled by 1000/steps (Ho et al., 2020);
    cosine: Nichol & Dhariwal (2021), offset 0.008, betas capped at 0.999.
    """
    steps = int(steps)
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    if schedule == "linear":
        scale = 1000.0 / steps
        betas = np.linspace(scale * 1e-4, min(scale * 0.02, 0.999), steps)
    elif schedule == "cosine":
        t = np.arange(steps + 1) / steps
        f = np.cos((t + 0.008) / 1.008 * np.pi / 2) ** 2
        betas = np.clip(1 - f[1:] / f[:-1], 0.0, 0.999)
    else:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    return np.concatenate([[1.0], np.cumprod(1.0 - betas)])


def log_sigma(ab: torch.Tensor) -> torch.Tensor:
    """log of the noise-to-signal ratio sigma = sqrt((1 - ab)/ab)."""
    ab = ab.clamp(1e-12, 1 - 1e-12)
    return 0.5 * (torch.log1p(-ab) - torch.log(ab))


@dataclass
class Layout:
    """Where things sit in a table's model input: `n_num` Gaussian columns, then one one-hot
    block per categorical (sizes `cardinalities`)."""

    n_num: int
    cardinalities: tuple[int, ...] = ()

    @property
    def n_onehot(self) -> int:
        return int(sum(self.cardinalities))

    def offsets(self):
        start = 0
        for k in self.cardinalities:
            yield start, int(k)
            start += int(k)


def _gumbel_argmax(logp: torch.Tensor, generator) -> torch.Tensor:
    u = torch.rand(logp.shape, generator=generator, device=logp.device).clamp_(1e-12, 1 - 1e-7)
    return torch.argmax(logp - torch.log(-torch.log(u)), dim=1)


def _mix(logp: torch.Tensor, ab: torch.Tensor, k: int) -> torch.Tensor:
    """log(ab·p + (1 - ab)/K), from log p, for a column of ab values."""
    ab = ab[:, None]
    return torch.logaddexp(logp + torch.log(ab.clamp_min(1e-30)), torch.log((1 - ab).clamp_min(0) / k))


def posterior(log_xt: torch.Tensor, log_x0: torch.Tensor, ab_t: torch.Tensor, ab_s: torch.Tensor, k: int) -> torch.Tensor:
    """log q(x_s | x_t, x_0) for s < t, with x_0 given as (log) probabilities."""
    left = _mix(log_xt, ab_t / ab_s, k)
    right = _mix(log_x0, ab_s, k)
    return torch.log_softmax(left + right, dim=1)


def _log_onehot(codes: torch.Tensor, k: int) -> torch.Tensor:
    return torch.log(torch.nn.functional.one_hot(codes, k).float().clamp_min(1e-30))


class Diffusion:
    """One Gaussian (+ multinomial) diffusion over a fixed schedule, on a given device."""

    def __init__(self, schedule: str, steps: int, layout: Layout | None, device: str = "cpu"):
        self.steps = int(steps)
        self.ab_np = alpha_bars(schedule, steps)
        self.ab = torch.as_tensor(self.ab_np, dtype=torch.float32, device=device)
        self.layout = layout
        self.device = device
        self.log_sig_np = 0.5 * (np.log1p(-np.minimum(self.ab_np[1:], 1 - 1e-12)) - np.log(self.ab_np[1:]))

    # -- network calls ----------------------------------------------------------------------
    def _onehot(self, codes: torch.Tensor) -> torch.Tensor:
        parts = [torch.nn.functional.one_hot(codes[:, j], k).float() for j, (_, k) in enumerate(self.layout.offsets())]
        return torch.cat(parts, dim=1) if parts else codes.new_zeros((len(codes), 0), dtype=torch.float32)

    def predict(self, net, x: torch.Tensor, codes: torch.Tensor | None, ab: torch.Tensor, labels: torch.Tensor | None = None):
        """(eps_hat, logits or None) for noisy numbers `x` and noisy categories `codes` (and,
        for a class-conditioned net, each row's class `labels`, never noised)."""
        ls = log_sigma(ab)
        extra = () if labels is None else (labels,)
        if self.layout is None or not self.layout.cardinalities:
            return net(x, ls, *extra), None
        out = net(torch.cat([x, self._onehot(codes)], dim=1), ls, *extra)
        return out[:, : self.layout.n_num], out[:, self.layout.n_num :]

    # -- forward process --------------------------------------------------------------------
    def _noisy_numbers(self, x0, ab, generator, clip=None, clip_share=0.0):
        eps = torch.randn(x0.shape, generator=generator, device=x0.device)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        a = ab.view(shape)
        if clip is not None and clip_share > 0:
            # Saturated sensors: noise clipped to the value range. The target is the noise
            # actually left in the input, which keeps x_0 = (x_t - sqrt(1-ab)·eps)/sqrt(ab) exact.
            sigma = torch.sqrt((1 - a) / a)
            clipped = torch.clamp(x0 + sigma * eps, clip[0], clip[1])
            use = (torch.rand(ab.shape, generator=generator, device=x0.device) < clip_share).view(shape)
            eps = torch.where(use, (clipped - x0) / sigma, eps)
        return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * eps, eps

    def _noisy_codes(self, codes, ab, generator):
        out = []
        for j, (_, k) in enumerate(self.layout.offsets()):
            out.append(_gumbel_argmax(_mix(_log_onehot(codes[:, j], k), ab, k), generator))
        return torch.stack(out, dim=1) if out else codes

    # -- losses -----------------------------------------------------------------------------
    def training_loss(self, net, x0, codes, generator, clip=None, clip_share=0.0, labels=None) -> torch.Tensor:
        """Mean loss over a batch at uniformly drawn steps: eps MSE plus, per categorical, the KL
        between true and predicted posteriors (cross-entropy of x_0 at t = 1), as in TabDDPM."""
        n = len(x0)
        t = torch.randint(1, self.steps + 1, (n,), generator=generator, device=x0.device)
        ab_t, ab_prev = self.ab[t], self.ab[t - 1]
        xt, eps = self._noisy_numbers(x0, ab_t, generator, clip, clip_share)
        has_cats = self.layout is not None and bool(self.layout.cardinalities)
        ct = self._noisy_codes(codes, ab_t, generator) if has_cats else None
        eps_hat, logits = self.predict(net, xt, ct, ab_t, labels)
        loss = ((eps_hat - eps) ** 2).flatten(1).mean(dim=1) if eps.shape[1:].numel() else x0.new_zeros(n)
        if has_cats:
            cat_loss = x0.new_zeros(n)
            for j, (start, k) in enumerate(self.layout.offsets()):
                log_x0_hat = torch.log_softmax(logits[:, start : start + k], dim=1)
                log_xt = _log_onehot(ct[:, j], k)
                true_post = posterior(log_xt, _log_onehot(codes[:, j], k), ab_t, ab_prev, k)
                pred_post = posterior(log_xt, log_x0_hat, ab_t, ab_prev, k)
                kl = (true_post.exp() * (true_post - pred_post)).sum(dim=1)
                nll = -log_x0_hat.gather(1, codes[:, j : j + 1])[:, 0]
                cat_loss = cat_loss + torch.where(t == 1, nll, kl)
            loss = loss + cat_loss / len(self.layout.cardinalities)
        return loss.mean()

    def fixed_level_loss(self, net, x0, codes, sigmas, generator, draws: int = 1, labels=None) -> torch.Tensor:
        """Per-row loss at given noise levels (not steps), so that it compares across schedules:
        eps MSE plus the cross-entropy of the clean categories, averaged over levels and draws."""
        n = len(x0)
        total = x0.new_zeros(n)
        has_cats = self.layout is not None and bool(self.layout.cardinalities)
        count = 0
        for sigma in sigmas:
            ab = torch.full((n,), 1.0 / (1.0 + float(sigma) ** 2), device=x0.device)
            for _ in range(draws):
                xt, eps = self._noisy_numbers(x0, ab, generator)
                ct = self._noisy_codes(codes, ab, generator) if has_cats else None
                eps_hat, logits = self.predict(net, xt, ct, ab, labels)
                if eps.shape[1:].numel():
                    total = total + ((eps_hat - eps) ** 2).flatten(1).mean(dim=1)
                if has_cats:
                    ce = x0.new_zeros(n)
                    for j, (start, k) in enumerate(self.layout.offsets()):
                        ce = ce - torch.log_softmax(logits[:, start : start + k], dim=1).gather(1, codes[:, j : j + 1])[:, 0]
                    total = total + ce / len(self.layout.cardinalities)
                count += 1
        return total / count

    # -- reverse process --------------------------------------------------------------------
    def sampling_levels(self, sample_steps: int) -> np.ndarray:
        """ab at `sample_steps` strided steps from t = T down to t = 0 (last value 1)."""
        ts = np.unique(np.round(np.linspace(0, self.steps, int(max(sample_steps, 1)) + 1)).astype(int))[::-1]
        return self.ab_np[ts]

    def t_of_sigma(self, sigma: float) -> float:
        """The (fractional) step whose noise level is `sigma`: where `denoise` starts."""
        sig1 = float(np.exp(self.log_sig_np[0]))
        if sigma <= sig1:
            return float(sigma / sig1)
        return float(np.interp(np.log(sigma), self.log_sig_np, np.arange(1, self.steps + 1)))

    def ab_at(self, t: np.ndarray) -> np.ndarray:
        """ab at fractional steps: log sigma interpolated between steps, linear in sigma below 1."""
        t = np.asarray(t, dtype=float)
        sig1 = float(np.exp(self.log_sig_np[0]))
        sigma = np.where(t >= 1, np.exp(np.interp(t, np.arange(1, self.steps + 1), self.log_sig_np)), t * sig1)
        return 1.0 / (1.0 + sigma**2)

    @torch.no_grad()
    def reverse(self, net, x, codes, levels, generator, eta: float = 0.0, clip=None, labels=None):
        """Walk the reverse process through the ab values `levels` (increasing to 1).

        Numbers take DDIM steps (eta = 0: deterministic; eta = 1: ancestral), with the predicted
        x_0 clipped to `clip` (low, high tensors) when given; categories are drawn from the
        posterior q(x_s | x_t, x_0 predicted).
        """
        n = len(x)
        has_cats = self.layout is not None and bool(self.layout.cardinalities)
        for i in range(len(levels) - 1):
            ab_t, ab_s = float(levels[i]), float(levels[i + 1])
            if ab_s <= ab_t:
                continue
            abt = torch.full((n,), ab_t, device=x.device)
            eps_hat, logits = self.predict(net, x, codes, abt, labels)
            if x.shape[1:].numel():
                x0 = (x - np.sqrt(1 - ab_t) * eps_hat) / np.sqrt(ab_t)
                if clip is not None:
                    x0 = torch.maximum(torch.minimum(x0, clip[1]), clip[0])
                eps = (x - np.sqrt(ab_t) * x0) / np.sqrt(1 - ab_t)
                if ab_s >= 1.0:
                    x = x0
                else:
                    var = eta**2 * (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
                    x = np.sqrt(ab_s) * x0 + np.sqrt(max(1 - ab_s - var, 0.0)) * eps
                    if var > 0:
                        x = x + np.sqrt(var) * torch.randn(x.shape, generator=generator, device=x.device)
            if has_cats:
                abt_s = torch.full((n,), ab_s, device=x.device)
                new = []
                for j, (start, k) in enumerate(self.layout.offsets()):
                    log_x0 = torch.log_softmax(logits[:, start : start + k], dim=1)
                    post = posterior(_log_onehot(codes[:, j], k), log_x0, abt, abt_s, k)
                    new.append(_gumbel_argmax(post, generator))
                codes = torch.stack(new, dim=1)
        return x, codes

    def prior_codes(self, n: int, generator) -> torch.Tensor:
        """Categories at t = T: uniform over each categorical's levels."""
        cols = [torch.randint(0, k, (n,), generator=generator, device=self.device) for _, k in self.layout.offsets()]
        return torch.stack(cols, dim=1) if cols else torch.zeros((n, 0), dtype=torch.long, device=self.device)
