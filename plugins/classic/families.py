"""The classic families: metadata, search spaces and estimator factories."""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Uncertainty, family_prior

# scikit-learn is imported inside make_estimator: listing families must stay fast.

ALL_MODALITIES = frozenset({"tabular", "image", "sequence"})


class HistGradientBoosting(Family):
    name = "hist_gradient_boosting"
    title = "Histogram gradient boosting"
    tasks = frozenset({"classify", "regress"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.5, "boosted trees: readable splits, but hundreds of them; importances via permutation")
    uncertainty = Uncertainty("implicit", "class probabilities from the boosted scores, not calibrated by construction; no predictive std")
    cost = "low"

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.9 if profile.modality == "tabular" else 0.7, notes={
            "fidelity": "a strong default on tables of mixed types; weaker where structure is spatial",
            "compute": "trees fit in seconds on small data",
        })

    def default_params(self, task, profile):
        params = {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 1e-6}
        if task == "classify":
            params["class_weight"] = None
        return params

    def search_space(self, trial, task, profile):
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 7, 127, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 3, 60, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
        }
        if task == "classify":  # reweighting rare classes changes what the trees learn, not only the threshold
            params["class_weight"] = trial.suggest_categorical("class_weight", [None, "balanced"])
        return params

    def make_estimator(self, task, profile, **params):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        from sklearn.pipeline import make_pipeline

        from advisor_plugins.classic import preprocessing as prep

        model_cls = HistGradientBoostingClassifier if task == "classify" else HistGradientBoostingRegressor
        early = task != "classify" or early_stopping_fits(profile)
        model = model_cls(categorical_features="from_dtype", max_iter=300, early_stopping=early, **params)
        return make_pipeline(prep.CategoryCaster(), model)


def early_stopping_fits(profile) -> bool:
    """Whether boosting's early stopping can hold out its stratified 10 % of the rows a classifier
    fits on: every class needs two rows there and the held-out part a row of every class. A fit
    sees about half of the profiled rows at least (a training split, or the folds of one), so the
    rarest class needs a few rows more than two; otherwise every trial would fail on a rare class."""
    if not profile.n_classes or not profile.class_counts or profile.class_balance is None:
        return True
    smallest = profile.class_balance * max(profile.class_counts.values())
    return smallest >= 5 and 0.1 * 0.5 * profile.n_rows >= profile.n_classes


class Linear(Family):
    name = "linear"
    title = "Linear model (logistic regression / Bayesian ridge)"
    tasks = frozenset({"classify", "regress"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.85, "one coefficient per (encoded) feature: effects can be read off directly")
    uncertainty = Uncertainty("explicit", "Bayesian ridge gives a predictive std; logistic regression gives probabilities")
    cost = "low"
    baseline_for = frozenset({"classify", "regress"})

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.75, notes={
            "fidelity": "a linear boundary: right for simple problems, short of non-linear ones",
            "compute": "the cheapest fit there is",
        })

    def default_params(self, task, profile):
        return {"C": 1.0, "splines": False, "class_weight": None} if task == "classify" else {"splines": False}

    def search_space(self, trial, task, profile):
        params = {"splines": trial.suggest_categorical("splines", [False, True])}
        if task == "classify":
            params["C"] = trial.suggest_float("C", 1e-3, 100.0, log=True)
            params["class_weight"] = trial.suggest_categorical("class_weight", [None, "balanced"])
        return params

    def make_estimator(self, task, profile, **params):
        from sklearn.linear_model import BayesianRidge, LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import SplineTransformer

        from advisor_plugins.classic import preprocessing as prep

        steps = [prep.frame_step(), prep.onehot_numeric(scale=True)]
        if params.get("splines"):
            steps.append(SplineTransformer(n_knots=5, degree=3))
        if task == "classify":
            steps.append(LogisticRegression(C=params.get("C", 1.0), class_weight=params.get("class_weight"), max_iter=2000))
        else:
            steps.append(BayesianRidge())
        return make_pipeline(*steps)


class GaussianMixtureFamily(Family):
    name = "gaussian_mixture"
    title = "Gaussian mixture"
    tasks = frozenset({"generate", "detect"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.6, "a few clusters, each a mean and a covariance that can be inspected")
    uncertainty = Uncertainty("explicit", "a proper density: every row gets a likelihood")
    cost = "low"
    baseline_for = frozenset({"generate"})

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.7, notes={
            "fidelity": "smooth densities; mixed categorical tables strain it",
            "compute": "seconds to fit",
        })

    def default_params(self, task, profile):
        return {"n_components": 8, "covariance_type": "full"}

    def search_space(self, trial, task, profile):
        return {
            "n_components": trial.suggest_int("n_components", 1, 40, log=True),
            "covariance_type": trial.suggest_categorical("covariance_type", ["full", "diag"]),
        }

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.classic.estimators import GaussianMixtureGenerator

        if task == "generate" and profile.target and profile.target_kind in ("binary", "multiclass"):
            params = {"condition_on": profile.target, **params}  # one mixture per class (--target)
        return GaussianMixtureGenerator(**params)


