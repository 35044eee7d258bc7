"""Out-of-fold predictions of a family's best configuration: how the verdict sees small data.

Below `MAX_CV_ROWS` development rows (every row but the test rows), the best configuration of
each leading family is refit in k folds (stratified for classify), each fold predicting the rows
it did not train on. The selection then rests on every development row instead of the 20 % the
search validated on, and on models that did not choose their hyperparameters on those rows.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from advisor.nn.seeding import derive_seed
from advisor.runtime import budget as budget_ctx
from advisor.runtime.measure import thread_limit
from advisor.runtime.watchdog import TrialTimeout, watchdog

MAX_CV_ROWS = 10_000
FOLDS = 5


@dataclass
class OutOfFold:
    """Predictions for every development row from a model that did not train on it."""

    y: np.ndarray
    fold: np.ndarray  # each row's fold in the first repeat (cross-conformal calibration)
    repeats: int
    folds: int
    seconds: float
    proba: np.ndarray | None = None  # classify: mean probability per row, columns as `classes`
    classes: np.ndarray | None = None
    mean: np.ndarray | None = None  # regress: mean prediction per row
    std: np.ndarray | None = None  # regress: predictive std, where the family gives one


def fold_plan(y, task: str, folds: int, repeats: int, seed: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Train / predict row positions for each fold of each repeat."""
    n = len(y)
    plans = []
    for r in range(repeats):
        if task == "classify":
            counts = np.unique(np.asarray(y).astype(str), return_counts=True)[1]
            k = int(max(2, min(folds, counts.max())))
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=derive_seed(seed, "folds", r))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a class rarer than k: some folds lack it
                plans.append(list(splitter.split(np.zeros(n), np.asarray(y).astype(str))))
        else:
            splitter = KFold(n_splits=min(folds, n), shuffle=True, random_state=derive_seed(seed, "folds", r))
            plans.append(list(splitter.split(np.zeros(n))))
    return plans


def cross_validate(run, X, y, task: str, *, seed: int, device: str, fold_seconds: float, stop_at: float,
                   folds: int = FOLDS, repeats: int = 1, repeatable: bool = False) -> OutOfFold | None:
    """Refit `run`'s best configuration in folds over (X, y); None when a fold fails or time ends.

    Each fold trains under a deadline of `fold_seconds` (the family's own fit time, with room),
    and nothing starts after `stop_at`.
    """
    from advisor.search import configure_estimator, fit_estimator

    start = time.monotonic()
    y = np.asarray(y)
    n = len(y)
    plans = fold_plan(y, task, folds, repeats, seed)
    classes = np.unique(y.astype(str)) if task == "classify" else None
    sums = np.zeros((n, len(classes))) if task == "classify" else np.zeros(n)
    std_sums = np.zeros(n)
    counts = np.zeros(n)
    has_std = task == "regress"
    done = 0
    for r, plan in enumerate(plans):
        if r > 0 and not repeatable and time.monotonic() + len(plan) * fold_seconds > stop_at:
            break  # a further repeat would not finish: keep the complete ones (a repeatable run runs them all, or fails)
        for f, (train, test) in enumerate(plan):
            if time.monotonic() + fold_seconds > stop_at + 0.5 * fold_seconds:
                return None
            est = configure_estimator(clone(run.best_estimator), seed=derive_seed(seed, run.name, "cv", r, f), device=device)
            try:
                with watchdog(fold_seconds * 2 + 2.0, f"{run.name} fold {f + 1}"):
                    with budget_ctx.fit_scope(time.monotonic() + fold_seconds, None, repeatable=repeatable), thread_limit(len(train)):
                        fit_estimator(est, task, X.iloc[train], y[train])
                    with thread_limit(len(train)):
                        if task == "classify":
                            sums[test] += _aligned_proba(est, X.iloc[test], classes)
                        else:
                            mean, std = _mean_std(est, X.iloc[test]) if has_std else (_mean(est, X.iloc[test]), None)
                            has_std = has_std and std is not None
                            sums[test] += mean
                            if std is not None:
                                std_sums[test] += std
            except (TrialTimeout, Exception):  # noqa: BLE001 - a fold that fails leaves the family to its validation estimate
                return None
            counts[test] += 1
        done += 1
    if done == 0 or np.any(counts == 0):
        return None
    fold = np.zeros(n, dtype=int)
    for f, (_, test) in enumerate(plans[0]):
        fold[test] = f
    out = OutOfFold(y=y, fold=fold, repeats=done, folds=len(plans[0]), seconds=time.monotonic() - start)
    if task == "classify":
        out.proba, out.classes = sums / counts[:, None], classes
    else:
        out.mean = sums / counts
        if has_std and np.all(std_sums > 0):
            out.std = std_sums / counts
    return out


def _aligned_proba(est, X, classes: np.ndarray) -> np.ndarray:
    """Probabilities in the order of `classes` (a fold may not have seen every class)."""
    proba = np.asarray(est.predict_proba(X), dtype=float)
    seen = np.asarray(est.classes_).astype(str)
    out = np.zeros((len(X), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(seen):
        out[:, index[c]] = proba[:, j]
    if not np.all(np.isfinite(out)):
        raise ValueError("predict_proba returned NaN")
    return out


def _mean(est, X) -> np.ndarray:
    mean = np.asarray(est.predict(X), dtype=float).reshape(-1)
    if not np.all(np.isfinite(mean)):
        raise ValueError("predict returned NaN")
    return mean


def _mean_std(est, X):
    try:
        mean, std = est.predict(X, return_std=True)
    except TypeError:
        return _mean(est, X), None
    mean, std = np.asarray(mean, dtype=float).reshape(-1), np.asarray(std, dtype=float).reshape(-1)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
        raise ValueError("predict returned NaN")
    return mean, (std if np.any(std > 0) else None)
