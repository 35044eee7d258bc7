"""The residual family: metadata, search space and estimator factory.

Skip connections let each block learn a correction to its input, so gradients reach the first
layers and deeper nets train stably (He et al., 2016). On tables the family is the residual MLP
that Gorishniy et al. (2021) found a strong, simple deep baseline; on images and sequences it is
a small residual CNN.

Search space, tables (after Gorishniy et al.'s, scaled down for small CPUs): `width` 32-256
(log), `n_blocks` 1-4, `hidden_factor` 1-4, `dropout` 0-0.5, `residual_dropout` 0-0.3,
`scaling` quantile / standard. Images and sequences: `width` 8-64 (log), `n_blocks` 1-4,
`kernel_size` {3, 5} / {3, 5, 7, 9}, `dropout` 0-0.5, `augment` for classify and regress.
Both: `lr` 3e-4-1e-2 (log), `weight_decay` 1e-6-1e-2 (log), `batch_size` {32, 64, 128, 256};
`embed_dim` and `max_noise` 0.2-0.8 for embed and denoise. `max_epochs` is the search's
(`resource_param`): equal for every trial after the first.
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior


class ResNetFamily(Family):
    name = "resnet"
    title = "Residual network (residual MLP / residual CNN)"
    tasks = frozenset({"classify", "regress", "embed", "denoise"})
    modalities = frozenset({"tabular", "image", "sequence"})
    interpretability = Interpretability(
        0.2, "a deep stack of learned blocks: no readable rules or per-feature effects, and no attributions exposed"
    )
    uncertainty = Uncertainty(
        "implicit", "softmax class probabilities, not calibrated by construction; no predictive spread for regression"
    )
    cost = "moderate"
    resource_param = "max_epochs"  # the search holds it equal across trials (advisor.families.contract)

    def supports(self, task, profile):
        base = super().supports(task, profile)
        if not base.ok:
            return base
        if profile.modality == "tabular":
            return Support(True, "residual MLP over the encoded columns (numerics scaled, categories one-hot)")
        what = "2-D" if profile.modality == "image" else "1-D"
        return Support(True, f"residual {what} CNN: skip connections keep a deeper convolutional net trainable")

    def prior(self, task, profile):
        # Seeds: residual connections make deep networks train stably; preferred for recognition.
        hint = 0.85 if profile.modality in ("image", "sequence") else 0.75
        return family_prior(self, task, profile, fidelity_hint=hint, notes={
            "fidelity": "the seed documents: deep and stable training through residual connections",
            "compute": "moderate: deeper than a plain CNN",
        })

    def default_params(self, task, profile):
        if profile.modality == "tabular":
            params = {
                "width": 64,
                "n_blocks": 2,
                "hidden_factor": 2.0,
                "dropout": 0.1,
                "residual_dropout": 0.0,
                "scaling": "quantile",
            }
        else:
            image = profile.modality == "image"
            params = {"width": 32 if image else 16, "n_blocks": 3, "kernel_size": 3 if image else 7, "dropout": 0.1}
        params.update({"lr": 3e-3, "weight_decay": 1e-4, "batch_size": 64, "max_epochs": 60})
        if task in ("embed", "denoise"):
            params.update({"embed_dim": 32 if profile.modality == "tabular" else 64, "max_noise": 0.5})
        elif profile.modality != "tabular":
            params["augment"] = profile.modality == "image"
        return params

    def search_space(self, trial, task, profile):
        if profile.modality == "tabular":
            params = {
                "width": trial.suggest_int("width", 32, 256, log=True),
                "n_blocks": trial.suggest_int("n_blocks", 1, 4),
                "hidden_factor": trial.suggest_float("hidden_factor", 1.0, 4.0),
                "dropout": trial.suggest_float("dropout", 0.0, 0.5),
                "residual_dropout": trial.suggest_float("residual_dropout", 0.0, 0.3),
                "scaling": trial.suggest_categorical("scaling", ["quantile", "standard"]),
            }
        else:
            image = profile.modality == "image"
            params = {
                "width": trial.suggest_int("width", 8, 64, log=True),
                "n_blocks": trial.suggest_int("n_blocks", 1, 4),
                "kernel_size": trial.suggest_categorical("kernel_size", [3, 5] if image else [3, 5, 7, 9]),
                "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            }
        params.update(
            {
                "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
                "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
                "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
            }
        )
        if task in ("embed", "denoise"):
            params["embed_dim"] = trial.suggest_categorical("embed_dim", [8, 16, 32, 64, 128])
            params["max_noise"] = trial.suggest_float("max_noise", 0.2, 0.8)
        elif profile.modality != "tabular":
            params["augment"] = trial.suggest_categorical("augment", [False, True])
        return params

    def make_estimator(self, task, profile, **params):
        from advisor.sdk import deep_estimator
        from advisor_plugins.resnet import estimators

        return deep_estimator(estimators.BY_TASK, task, profile, **params)
