"""The adversarial game of ARF (Watson, Blesch, Kapar & Wright, "Adversarial random forests for
density estimation and generative modeling", AISTATS 2023, Algorithm 1).

Round 0 pits the real rows against rows drawn from the product of the column marginals. While
the forest still tells them apart (out-of-bag accuracy above 0.5 + delta) the synthetic rows
are redrawn inside its leaves, each column independently from the real rows of the leaf, and a
new forest is trained. When the forest is fooled, its leaves are regions where the columns are
close to independent: exactly what FORDE (`advisor_plugins.arf.forde`) needs.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from advisor.sdk import time_left

# The next round starts only if this many times the last round's duration is left: one more
# round, then FORDE on the final forest (which costs less than a round).
ROUND_RESERVE = 2.0


def marginal_draws(Z: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` rows of the product of the marginals: every column resampled on its own."""
    picks = rng.integers(len(Z), size=(n, Z.shape[1]))
    return Z[picks, np.arange(Z.shape[1])]


def leaf_draws(forest, Z: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` rows drawn inside the forest's leaves.

    Each row picks a tree and a real row (so a leaf with probability its share of real rows),
    then takes every column from a real row of that leaf drawn anew per column: the columns are
    independent within the leaf, dependent across leaves.
    """
    leaves = forest.apply(Z)  # (rows, trees) node ids
    n_real, n_trees = leaves.shape
    span = int(leaves.max()) + 1
    keys = (np.arange(n_trees)[:, None] * span + leaves.T).ravel()  # entry t * n_real + r
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    tree = rng.integers(n_trees, size=n)
    row = rng.integers(n_real, size=n)
    wanted = tree * span + leaves[row, tree]
    start = np.searchsorted(ordered, wanted, side="left")
    size = np.searchsorted(ordered, wanted, side="right") - start
    out = np.empty((n, Z.shape[1]))
    for j in range(Z.shape[1]):
        offset = np.minimum((rng.random(n) * size).astype(np.int64), size - 1)
        out[:, j] = Z[order[start + offset] % n_real, j]
    return out


def fit_forest(real: np.ndarray, synthetic: np.ndarray, forest_params: dict, seed: int):
    """A forest telling real (1) from synthetic (0) rows, with its out-of-bag accuracy."""
    X = np.vstack([real, synthetic])
    y = np.r_[np.ones(len(real), dtype=np.int64), np.zeros(len(synthetic), dtype=np.int64)]
    forest = RandomForestClassifier(bootstrap=True, oob_score=True, n_jobs=1, random_state=seed, **forest_params)
    with warnings.catch_warnings():  # a handful of rows in every bag leave some without an OOB vote
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        forest.fit(X, y)
    accuracy = float(getattr(forest, "oob_score_", math.nan))
    if hasattr(forest, "oob_decision_function_"):  # per-row votes: a saved model need not carry them
        del forest.oob_decision_function_
    return forest, accuracy


def adversarial_forest(Z: np.ndarray, forest_params: dict, *, delta: float, max_iters: int, rng: np.random.Generator):
    """Play the game on the encoded real rows `Z`; return the final forest and its history.

    The history records each round's out-of-bag accuracy and why the game stopped:
    "converged" (the forest was fooled), "max_iters" or "deadline" (`time_left()` read between
    rounds would not cover another one). Round 0 always runs: without it there is no model.
    """
    n = len(Z)
    accuracies = []
    started = time.monotonic()
    synthetic = marginal_draws(Z, n, rng)
    while True:
        forest, accuracy = fit_forest(Z, synthetic, forest_params, seed=int(rng.integers(2**31 - 1)))
        accuracies.append(round(accuracy, 6))
        took = time.monotonic() - started
        if not accuracy > 0.5 + delta:  # a NaN accuracy (no OOB votes at all) ends the game too
            stopped_by = "converged"
            break
        if len(accuracies) > max_iters:
            stopped_by = "max_iters"
            break
        if time_left() < ROUND_RESERVE * took:
            stopped_by = "deadline"
            break
        started = time.monotonic()
        synthetic = leaf_draws(forest, Z, n, rng)
    return forest, {"rounds": len(accuracies), "oob_accuracy": accuracies, "stopped_by": stopped_by}
