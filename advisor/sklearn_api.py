"""scikit-learn meta-estimators that run the advisor inside `fit` and delegate to the winner.

    pipe = make_pipeline(SomeCleaning(), AdvisorClassifier(budget=30))
    cross_val_score(pipe, X, y)

Each `fit` is a full (budgeted) recommendation on the rows it is given; `recommendation_`
keeps the ranking and rationale, `best_estimator_` the fitted winner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from advisor.data.tables import Table, array_columns


class _AdvisorEstimator(BaseEstimator):
    _task = ""

    def __init__(self, budget=30.0, families=None, exclude=None, weights=None, prefer=None, max_trials=None, device="auto", random_state=0):
        self.budget = budget
        self.families = families
        self.exclude = exclude
        self.weights = weights
        self.prefer = prefer
        self.max_trials = max_trials
        self.device = device
        self.random_state = random_state

    def _frame(self, X, names=None) -> pd.DataFrame:
        """`X` as a frame; an array's columns get `names` (those of the frame `fit` saw, so that
        rows passed as an array are read by position, as scikit-learn reads them) or invented ones."""
        if isinstance(X, pd.DataFrame):
            frame = X.reset_index(drop=True)
            frame.columns = [str(c) for c in frame.columns]
            return frame
        X = np.asarray(X)
        width = int(np.prod(X.shape[1:]))
        columns = list(names) if names is not None and len(names) == width else array_columns(width)
        frame = pd.DataFrame(X.reshape(len(X), -1), columns=columns)
        if X.dtype == object:  # numbers stored as objects are still numbers
            for value in X.reshape(-1):
                if value is not None and not isinstance(value, (str, int, float, np.number, bool)):
                    raise TypeError(f"argument must be a string or a number, not {type(value).__name__}")
            frame = frame.apply(lambda s: pd.to_numeric(s, errors="coerce") if pd.to_numeric(s, errors="coerce").notna().sum() == s.notna().sum() else s)
        return frame

    def _fit(self, X, y):
        from advisor.advise import recommend

        if isinstance(self.budget, (int, float)) and self.budget == 0:
            raise ValueError("budget=0 gives advice without training (advisor.recommend); an estimator needs a budget in seconds")
        # Validate as scikit-learn would (shapes, empty input, y present, complex numbers).
        validate_data(self, X, y, dtype=None, ensure_all_finite=False, ensure_min_samples=2)
        # An array's columns get invented names, which must not make it a sequence or an image.
        table = Table(self._frame(X), "DataFrame" if isinstance(X, pd.DataFrame) else "array", named_columns=isinstance(X, pd.DataFrame))
        rec = recommend(
            (table, np.asarray(y).reshape(-1)),
            self._task,
            budget=self.budget,
            families=self.families,
            exclude=self.exclude,
            weights=self.weights,
            prefer=self.prefer,
            max_trials=self.max_trials,
            device=self.device,
            seed=self._seed(),
        )
        self.recommendation_ = rec
        self.best_estimator_ = rec.best_estimator_
        self.best_family_ = rec.best_family
        return self

    def _seed(self) -> int:
        """The run's seed: an int as given, 0 for None, one drawn from a `RandomState`."""
        if self.random_state is None:
            return 0
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _rows(self, X):
        """Rows as `fit` saw them; the returned model's own first step does the cleaning."""
        check_is_fitted(self, "best_estimator_")
        validate_data(self, X, dtype=None, ensure_all_finite=False, reset=False)
        return self._frame(X, self.best_estimator_.cleaner.input_columns_)

    def predict(self, X):
        rows = self._rows(X)
        return self.best_estimator_.predict(rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags


class AdvisorClassifier(ClassifierMixin, _AdvisorEstimator):
    """Runs `advisor.recommend(task="classify")` in `fit`; predicts with the recommended model."""

    _task = "classify"

    def fit(self, X, y):
        check_classification_targets(y)
        self._fit(X, y)
        self.classes_ = np.asarray(getattr(self.best_estimator_, "classes_", np.unique(np.asarray(y))))
        return self

    def predict_proba(self, X):
        rows = self._rows(X)
        return self.best_estimator_.predict_proba(rows)


class AdvisorRegressor(RegressorMixin, _AdvisorEstimator):
    """Runs `advisor.recommend(task="regress")` in `fit`; predicts with the recommended model."""

    _task = "regress"

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        self._fit(X, y)
        return self

    def predict(self, X, return_std=False):
        rows = self._rows(X)
        if return_std:
            return self.best_estimator_.predict(rows, return_std=True)
        return self.best_estimator_.predict(rows)

    def predict_interval(self, X):
        """Bounds of the winner's calibrated 90 % interval for each row, shape (n, 2)."""
        return self.best_estimator_.predict_interval(self._rows(X))
