"""The adversarial random forest family: metadata, search space and estimator factory.

ARF (Watson, Blesch, Kapar & Wright, AISTATS 2023) trains a random forest to tell real rows
from synthetic ones drawn inside its own leaves until it cannot; its leaves then hold columns
that are nearly independent, so a mixture of per-leaf univariate distributions is both a
density (FORDE) and a sampler (FORGE). The paper reports fidelity on mixed tables on par with
deep generative models at a fraction of their training time, and mixed types, integers and
missing values need no special network.

Search space (Optuna, define-by-run):

    n_estimators       20 .. 200 (log)   trees of every forest of the game
    min_samples_leaf   5 .. 40 (log)     rows per leaf: smaller leaves follow the data closer,
                                         larger ones fit their distributions on more rows
    delta              0 .. 0.1          how far above chance the forest may stay at the end
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Uncertainty

# family_prior (pandas) and the estimators (scikit-learn, scipy) load when first used: listing
# families stays quick.


class ARFFamily(Family):
    name = "arf"
    title = "Adversarial random forest (FORDE / FORGE)"
    tasks = frozenset({"generate", "detect"})
    modalities = frozenset({"tabular"})
    interpretability = Interpretability(
        0.5, "each leaf is a box of the columns with its own per-column distributions; readable one by one, but a forest holds thousands"
    )
    uncertainty = Uncertainty(
        "explicit", "a normalised density (a mixture over leaves): every row gets a log-likelihood, and samples come from that same density"
    )
    cost = "low"
    # Saved models hold the estimator classes; everything inside them is the encoder, a
    # scikit-learn forest and plain arrays.
    saved_types = (
        "advisor_plugins.arf.estimators.ARFGenerator",
        "advisor_plugins.arf.estimators.ARFDetector",
    )

    def prior(self, task, profile):
        from advisor.sdk import family_prior

        hint = {"generate": 0.8, "detect": 0.7}.get(task, 0.6)
        return family_prior(self, task, profile, fidelity_hint=hint, notes={
            "fidelity": "the ARF paper: mixed tables generated on par with deep generative models; "
            "dependencies are kept only as finely as the leaves cut the data",
            "compute": "a few random forests on twice the rows; seconds on small tables",
        })

    def default_params(self, task, profile):
        return {"n_estimators": 50, "min_samples_leaf": 5, "delta": 0.0}

    def search_space(self, trial, task, profile):
        return {
            "n_estimators": trial.suggest_int("n_estimators", 20, 200, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 40, log=True),
            "delta": trial.suggest_float("delta", 0.0, 0.1),
        }

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.arf.estimators import ARFDetector, ARFGenerator

        return (ARFGenerator if task == "generate" else ARFDetector)(**params)
