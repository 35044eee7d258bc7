"""Families that fail in the ways real plugins do: raising in fit, NaN outputs, wrong shapes."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from advisor import Family, Interpretability, Uncertainty, hookimpl


class _Faulty(ClassifierMixin, BaseEstimator):
    def __init__(self, mode="raise"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "raise":
            raise RuntimeError("fit exploded")
        self.classes_ = np.unique(np.asarray(y))
        return self

    def predict(self, X):
        if self.mode == "shape":
            return np.asarray(self.classes_[:1].tolist() * 3)
        return np.repeat(self.classes_[0], len(X))

    def predict_proba(self, X):
        out = np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))
        if self.mode == "nan":
            out[0, 0] = np.nan
        return out


def _family(mode):
    class F(Family):
        name = f"faulty_{mode}"
        title = f"Faulty ({mode})"
        tasks = frozenset({"classify"})
        interpretability = Interpretability(0.5, "test family")
        uncertainty = Uncertainty("none", "test family")

        def make_estimator(self, task, profile, **params):
            return _Faulty(mode=mode)

    return F()


@hookimpl
def register_families(register):
    for mode in ("raise", "nan", "shape"):
        register(_family(mode))
