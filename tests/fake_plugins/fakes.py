"""What the test families are made of: a majority-vote classifier to specialise, and a family
around any estimator."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from advisor import Family, Interpretability, Uncertainty


class MajorityVote(ClassifierMixin, BaseEstimator):
    """Predicts the most frequent training class, with the class shares as its probabilities.

    A subclass adds the behaviour under test in `_train` (run by `fit` before it learns the
    classes) and `_answer` (run before every answer)."""

    def fit(self, X, y):
        self._train(X, y)
        values, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        self.classes_, self.prior_ = values, counts / counts.sum()
        return self

    def _train(self, X, y):
        pass

    def _answer(self):
        pass

    def predict(self, X):
        self._answer()
        return np.repeat(self.classes_[np.argmax(self.prior_)], len(X))

    def predict_proba(self, X):
        self._answer()
        return np.tile(self.prior_, (len(X), 1))


def fake_family(name, make, *, tasks=("classify",), uncertainty="none", **attributes) -> Family:
    """A family called `name` whose estimators are `make(**params)`; `attributes` add or replace
    class attributes and methods (title, cost, resource_param, search_space, ...)."""
    body = {
        "name": name,
        "title": name,
        "tasks": frozenset(tasks),
        "interpretability": Interpretability(0.5, "test family"),
        "uncertainty": Uncertainty(uncertainty, "test family"),
        "make_estimator": lambda self, task, profile, **params: make(**params),
        **attributes,
    }
    return type(f"Fake_{name}", (Family,), body)()
