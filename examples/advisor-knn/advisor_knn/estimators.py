"""The estimator: scikit-learn's neighbours models behind the encoding every advisor estimator
needs (mixed dtypes and missing values in, numbers out).

The search is brute force: a fitted k-d or ball tree would be saved as scikit-learn internals
that `advisor.load` does not trust, while brute force keeps only the training rows."""

from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from advisor.sdk import TabularEncoder


def _fill_missing(Z):
    Z = Z.copy()
    Z[Z != Z] = 0.0  # encoded columns are centred, so 0 is the mean
    return Z


def make_knn(task, n_neighbors=10, weights="distance"):
    model = KNeighborsClassifier if task == "classify" else KNeighborsRegressor
    return make_pipeline(
        TabularEncoder(numeric="standard"),
        FunctionTransformer(_fill_missing),
        model(n_neighbors=n_neighbors, weights=weights, algorithm="brute"),
    )
