"""Fidelity and uncertainty of the tasks with a target: classify and regress."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from advisor.criteria.base import finite, timed
from advisor.errors import FamilyError
from advisor.model.decision import Z90, BalancedDecision, balanced_accuracy, balanced_labels, implied_shares, interval_score


def expected_calibration_error(y_true, proba, classes, n_bins: int = 15) -> float:
    """Top-label ECE with equal-width bins."""
    conf = proba.max(axis=1)
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    correct = (pred == np.asarray(y_true)).astype(float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def classify(est, X, y, ctx):
    """Balanced accuracy of the decision rule the model ships with, and a proper score.

    Without a tuned rule (a trial, a fold), labels follow the balanced-accuracy Bayes rule on the
    probabilities (advisor.model.decision); a `BalancedDecision` applies its own tuned rule.
    """
    y = np.asarray(y).astype(str)
    metrics = {}
    proba = None
    if hasattr(est, "predict_proba"):
        proba, t = timed(est.predict_proba, X)
        proba = finite(proba, "predict_proba", len(X))
        classes = getattr(est, "classes_", None)
        if classes is None or proba.ndim != 2 or proba.shape[1] != len(classes):
            raise FamilyError("predict_proba columns do not match classes_")
        if np.any(np.abs(proba.sum(axis=1) - 1) > 1e-3):
            raise FamilyError("predict_proba rows do not sum to 1")
        classes = np.asarray(classes).astype(str)
        head = X.iloc[:5]
        if np.asarray(est.predict(head)).shape[0] != len(head):  # labels are drawn from the probabilities, but predict must work too
            raise FamilyError(f"predict returned {np.asarray(est.predict(head)).shape[0]} rows for {len(head)}")
        if _decides_itself(est):
            pred = np.asarray(est.predict(X)).astype(str)
        else:
            pred = balanced_labels(proba, classes, implied_shares(proba))
    else:
        pred, t = timed(est.predict, X)
        pred = np.asarray(pred).astype(str)
    if pred.shape[0] != len(X):
        raise FamilyError(f"predict returned {pred.shape[0]} rows for {len(X)}")
    bal = balanced_accuracy(y, pred)
    parts = {"y": y, "pred": pred} if proba is None else {"y": y, "pred": pred, "proba": proba, "classes": classes}
    metrics.update(balanced_accuracy=bal, accuracy=float(np.mean(y == pred)), _predict_seconds=t, _parts=parts)
    unc = None
    if proba is not None:
        metrics["ece"] = expected_calibration_error(y, proba, classes)
        skill, loss, prior_loss = log_loss_skill(y, proba, classes, ctx.train_y)
        metrics.update(log_loss=loss, log_loss_prior=prior_loss)
        parts["row_loss"] = row_log_loss(y, proba, classes)
        unc = skill
    return bal, unc, metrics, len(X)


def _decides_itself(est) -> bool:
    """Whether the estimator carries a tuned decision rule (then its `predict` decides)."""
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    return isinstance(final, BalancedDecision)


def row_log_loss(y, proba, classes) -> np.ndarray:
    """Each row's log loss: minus the log of the probability given to its true class."""
    idx = {c: i for i, c in enumerate(np.asarray(classes).astype(str))}
    p_true = np.array([proba[i, idx[v]] if v in idx else 0.0 for i, v in enumerate(np.asarray(y).astype(str))])
    return -np.log(np.clip(p_true, 1e-15, 1))


def log_loss_skill(y, proba, classes, train_y=None) -> tuple[float, float, float]:
    """(skill, log loss, baseline log loss): 1 - log loss / that of predicting the class shares.

    The baseline predicts the training rows' class shares for every row; a skill of 0 means the
    probabilities say no more than the class balance, and worse is clipped to 0.
    """
    y = np.asarray(y).astype(str)
    loss = float(np.mean(row_log_loss(y, proba, classes)))
    reference = np.asarray(train_y).astype(str) if train_y is not None else y
    shares = pd.Series(reference).value_counts(normalize=True)
    prior = np.array([shares.get(v, 0.0) for v in y])
    prior_loss = float(-np.mean(np.log(np.clip(prior, 1e-15, 1))))
    skill = 1 - loss / prior_loss if prior_loss > 0 else 0.0
    return float(np.clip(skill, 0, 1)), loss, prior_loss


# -- regress ----------------------------------------------------------------------------------
def regress(est, X, y, ctx):
    """R² and, where the model gives a predictive std, the 90 % interval score as a skill."""
    y = np.asarray(y, dtype=float)
    std = None
    t0 = time.perf_counter()
    try:
        out = est.predict(X, return_std=True)
        mean, std = out
    except TypeError:
        mean = est.predict(X)
    t = time.perf_counter() - t0
    mean = finite(mean, "predict", len(X)).reshape(-1)
    r2 = r2_score(y, mean)
    metrics = {"r2": r2, "rmse": float(np.sqrt(np.mean((y - mean) ** 2))), "_predict_seconds": t, "_parts": {"y": y, "mean": mean}}
    unc = None
    if std is not None:
        std = finite(std, "predict(return_std=True)", len(X)).reshape(-1)
        if np.all(std == 0):
            metrics["std_all_zero"] = True
        else:
            lower, upper = mean - Z90 * std, mean + Z90 * std
            covered = (y >= lower) & (y <= upper)
            skill, score, base = interval_skill(y, lower, upper, ctx.train_y)
            metrics.update(coverage90=float(covered.mean()), interval90_width=float(np.mean(upper - lower)),
                           interval_score=score, interval_score_baseline=base)
            unc = skill
            metrics["_parts"]["std"] = std
    return max(r2, 0.0), unc, metrics, len(X)


def interval_skill(y, lower, upper, train_y=None) -> tuple[float, float, float]:
    """(skill, interval score, baseline score) of 90 % intervals (Gneiting & Raftery, 2007).

    The interval score adds the width and 20 times any miss, so it rewards coverage and
    narrowness together. The baseline is the same interval for every row: the 5 % and 95 %
    quantiles of the training target. Skill 1 - score / baseline is 0 for no better than that.
    """
    reference = np.asarray(train_y if train_y is not None else y, dtype=float)
    lo, hi = np.quantile(reference, [0.05, 0.95])
    score = float(np.mean(interval_score(y, lower, upper)))
    base = float(np.mean(interval_score(y, np.full(len(y), lo), np.full(len(y), hi))))
    skill = 1 - score / base if base > 0 else 0.0
    return float(np.clip(skill, 0, 1)), score, base
