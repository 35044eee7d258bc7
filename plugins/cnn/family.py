"""The convolutional family: metadata, search space and estimator factory.

Convolutions share one small filter across every position, so they learn local patterns with
few weights and find them wherever they occur (LeCun et al., 1998). That only helps where the
columns have an order: images (2-D) and sequences (1-D). An unordered table has no
neighbourhoods to convolve over, so `supports` refuses it.

Search space (both layouts): `channels` 8-64 (log), `n_blocks` 1-3 for images / 1-4 for
sequences, `kernel_size` {3, 5} / {3, 5, 7, 9}, `embed_dim` {32, 64, 128}, `dropout` 0-0.5,
`lr` 1e-3-1e-2 (log), `weight_decay` 1e-6-1e-2 (log), `batch_size` {32, 64, 128};
`augment` (random shifts) for classify and regress; `max_noise` 0.2-0.8 for embed and denoise.
`max_epochs` is the search's (`resource_param`): the defaults' 20-40 for the first trial, then as
many as that trial's time afforded, equal for every later trial. The first trial uses
`default_params`, a small net that trains within seconds on 2 CPU cores.
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior

SPATIAL = frozenset({"image", "sequence"})


class CNNFamily(Family):
    name = "cnn"
    title = "Convolutional neural network"
    tasks = frozenset({"classify", "regress", "embed", "denoise"})
    modalities = SPATIAL
    interpretability = Interpretability(
        0.25,
        "learned filters and saliency maps can be inspected, but a prediction passes through thousands of weights; no attributions exposed",
    )
    uncertainty = Uncertainty(
        "implicit", "softmax class probabilities, not calibrated by construction; no predictive spread for regression"
    )
    cost = "moderate"
    resource_param = "max_epochs"  # the search holds it equal across trials (advisor.families.contract)

    def supports(self, task, profile):
        if task not in self.tasks:
            return Support(False, f"cnn does not do {task}")
        if profile.modality == "tabular":
            return Support(False, "convolutions need spatial order (an image or a sequence); this table's columns have none")
        if profile.modality not in self.modalities:
            return Support(False, f"cnn takes images or sequences, not {profile.modality} data")
        size = min(profile.image_shape[:2]) if profile.modality == "image" else int(profile.sequence_length or 0)
        if size < 3:
            return Support(False, f"the {profile.modality} is only {size} positions wide: too small to convolve over")
        what = "2-D convolutions over the image" if profile.modality == "image" else "1-D convolutions along the sequence"
        return Support(True, f"{what}: local patterns found wherever they occur")

    def prior(self, task, profile):
        # Seeds: CNNs dominate discriminative tasks on spatial data, with low computational overhead.
        spatial = profile.modality in ("image", "sequence")
        return family_prior(self, task, profile, fidelity_hint=0.95 if spatial else 0.5, notes={
            "fidelity": "the seed documents: convolutions exploit spatial structure (weight sharing across positions suits images and shift-invariant signals)" + ("" if spatial else ", which this data lacks"),
            "compute": "fast inference; lower overhead than generative families",
        })

    def default_params(self, task, profile):
        image = profile.modality == "image"
        params = {
            "channels": 32 if image else 16,
            "n_blocks": 2 if image else 3,
            "kernel_size": 3 if image else 7,
            "embed_dim": 32 if task == "embed" else 64,
            "dropout": 0.1,
            "lr": 3e-3,
            "weight_decay": 1e-4,
            "batch_size": 64,
            # An autoencoder's decoder doubles the work per row; 20 epochs embed digits as
            # well as 40 (probe accuracy 0.960 vs 0.965 over three seeds).
            "max_epochs": 20 if task == "embed" else 40,
        }
        if task in ("classify", "regress"):
            params["augment"] = image
        else:
            params["max_noise"] = 0.5
        return params

    def search_space(self, trial, task, profile):
        image = profile.modality == "image"
        params = {
            "channels": trial.suggest_int("channels", 8, 64, log=True),
            "n_blocks": trial.suggest_int("n_blocks", 1, 3 if image else 4),
            "kernel_size": trial.suggest_categorical("kernel_size", [3, 5] if image else [3, 5, 7, 9]),
            "embed_dim": trial.suggest_categorical("embed_dim", [32, 64, 128]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "lr": trial.suggest_float("lr", 1e-3, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        }
        if task in ("classify", "regress"):
            params["augment"] = trial.suggest_categorical("augment", [False, True])
        else:
            params["max_noise"] = trial.suggest_float("max_noise", 0.2, 0.8)
        return params

    def make_estimator(self, task, profile, **params):
        from advisor.sdk import deep_estimator
        from advisor_plugins.cnn import estimators

        return deep_estimator(estimators.BY_TASK, task, profile, **params)
