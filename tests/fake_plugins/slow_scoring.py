"""A family that trains at once and answers its first rows at once, then takes a minute for every
later answer: its scoring on the held-out rows would overrun any small budget."""

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from advisor import Family, Interpretability, Uncertainty, hookimpl


class _SlowToAnswer(ClassifierMixin, BaseEstimator):
    def __init__(self, stall_after=2, stall_seconds=60.0):
        self.stall_after = stall_after
        self.stall_seconds = stall_seconds

    def fit(self, X, y):
        values, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        self.classes_ = values
        self.prior_ = counts / counts.sum()
        self.answers_ = 0
        return self

    def _answer(self):
        self.answers_ += 1
        if self.answers_ > self.stall_after:
            time.sleep(self.stall_seconds)

    def predict(self, X):
        self._answer()
        return np.repeat(self.classes_[np.argmax(self.prior_)], len(X))

    def predict_proba(self, X):
        self._answer()
        return np.tile(self.prior_, (len(X), 1))


class SlowScoring(Family):
    name = "slow_scoring"
    title = "Majority vote that answers slowly after validation"
    tasks = frozenset({"classify"})
    interpretability = Interpretability(1.0, "predicts the most frequent class")
    uncertainty = Uncertainty("none", "test family")
    cost = "low"

    def make_estimator(self, task, profile, **params):
        return _SlowToAnswer(**params)


@hookimpl
def register_families(register):
    register(SlowScoring())
