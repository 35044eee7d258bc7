"""Diffusion estimators, one per task: `DiffusionGenerator` (generate), `DiffusionDenoiser`
(denoise) and `DiffusionDetector` (detect), each for tables or, given `image_shape`, images.

They share the training loop of `base._DiffusionBase`. Torch is imported here, never when the
plugin loads: the family imports this module inside `make_estimator`.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import ClassConditionedSampler, as_frame, declared_init, derive_seed, fit_classes, torch_generator, with_class_column
from advisor_plugins.diffusion.base import _COMMON_DOC, CHUNK, _DiffusionBase, _fresh_seed
from advisor_plugins.diffusion.nets import MLPDenoiser, NoiseLevelNet
from advisor_plugins.diffusion.spaces import NumericSpace, TableSpace


# The hyperparameters, declared once (advisor.sdk.declared_init builds each __init__ from them).
_NETWORK = {"architecture": "auto", "width": None, "depth": None, "diffusion_steps": 1000, "schedule": "cosine"}
_TRAINING = {"lr": 2e-3, "weight_decay": 0.0, "batch_size": 256, "epochs": 30, "dropout": 0.0, "ema_decay": 0.995}
_STOPPING = {"validation_fraction": 0.1, "patience": None, "random_state": None, "device": "auto"}


class DiffusionGenerator(ClassConditionedSampler, _DiffusionBase):
    """Generate rows (or images) like the training data with a denoising diffusion model.

    Tables follow TabDDPM (Kotelnikov et al., 2023): rank-Gauss numerics with Gaussian
    diffusion, categoricals (and booleans and missing-value flags) with multinomial diffusion,
    one MLP denoiser. Images use a small U-Net or the MLP (`architecture`). `sample` takes
    `sample_steps` strided steps (DDIM, `eta` = 0 deterministic given the starting noise, 1
    ancestral).

    With `condition_on` (a categorical column of a table: the target of `--task generate
    --target COL`), the denoiser is conditioned on that column's value as TabDDPM conditions on
    the label (a learned class embedding added to the noise embedding) and the column is never
    noised: `sample` draws each row's value from the training rows' shares, then the other
    columns given it, so the target keeps its distribution and each class its own rows;
    `sample_for(values)` draws one row given each value.
    """

    __doc__ += _COMMON_DOC
    _mlp_for_small_images = False  # see DiffusionFamily.default_params: the U-Net generates far better

    __init__ = declared_init({"image_shape": None, **_NETWORK, "sample_steps": 25, "eta": 1.0, **_TRAINING, "numeric": "quantile", "max_levels": 100, "condition_on": None, **_STOPPING}, keyword_only=False)

    def fit(self, X, y=None):
        self.class_condition_ = None
        labels = None
        if self._begin_fit(X):
            x = self.space_.encode(X)
            codes = np.zeros((len(x), 0), dtype=np.int64)
            self.n_num_, self.cardinalities_ = int(np.prod(x.shape[1:])), []
            self.clip_ = self.space_.bounds()
        else:
            self._set_size("table")
            frame = as_frame(X)
            self.columns_ = list(frame.columns)
            if self.condition_on is not None and self.condition_on in frame.columns:
                labels, self.class_condition_ = fit_classes(frame[self.condition_on])
                frame = frame.drop(columns=[self.condition_on])
            self.space_ = TableSpace(self.numeric, self.max_levels).fit(frame)
            x, codes = self.space_.encode(frame, np.random.default_rng(derive_seed(self.seed_, "encode")))
            self.n_num_, self.cardinalities_ = x.shape[1], [int(k) for k in self.space_.cardinalities]
            self.clip_ = (self.space_.low.astype(np.float32), self.space_.high.astype(np.float32))
        self._end_fit(X, x, codes, labels=labels)
        return self

    def _sample_seed(self, random_state) -> int:
        seed = random_state if random_state is not None else self.random_state
        return int(seed) if seed is not None else _fresh_seed()

    def _rows(self, n: int, seed: int, classes: np.ndarray | None):
        """`n` rows (for a conditioned model, row i of class index `classes[i]`)."""
        device = self._device()
        diff = self._diffusion(device)
        g = torch_generator(derive_seed(seed, "sample"), device)
        clip = tuple(torch.as_tensor(c, dtype=torch.float32, device=device) for c in self.clip_)
        levels = diff.sampling_levels(self.sample_steps)
        xs, cs = [], []
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            if self.kind_ == "image":
                h, w, c = self.space_.shape
                x = torch.randn((m, c, h, w), generator=g, device=device)
            else:
                x = torch.randn((m, self.n_num_), generator=g, device=device)
            codes = diff.prior_codes(m, g) if self.kind_ == "table" else None
            labels = None if classes is None else torch.as_tensor(classes[start : start + m], device=device)
            x, codes = diff.reverse(self.net_, x, codes, levels, g, eta=float(self.eta), clip=clip, labels=labels)
            xs.append(x.cpu().numpy())
            cs.append(codes.cpu().numpy() if codes is not None else None)
        x = np.concatenate(xs) if xs else np.zeros((0,) + ((self.space_.shape[2], *self.space_.shape[:2]) if self.kind_ == "image" else (self.n_num_,)), np.float32)
        if self.kind_ == "image":
            return self.space_.decode(x, snap=True)
        codes = np.concatenate(cs) if cs else np.zeros((0, len(self.cardinalities_)), dtype=np.int64)
        frame = self.space_.decode(x, codes, random_state=derive_seed(seed, "decode"))
        return frame if classes is None else with_class_column(frame, self.class_condition_, classes, self.columns_)


class DiffusionDenoiser(_DiffusionBase):
    """Denoise with a diffusion model trained on clean data.

    `transform(X_noisy)` takes the noise level (`noise_std`: a share of the pixel range for
    images, column standard deviations for tables; None estimates it from the input with a
    small noise-level net trained alongside), maps it to the step of the schedule with that
    level, and runs `denoise_steps` strided reverse steps from there to step 0 (1 step returns
    the model's estimate of the clean data, the posterior mean; more steps give sharper,
    sample-like outputs). For images, half the training inputs have their noise clipped to the
    pixel range, as saturating sensors (and the advisor's evaluation) do.
    """

    __doc__ += _COMMON_DOC
    _torch_modules = ("net_", "sigma_net_")

    __init__ = declared_init({"image_shape": None, "noise_std": None, "denoise_steps": 1, **_NETWORK, **_TRAINING, **_STOPPING}, keyword_only=False)

    def fit(self, X, y=None):
        if self._begin_fit(X):
            # Noise saturates at the image's value range; the estimate of x_0 is held to the
            # range each pixel showed in training.
            clip, share = (np.float32(-1.0), np.float32(1.0)), 0.5
            self.clip_ = self.space_.bounds()
        else:
            self._set_size("numeric")
            self.space_ = NumericSpace().fit(X)
            clip, share = None, 0.0
            self.clip_ = None
        x = self.space_.encode(X)
        self.n_num_ = int(np.prod(x.shape[1:])) if self.kind_ != "image" else 0
        self.cardinalities_ = []
        self._end_fit(X, x, np.zeros((len(x), 0), dtype=np.int64), clip=clip, clip_share=share, sigma_net=True)
        return self

    def _build_module(self, attr):
        if attr == "net_" and self.kind_ == "numeric":
            return MLPDenoiser(self.n_num_, self.n_num_, width=self.width_, depth=self.depth_, dropout=self.dropout)
        if attr == "sigma_net_" and self.kind_ == "numeric":
            return NoiseLevelNet(self.n_num_)
        return super()._build_module(attr)

    def _layout(self):
        return None

    def estimate_noise_std(self, X) -> float:
        """The noise level of `X` (in `noise_std` units): median of the per-row estimates."""
        check_is_fitted(self, "net_")
        x = torch.as_tensor(self.space_.encode(X), device=self._device())
        with torch.no_grad():
            log_s = torch.cat([self.sigma_net_(x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)])
        return float(torch.exp(log_s.median())) / self.space_.unit

    def transform(self, X):
        """Denoised `X`, in the form it came in (DataFrame, (n, p) or (n, H, W[, C]) array)."""
        check_is_fitted(self, "net_")
        device = self._device()
        x = torch.as_tensor(self.space_.encode(X), device=device)
        std = self.noise_std if self.noise_std is not None else (self.estimate_noise_std(X) if len(x) else 0.0)
        sigma = float(std) * self.space_.unit
        out = x
        if sigma > 1e-6 and len(x):
            diff = self._diffusion(device)
            start = diff.t_of_sigma(sigma)
            levels = diff.ab_at(np.linspace(start, 0.0, int(self.denoise_steps) + 1))
            clip = None if self.clip_ is None else tuple(torch.as_tensor(c, device=device) for c in self.clip_)
            g = torch_generator(derive_seed(self.seed_, "denoise"), device)
            parts = []
            for i in range(0, len(x), CHUNK):
                xt = x[i : i + CHUNK] * float(np.sqrt(levels[0]))
                parts.append(diff.reverse(self.net_, xt, None, levels, g, eta=0.0, clip=clip)[0])
            out = torch.cat(parts)
        return self.space_.decode(out.cpu().numpy(), like=X)


class DiffusionDetector(_DiffusionBase):
    """Anomaly scores from a diffusion model: a row the model cannot denoise well is unusual.

    `score_samples` corrupts each row at the noise levels `noise_levels` (model units: column
    standard deviations for tables, half the pixel range for images; `n_draws` draws each,
    with fixed seeds) and returns minus the mean denoising error: the squared error of the
    predicted noise for numbers plus the cross-entropy of the clean category for categoricals.
    Higher means more normal. `predict` flags the `contamination` share of the training rows
    with the lowest scores as the boundary (-1 below it, 1 above).
    """

    __doc__ += _COMMON_DOC

    __init__ = declared_init({"image_shape": None, "noise_levels": (0.1, 0.3, 1.0), "n_draws": 2, "contamination": 0.05, **_NETWORK, **_TRAINING, "numeric": "standard", "max_levels": 100, **_STOPPING}, keyword_only=False)

    def _encode(self, X):
        if self.kind_ == "image":
            x = self.space_.encode(X)
            return x, np.zeros((len(x), 0), dtype=np.int64)
        return self.space_.encode(as_frame(X))

    def fit(self, X, y=None):
        if self._begin_fit(X):
            x, codes = self._encode(X)
            self.n_num_, self.cardinalities_ = 0, []
        else:
            self._set_size("table")
            self.space_ = TableSpace(self.numeric, self.max_levels).fit(as_frame(X))
            x, codes = self._encode(X)
            self.n_num_, self.cardinalities_ = x.shape[1], [int(k) for k in self.space_.cardinalities]
        self._end_fit(X, x, codes)
        rows = np.random.default_rng(derive_seed(self.seed_, "offset")).permutation(len(x))[:2000]
        train_scores = self._scores(x[rows], codes[rows])
        self.offset_ = float(np.quantile(train_scores, float(self.contamination)))
        return self

    def _scores(self, x: np.ndarray, codes: np.ndarray) -> np.ndarray:
        device = self._device()
        diff = self._diffusion(device)
        g = torch_generator(derive_seed(self.seed_, "score"), device)
        out = []
        with torch.no_grad():
            for i in range(0, len(x), CHUNK):
                xb = torch.as_tensor(x[i : i + CHUNK], device=device)
                cb = torch.as_tensor(codes[i : i + CHUNK], device=device)
                loss = diff.fixed_level_loss(self.net_, xb, cb, self.noise_levels, g, draws=int(self.n_draws))
                out.append(loss.cpu().numpy().astype(float))
        return -np.concatenate(out) if out else np.zeros(0)

    def score_samples(self, X) -> np.ndarray:
        check_is_fitted(self, "net_")
        return self._scores(*self._encode(X))

    def decision_function(self, X) -> np.ndarray:
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) >= 0, 1, -1)
