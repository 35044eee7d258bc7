"""A family whose every trial takes about a second (it honours deadlines): searches with it
are still running when a test interrupts them."""

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from advisor import Family, Interpretability, Uncertainty, budget, hookimpl


class _Slow(ClassifierMixin, BaseEstimator):
    def __init__(self, seconds=1.0):
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(max(0.0, min(self.seconds, budget.time_left())))
        values, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        self.classes_ = values
        self.prior_ = counts / counts.sum()
        return self

    def predict(self, X):
        return np.repeat(self.classes_[np.argmax(self.prior_)], len(X))

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


class Slow(Family):
    name = "slow"
    title = "Slow majority vote"
    tasks = frozenset({"classify"})
    interpretability = Interpretability(1.0, "predicts the most frequent class")
    uncertainty = Uncertainty("none", "test family")

    def search_space(self, trial, task, profile):
        return {"seconds": trial.suggest_float("seconds", 0.8, 1.2)}

    def make_estimator(self, task, profile, **params):
        return _Slow(**params)


@hookimpl
def register_families(register):
    register(Slow())
