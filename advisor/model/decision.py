"""Decision rules the verdict tunes, carried inside the returned model.

- `BalancedDecision`: a classifier's labels from its probabilities, each divided by a class
  weight. With weights 1 / (the class shares the probabilities imply) this is the Bayes rule for
  balanced accuracy (the metric the classify criterion uses): at 5 % positives a binary model
  predicts "positive" above a probability of 0.05, not 0.5. The exponent on those weights is
  tuned on out-of-fold probabilities (`tune_balance`), as scikit-learn's
  `TunedThresholdClassifierCV` tunes a threshold.
- `ConformalRegressor`: a regressor with calibrated 90 % intervals by conformal prediction
  (Vovk et al., 2005; Lei et al., 2018): the interval is the prediction plus or minus a quantile
  of out-of-fold absolute residuals, or of residuals divided by the model's own predictive std
  when it gives one (normalised conformal, Papadopoulos et al., 2011). `predict(X,
  return_std=True)` returns the half-width divided by z(0.95), so mean ± 1.645 std is the
  calibrated interval; `predict_interval` returns the bounds.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils.validation import check_is_fitted

Z90 = 1.6448536269514722  # two-sided 90 %: the normal quantile at 0.95
BALANCE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def implied_shares(proba: np.ndarray) -> np.ndarray:
    """The class shares a model's probabilities imply: their mean over rows (no labels needed)."""
    shares = np.asarray(proba, dtype=float).mean(axis=0)
    return np.clip(shares, 1e-6, None) / np.clip(shares, 1e-6, None).sum()


def balanced_labels(proba: np.ndarray, classes: np.ndarray, shares: np.ndarray, power: float = 1.0) -> np.ndarray:
    """argmax over classes of p(c | x) / share_c ** power."""
    weights = np.asarray(shares, dtype=float) ** -float(power)
    return np.asarray(classes)[np.argmax(np.asarray(proba, dtype=float) * weights, axis=1)]


def balanced_accuracy(y, predicted) -> float:
    """scikit-learn's balanced accuracy, without its warning for a class predicted that the rows
    lack: held-out rows often miss a rare class, and each family's every trial would repeat it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(y, predicted))


def tune_balance(proba: np.ndarray, y, classes) -> tuple[float, np.ndarray, float]:
    """The exponent on the implied shares that maximises balanced accuracy on held-out rows.

    Returns (power, shares, balanced accuracy). Ties go to the exponent nearest 1 (the Bayes
    rule for calibrated probabilities), so one lucky row does not move the rule.
    """
    shares = implied_shares(proba)
    y = np.asarray(y).astype(str)
    best = None
    for power in BALANCE_GRID:
        score = balanced_accuracy(y, balanced_labels(proba, np.asarray(classes).astype(str), shares, power))
        key = (round(score, 9), -abs(power - 1.0))
        if best is None or key > best[0]:
            best = (key, power, score)
    return best[1], shares, best[2]


class _ShowsWrappedAttributes:
    """Attributes such as coef_ or feature_importances_ of the wrapped, fitted model stay visible
    on the wrapper, so inspecting the returned model works as on the family's own estimator."""

    def __getattr__(self, name):
        if name.startswith("__") or name in ("estimator_", "estimator"):
            raise AttributeError(name)
        fitted = self.__dict__.get("estimator_")
        if fitted is None:
            raise AttributeError(name)
        return getattr(fitted, name)


class BalancedDecision(_ShowsWrappedAttributes, ClassifierMixin, BaseEstimator):
    """A fitted classifier whose labels follow the balanced-accuracy rule; probabilities unchanged.

    Parameters:
        estimator: the family's classifier (fitted by `fit`).
        shares: the class shares its probabilities imply (in the order of `classes_`).
        power: the tuned exponent on those shares (1: the Bayes rule; 0: plain argmax).
    """

    def __init__(self, estimator=None, shares=None, power=1.0):
        self.estimator = estimator
        self.shares = shares
        self.power = power

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    @classmethod
    def around(cls, fitted, shares, power):
        """Wrap an already fitted classifier without refitting it."""
        rule = cls(estimator=fitted, shares=np.asarray(shares, dtype=float), power=float(power))
        rule.estimator_ = fitted
        rule.classes_ = fitted.classes_
        return rule

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        if self.shares is None or not hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict(X)
        return balanced_labels(self.predict_proba(X), self.classes_, self.shares, self.power)


def conformal_quantile(scores: np.ndarray, coverage: float = 0.9) -> float:
    """The finite-sample conformal quantile: the ceil((n + 1) coverage)-th smallest score."""
    scores = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    if len(scores) == 0:
        return float("nan")
    rank = int(np.ceil((len(scores) + 1) * coverage))
    return float(scores[min(rank, len(scores)) - 1])


class ConformalRegressor(_ShowsWrappedAttributes, RegressorMixin, BaseEstimator):
    """A regressor with a calibrated 90 % interval.

    Parameters:
        estimator: the family's regressor (fitted by `fit`).
        half_width: the conformal quantile of |residual| (absolute), or of |residual| / std
            (normalised, when `normalized`), from out-of-fold predictions.
        normalized: whether `half_width` multiplies the model's own predictive std.
    """

    def __init__(self, estimator=None, half_width=None, normalized=False):
        self.estimator = estimator
        self.half_width = half_width
        self.normalized = normalized

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    @classmethod
    def around(cls, fitted, half_width, normalized):
        wrapped = cls(estimator=fitted, half_width=float(half_width), normalized=bool(normalized))
        wrapped.estimator_ = fitted
        return wrapped

    def _mean_std(self, X):
        if self.normalized:
            mean, std = self.estimator_.predict(X, return_std=True)
            return np.asarray(mean, dtype=float).reshape(-1), np.asarray(std, dtype=float).reshape(-1)
        mean = np.asarray(self.estimator_.predict(X), dtype=float).reshape(-1)
        return mean, np.ones_like(mean)

    def predict(self, X, return_std=False):
        check_is_fitted(self, "estimator_")
        if not return_std:
            return np.asarray(self.estimator_.predict(X), dtype=float).reshape(-1)
        mean, scale = self._mean_std(X)
        return mean, float(self.half_width) * scale / Z90

    def predict_interval(self, X):
        """Lower and upper bounds of the calibrated 90 % interval, as an (n, 2) array."""
        mean, std = self.predict(X, return_std=True)
        return np.column_stack([mean - Z90 * std, mean + Z90 * std])


def interval_score(y, lower, upper, alpha: float = 0.1) -> np.ndarray:
    """Per-row interval score (Gneiting & Raftery, 2007): width plus 2/alpha times the miss."""
    y, lower, upper = (np.asarray(a, dtype=float) for a in (y, lower, upper))
    return (upper - lower) + (2 / alpha) * np.clip(lower - y, 0, None) + (2 / alpha) * np.clip(y - upper, 0, None)
