"""The Bayesian neural network family: metadata, search space and estimator factory.

Search space (Optuna, define-by-run):

- `method`: "vi" (Bayes by Backprop with the local reparameterisation trick; the default),
  "mc_dropout" or "ensemble" (deep ensembles).
- `hidden` 16-256 units (log scale) in `depth` 1-3 dense layers; `lr` 1e-3 to 1e-2 (log);
  `batch_size` 32-256.
- vi: `kl_weight` 0.03-1 (log; 1 is the exact evidence lower bound, smaller values temper the
  posterior) and `prior_scale` 0.3-3 (log; weight prior N(0, prior_scale² / fan_in)).
- mc_dropout: `dropout` 0.05-0.5. ensemble: `n_members` 3-8.
- images and sequences: `channels` 8-32 (log) in the first block of the feature extractor.
- tables: `numeric` "standard" or "quantile" scaling of the numeric columns.

The first trial (`default_params`) is vi with 64 units in two layers, `kl_weight=0.3` on
tables and 0.1 on images and sequences (chosen on the public cases: see
benchmarks/results/bnn.md).
Training length is not searched: every trial trains until its validation score stops
improving (patience 20 epochs) or its deadline comes.
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior

MAX_EPOCHS = 400
PATIENCE = 20


class BayesianNeuralNetwork(Family):
    name = "bnn"
    title = "Bayesian neural network"
    tasks = frozenset({"classify", "regress"})
    modalities = frozenset({"tabular", "image", "sequence"})
    interpretability = Interpretability(
        0.35,
        "a deep net, but every prediction carries its own uncertainty, split into epistemic "
        "(what more data would fix) and aleatoric (noise in the data) parts",
    )
    uncertainty = Uncertainty(
        "explicit",
        "a distribution over the weights: class probabilities averaged over weight draws, and a "
        "predictive std for regression (epistemic spread of the draws + a learned noise level)",
    )
    cost = "high"

    def supports(self, task, profile):
        answer = super().supports(task, profile)
        if not answer.ok:
            return answer
        if profile.n_rows < 20:
            return Support(False, f"bnn needs at least 20 rows to fit and validate, got {profile.n_rows}")
        if profile.modality == "image" and not profile.image_shape:
            return Support(False, "bnn needs the image shape to read pixel columns as images")
        where = {"tabular": "dense layers", "image": "a 2-D convolutional extractor under dense layers", "sequence": "a 1-D convolutional extractor under dense layers"}
        return Support(True, f"bnn does {task} on {profile.modality} data with {where[profile.modality]} and predictive uncertainty")

    def prior(self, task, profile):
        # Seeds: posterior distributions over weights give explicit uncertainty and robustness on
        # small or noisy data, at a higher inference cost (several forward passes per prediction).
        return family_prior(self, task, profile, fidelity_hint=0.85, notes={
            "fidelity": "the seed documents: robust on limited or noisy data; accuracy close to a plain network's",
            "uncertainty": "the seed documents credit Bayesian networks with principled uncertainty estimates",
            "compute": "several stochastic forward passes per prediction (higher inference cost)",
        })

    def default_params(self, task, profile):
        params = {"method": "vi", "hidden": 64, "depth": 2, "lr": 3e-3, "batch_size": 64, "kl_weight": 0.3, "prior_scale": 1.0}
        if profile.modality in ("image", "sequence"):
            # The extractor's 128 features feed a larger dense layer: a lighter KL term lets it
            # learn within a small budget.
            params.update(kl_weight=0.1, channels=16)
        else:
            params["numeric"] = "standard"
        return params

    def search_space(self, trial, task, profile):
        params = {
            "method": trial.suggest_categorical("method", ["vi", "mc_dropout", "ensemble"]),
            "hidden": trial.suggest_int("hidden", 16, 256, log=True),
            "depth": trial.suggest_int("depth", 1, 3),
            "lr": trial.suggest_float("lr", 1e-3, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        }
        if params["method"] == "vi":
            params["kl_weight"] = trial.suggest_float("kl_weight", 0.03, 1.0, log=True)
            params["prior_scale"] = trial.suggest_float("prior_scale", 0.3, 3.0, log=True)
        elif params["method"] == "mc_dropout":
            params["dropout"] = trial.suggest_float("dropout", 0.05, 0.5)
        else:
            params["n_members"] = trial.suggest_int("n_members", 3, 8)
        if profile.modality in ("image", "sequence"):
            params["channels"] = trial.suggest_int("channels", 8, 32, log=True)
        else:
            params["numeric"] = trial.suggest_categorical("numeric", ["standard", "quantile"])
        return params

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.bnn.estimators import BNNClassifier, BNNRegressor

        model = BNNClassifier if task == "classify" else BNNRegressor
        inputs = {}
        if profile.modality == "image":
            inputs["image_shape"] = tuple(profile.image_shape)
        elif profile.modality == "sequence":
            inputs["sequence"] = True
        return model(max_epochs=MAX_EPOCHS, patience=PATIENCE, **inputs, **params)



FAMILIES = [BayesianNeuralNetwork()]
