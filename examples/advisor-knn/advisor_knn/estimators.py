"""The estimator: scikit-learn's neighbours models behind the encoding every advisor estimator
needs (mixed dtypes and missing values in, numbers out)."""

from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from advisor.nn.encoding import TabularEncoder


def _fill_missing(Z):
    Z = Z.copy()
    Z[Z != Z] = 0.0  # encoded columns are centred, so 0 is the mean
    return Z


def make_knn(task, n_neighbors=10, weights="distance"):
    model = KNeighborsClassifier if task == "classify" else KNeighborsRegressor
    return make_pipeline(
        TabularEncoder(numeric="standard"),
        FunctionTransformer(_fill_missing),
        model(n_neighbors=n_neighbors, weights=weights),
    )