class SmoteInterpolation(Family):
    name = "smote"
    title = "SMOTE-style interpolation"
    tasks = frozenset({"generate"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.7, "each generated row lies between two named real rows")
    uncertainty = Uncertainty("implicit", "spread comes from the real rows it interpolates, not from a fitted distribution")
    cost = "low"

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.5, notes={
            "fidelity": "interpolates between real rows: close to the data, at the price of near-copies",
            "compute": "no training beyond a neighbour index",
        })

    def default_params(self, task, profile):
        return {"k_neighbors": 5, "jitter": 0.1}

    def search_space(self, trial, task, profile):
        return {
            "k_neighbors": trial.suggest_int("k_neighbors", 2, 30, log=True),
            "jitter": trial.suggest_float("jitter", 0.0, 1.0),
        }

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.classic.estimators import InterpolationGenerator

        return InterpolationGenerator(**params)


class IsolationForestFamily(Family):
    name = "isolation_forest"
    title = "Isolation forest"
    tasks = frozenset({"detect"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.4, "anomaly = few random splits isolate it; the path is not a readable reason")
    uncertainty = Uncertainty("none", "a score without a probability or spread")
    cost = "low"
    baseline_for = frozenset({"detect"})

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.75, notes={
            "fidelity": "a robust default for outliers in single columns, blind to broken dependencies",
            "compute": "seconds to fit",
        })

    def default_params(self, task, profile):
        return {"n_estimators": 200, "max_samples": 256, "max_features": 1.0}

    def search_space(self, trial, task, profile):
        return {
            "n_estimators": trial.suggest_int("n_estimators", 50, 400, log=True),
            "max_samples": trial.suggest_int("max_samples", 32, 1024, log=True),
            "max_features": trial.suggest_float("max_features", 0.3, 1.0),
        }

    def make_estimator(self, task, profile, **params):
        from sklearn.ensemble import IsolationForest
        from sklearn.pipeline import make_pipeline

        from advisor_plugins.classic import preprocessing as prep

        params = dict(params)
        params["max_samples"] = min(int(params.get("max_samples", 256)), max(profile.n_rows // 2, 2))
        return make_pipeline(prep.frame_step(), prep.onehot_numeric(scale=False), IsolationForest(**params))


class PCAFamily(Family):
    name = "pca"
    title = "Principal component analysis"
    tasks = frozenset({"embed", "denoise"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.7, "linear components with loadings per feature")
    uncertainty = Uncertainty("none", "a deterministic projection")
    cost = "low"
    baseline_for = frozenset({"embed", "denoise"})

    def _max_components(self, profile):
        return int(max(1, min(profile.n_features * 2, 128, profile.n_rows // 2)))

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.8, notes={
            "fidelity": "linear structure only; a strong baseline for smooth data",
            "compute": "one decomposition",
        })

    def default_params(self, task, profile):
        # Twice the number of components that hold 90 % of the variance: enough to keep the
        # structure (embed) without keeping most of the noise (denoise).
        guess = 2 * (profile.intrinsic_dim or 8)
        return {"n_components": int(min(max(guess, 2), self._max_components(profile)))}

    def search_space(self, trial, task, profile):
        return {"n_components": trial.suggest_int("n_components", 1, self._max_components(profile), log=True)}

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.classic.estimators import PCADenoiser, PCAEmbedder

        return PCAEmbedder(**params) if task == "embed" else PCADenoiser(**params)


class KernelFeatures(Family):
    name = "kernel_features"
    title = "RBF kernel features (Nystroem)"
    tasks = frozenset({"embed"})
    modalities = ALL_MODALITIES
    interpretability = Interpretability(0.2, "features are similarities to landmark rows: local, but many and unnamed")
    uncertainty = Uncertainty("none", "a deterministic feature map")
    cost = "low"

    def prior(self, task, profile):
        return family_prior(self, task, profile, fidelity_hint=0.7, notes={
            "fidelity": "non-linear random features; needs a label or probe to shine",
            "compute": "seconds to fit",
        })

    def default_params(self, task, profile):
        return {"n_components": 256, "gamma_scale": 1.0}

    def search_space(self, trial, task, profile):
        return {
            "n_components": trial.suggest_int("n_components", 32, 512, log=True),
            "gamma_scale": trial.suggest_float("gamma_scale", 0.05, 5.0, log=True),
        }

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.classic.estimators import KernelFeatureEmbedder

        return KernelFeatureEmbedder(**params)


FAMILIES = [
    HistGradientBoosting(),
    Linear(),
    GaussianMixtureFamily(),
    SmoteInterpolation(),
    IsolationForestFamily(),
    PCAFamily(),
    KernelFeatures(),
]
