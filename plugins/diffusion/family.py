"""The diffusion family: metadata, search space and estimator factory (no torch imported here).

Tables follow TabDDPM (Kotelnikov et al., 2023): Gaussian diffusion on rank-Gauss numerics,
multinomial diffusion (Hoogeboom et al., 2021) on categoricals, an MLP denoiser. Images use a
small U-Net (Ho et al., 2020), or for images of up to 256 values the same residual MLP on the
pixels, which fits ten times more training steps into a CPU budget. Sampling strides over the
schedule (DDIM, Song et al., 2021). Told a categorical target (`--task generate --target COL`),
the table denoiser is conditioned on it as TabDDPM conditions on the label.
"""

from __future__ import annotations

import math

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior

MIN_ROWS = 20
SMALL_IMAGE = 256  # values per image up to which the default denoiser is the MLP, not the U-Net
NARROW_TABLE = 4  # feature columns up to which the default table denoiser is 128 wide, not 256


class DiffusionFamily(Family):
    name = "diffusion"
    title = "Denoising diffusion model"
    tasks = frozenset({"generate", "denoise", "detect"})
    modalities = frozenset({"tabular", "image"})
    interpretability = Interpretability(
        0.1, "a deep denoiser applied over dozens of steps: no readable parameters and no per-feature attributions"
    )
    uncertainty = Uncertainty(
        "implicit", "sampling gives a distribution of outputs, but no calibrated probabilities or predictive spread"
    )
    cost = "high"
    resource_param = "epochs"  # the search holds it equal across trials (advisor.families.contract)

    def supports(self, task, profile):
        base = super().supports(task, profile)
        if not base.ok:
            return base
        if profile.n_rows < MIN_ROWS:
            return Support(False, f"diffusion needs at least {MIN_ROWS} rows to learn a denoiser, the data have {profile.n_rows}")
        if task == "denoise" and profile.modality == "tabular":
            other = sorted(k for k, v in (profile.kinds or {}).items() if v and k != "numeric")
            if other:
                return Support(False, f"diffusion denoises numeric tables and images; this table also has {', '.join(other)} columns")
        if profile.modality == "image":
            net = "a residual MLP" if self._small_image(profile) else "a U-Net"
            return Support(True, f"diffusion {task} on {'x'.join(map(str, profile.image_shape))} images with {net} denoiser")
        return Support(True, f"diffusion {task} on a table with a TabDDPM-style MLP denoiser")

    # -- hyperparameters ---------------------------------------------------------------------
    def _image(self, profile) -> bool:
        return profile.modality == "image"

    def _narrow(self, profile) -> bool:
        """A table of a few columns: a 128-wide denoiser learns it, and trains twice as fast."""
        return not self._image(profile) and profile.n_features <= NARROW_TABLE

    def _small_image(self, profile) -> bool:
        return self._image(profile) and math.prod(profile.image_shape) <= SMALL_IMAGE

    def prior(self, task, profile):
        # Seeds: high-fidelity, diverse samples; computationally intensive; scales to large data.
        hint = {"generate": 0.95, "denoise": 0.9}.get(task, 0.7)
        return family_prior(self, task, profile, fidelity_hint=hint, notes={
            "fidelity": "the seed documents: high-quality, diverse samples by iterative denoising; diffusion leads published tabular and image generation benchmarks (TabDDPM, Kotelnikov et al. 2023; Ho et al. 2020)",
            "compute": "computationally intensive: many denoising steps to train and to sample",
        })

    def default_params(self, task, profile):
        # Generating 8x8 digits (gen_digits, one core, 45 s of training), the U-Net below scored
        # C2ST 0.47 where this MLP scored 0.06 and the Gaussian mixture 0.28: the MLP's cheaper
        # steps do not make up for a net that knows no neighbouring pixels. Denoising keeps it.
        if self._small_image(profile) and task != "generate":
            params = {"architecture": "mlp", "width": 256, "depth": 3, "lr": 2e-3, "batch_size": 128}
        elif self._image(profile):
            params = {"architecture": "unet", "unet_width": 32, "unet_depth": 1, "lr": 1e-3, "batch_size": 64}
        else:
            params = {"width": 128 if self._narrow(profile) else 256, "depth": 3, "lr": 2e-3, "batch_size": 256}
        params.update({"diffusion_steps": 1000, "schedule": "cosine", "epochs": 2000})
        if task == "generate":
            # Tables: ancestral steps (eta 1), which beat deterministic DDIM on every table we
            # measured; 15 of them with the 256-wide net, 40 with the 128-wide one, so a row costs
            # about the same and 10,000 rows take seconds on a CPU. Images: 25 DDIM steps.
            if self._image(profile):
                params.update({"sample_steps": 25, "eta": 0.0})
            else:
                params.update({"sample_steps": 40 if self._narrow(profile) else 15, "eta": 1.0})
        elif task == "denoise":
            params["denoise_steps"] = 1
        return params

    def search_space(self, trial, task, profile):
        """Denoiser shape (images: a residual MLP on the pixels or a small U-Net), diffusion
        steps and schedule, AdamW learning rate and batch size (the epochs are the search's: equal
        for every trial after the first, and training also stops at the deadline); sampler steps and eta (0: deterministic DDIM, 1: ancestral) for
        generate, reverse steps for denoise. Ranges sized for a few CPU cores."""
        params = {}
        arch = trial.suggest_categorical("architecture", ["mlp", "unet"]) if self._image(profile) else "mlp"
        if arch == "unet":
            params["architecture"] = arch
            params["unet_width"] = trial.suggest_categorical("unet_width", [16, 32, 48])
            params["unet_depth"] = trial.suggest_int("unet_depth", 1, 2)
        else:
            if self._image(profile):
                params["architecture"] = arch
            params["width"] = trial.suggest_categorical("width", [128, 256, 512] if not self._image(profile) else [256, 512, 1024])
            params["depth"] = trial.suggest_int("depth", 2, 5)
        params["batch_size"] = trial.suggest_categorical("batch_size", [64, 128, 256, 512])
        params["diffusion_steps"] = trial.suggest_categorical("diffusion_steps", [100, 250, 500, 1000])
        params["schedule"] = trial.suggest_categorical("schedule", ["cosine", "linear"])
        params["lr"] = trial.suggest_float("lr", 3e-4, 5e-3, log=True)
        if task == "generate":
            params["sample_steps"] = trial.suggest_categorical("sample_steps", [15, 25, 40, 50])
            params["eta"] = trial.suggest_categorical("eta", [0.0, 1.0])
        elif task == "denoise":
            params["denoise_steps"] = trial.suggest_categorical("denoise_steps", [1, 2, 4])
        return params

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.diffusion import estimators

        image_shape = tuple(profile.image_shape) if self._image(profile) and profile.image_shape else None
        cls = {
            "generate": estimators.DiffusionGenerator,
            "denoise": estimators.DiffusionDenoiser,
            "detect": estimators.DiffusionDetector,
        }[task]
        params = dict(params)
        if task == "generate" and image_shape is None and profile.target and profile.target_kind in ("binary", "multiclass"):
            params = {"condition_on": profile.target, **params}  # the denoiser conditioned on the class (--target)
        if "unet_width" in params:
            params["width"] = params.pop("unet_width")
        if "unet_depth" in params:
            params["depth"] = params.pop("unet_depth")
        return cls(image_shape=image_shape, **params)

