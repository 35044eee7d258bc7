"""The family: metadata the advisor shows, the search space it tries, the estimator it builds."""

from advisor.sdk import Family, Interpretability, Support, Uncertainty


class KNearestNeighbours(Family):
    name = "knn"
    title = "k-nearest neighbours"
    tasks = frozenset({"classify", "regress"})
    modalities = frozenset({"tabular", "image", "sequence"})
    interpretability = Interpretability(0.6, "each prediction is explained by the k training rows it copies")
    uncertainty = Uncertainty("implicit", "class shares among the neighbours; no predictive std")
    cost = "low"
    # What its saved models contain beyond advisor's own list: `advisor.load` trusts these exact
    # names because they are defined in this package.
    saved_types = ("advisor_knn.estimators._fill_missing",)

    def supports(self, task, profile):
        if profile.n_rows > 200_000:
            return Support(False, "knn predicts by scanning the training rows: too slow beyond 200,000 rows")
        return super().supports(task, profile)

    def default_params(self, task, profile):
        return {"n_neighbors": 10, "weights": "distance"}

    def search_space(self, trial, task, profile):
        return {
            "n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
            "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        }

    def make_estimator(self, task, profile, **params):
        from advisor_knn.estimators import make_knn

        return make_knn(task, **params)
