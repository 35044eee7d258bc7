"""The deep belief network family: metadata, search space and estimator factory.

A deep belief network stacks restricted Boltzmann machines trained greedily, one layer at a
time, and can then be fine-tuned by backpropagation. It is good at unsupervised feature
learning and dimensionality reduction; its samples are less sharp than those of diffusion
models. See `advisor_plugins.dbn.rbm` for the RBMs and `advisor_plugins.dbn.estimators` for
the tasks.

Search space (Optuna, define-by-run):

    n_layers         1 .. 3 (detect: 1)
    n_hidden         32 .. 512 (log)         units of the first layer; each layer above has half
    cd_k             1 .. 5                  Gibbs steps per update
    persistent       False | True            persistent CD instead of CD-k
    pretrain_epochs  5 .. 100; from 0 for classify / regress (0 = no pretraining)
    pretrain_lr      1e-3 .. 3e-2 (log)
    batch_size       32 | 64 | 128
    classify / regress: finetune_lr 3e-4 .. 1e-2 (log), dropout 0 .. 0.5
    generate:        gibbs_steps 20 .. 1000 (log)

Sizes scale down for small data: the first layer has at most about as many units as rows.
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior

ROW_TASKS = ("generate", "detect", "denoise")


class DeepBeliefNetwork(Family):
    name = "dbn"
    title = "Deep belief network (stacked RBMs)"
    tasks = frozenset({"classify", "regress", "embed", "generate", "detect", "denoise"})
    modalities = frozenset({"tabular", "image", "sequence"})
    interpretability = Interpretability(
        0.45, "each hidden unit has one weight per input that can be shown as a filter (strokes on images); deeper layers and fine-tuning blur that"
    )
    uncertainty = Uncertainty(
        "implicit", "softmax probabilities and free energies rank how sure or typical; regression gets one held-out error bar, not a per-row interval"
    )
    cost = "moderate"

    def supports(self, task, profile):
        if profile.modality == "sequence" and task in ROW_TASKS:
            return Support(False, f"dbn does {task} on tables and images; on a sequence its fully connected RBMs ignore the order, use cnn")
        return super().supports(task, profile)

    @staticmethod
    def _cap(profile, units: int) -> int:
        return int(max(8, min(units, 2 * max(profile.n_rows, 4))))

    def _sizes(self, profile, n_hidden: int, n_layers: int) -> tuple:
        first = self._cap(profile, n_hidden)
        return tuple(max(8, first // (2**i)) for i in range(n_layers))

    def prior(self, task, profile):
        # Seeds: hierarchical unsupervised features from stacked RBMs; moderate cost; samples less
        # sharp than a diffusion model's.
        hint = {"embed": 0.85, "generate": 0.6, "denoise": 0.7, "detect": 0.7}.get(task, 0.75)
        return family_prior(self, task, profile, fidelity_hint=hint, notes={
            "fidelity": "the seed documents: good unsupervised features, less sharp samples than diffusion",
            "compute": "moderate: layer-wise pretraining, then fine-tuning",
        })

    def default_params(self, task, profile):
        params = {"n_layers": 1, "n_hidden": 256, "cd_k": 1, "persistent": False, "pretrain_epochs": 60, "pretrain_lr": 1e-2, "batch_size": 64}
        if task in ("classify", "regress"):
            params.update(n_layers=2, n_hidden=128, pretrain_epochs=30, finetune_lr=3e-3, dropout=0.1)
        elif task == "generate":
            params.update(persistent=True, gibbs_steps=200)
        elif task == "detect":
            del params["n_layers"]  # the score is the first RBM's free energy: one layer
            params["n_hidden"] = 64
        return params

    def search_space(self, trial, task, profile):
        finetuned = task in ("classify", "regress")
        params = {}
        if task != "detect":
            params["n_layers"] = trial.suggest_int("n_layers", 1, 3)
        params.update(
            n_hidden=trial.suggest_int("n_hidden", 32, 512, log=True),
            cd_k=trial.suggest_int("cd_k", 1, 5),
            persistent=trial.suggest_categorical("persistent", [False, True]),
            pretrain_epochs=trial.suggest_int("pretrain_epochs", 0 if finetuned else 5, 100),
            pretrain_lr=trial.suggest_float("pretrain_lr", 1e-3, 3e-2, log=True),
            batch_size=trial.suggest_categorical("batch_size", [32, 64, 128]),
        )
        if finetuned:
            params["finetune_lr"] = trial.suggest_float("finetune_lr", 3e-4, 1e-2, log=True)
            params["dropout"] = trial.suggest_float("dropout", 0.0, 0.5)
        if task == "generate":
            params["gibbs_steps"] = trial.suggest_int("gibbs_steps", 20, 1000, log=True)
        return params

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.dbn import estimators

        params = dict(params)
        n_layers = int(params.pop("n_layers", 1))
        n_hidden = int(params.pop("n_hidden", 256))
        cls = {
            "classify": estimators.DBNClassifier,
            "regress": estimators.DBNRegressor,
            "embed": estimators.DBNEmbedder,
            "generate": estimators.DBNGenerator,
            "detect": estimators.DBNDetector,
            "denoise": estimators.DBNDenoiser,
        }[task]
        image_shape = tuple(profile.image_shape) if profile.modality == "image" and profile.image_shape else None
        if task in ("classify", "regress"):
            params.setdefault("finetune_epochs", 300)
            params.setdefault("patience", 30)
        return cls(image_shape=image_shape, hidden_layer_sizes=self._sizes(profile, n_hidden, n_layers), **params)
