"""The ARF estimators: `ARFGenerator` (generate: `sample`) and `ARFDetector` (detect:
`score_samples`, the FORDE log-density), after Watson, Blesch, Kapar & Wright, "Adversarial
random forests for density estimation and generative modeling" (AISTATS 2023).

Both read mixed tables (as DataFrames or 2-D arrays): `TabularEncoder` turns them into numbers
for the forest (numeric columns standardised with a missing-value flag, categoricals as integer
codes, missing as a level) and turns drawn numbers back into the fitted columns, dtypes, levels
and holes. Fitted state is the encoder, the scikit-learn forest and plain arrays and dicts.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from advisor.sdk import TabularEncoder, TakesTables, as_frame, declared_init
from advisor_plugins.arf.adversarial import adversarial_forest
from advisor_plugins.arf.columns import column_layout
from advisor_plugins.arf.forde import cells_per_leaf, fit_leaves, log_density, spread_single_row_leaves
from advisor_plugins.arf.forge import draw_rows

ARF_PARAMS = {
    "n_estimators": 50,  # trees of every forest of the game
    "min_samples_leaf": 5,  # rows a leaf holds at least: enough to fit its distributions
    "max_leaf_nodes": None,  # leaves per tree; None: as many as LEAF_TABLE_CELLS allows
    "max_features": "sqrt",  # columns tried per split, as in the paper's ranger forests
    "delta": 0.0,  # the game stops once out-of-bag accuracy <= 0.5 + delta
    "max_iters": 5,  # rounds of redrawing after the first forest
    "alpha": 0.01,  # pseudo-count of every level inside a leaf's box (discrete columns)
    "random_state": None,
}

# The leaf table's size in numbers (float64: 160 MB) at most. Trees grown to five rows a leaf
# have about 2n/5 leaves, so on large tables the table, not the data, sets the leaf count.
LEAF_TABLE_CELLS = 20_000_000


class _AdversarialForest(TakesTables, BaseEstimator):
    """Fitting shared by both tasks: encode, play the adversarial game, fit FORDE's leaves."""

    __init__ = declared_init(ARF_PARAMS)

    def fit(self, X, y=None):
        frame = as_frame(X)
        if len(frame) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 rows, got {len(frame)}")
        if not 0.0 <= float(self.delta) < 0.5:
            raise ValueError(f"delta must be in [0, 0.5), got {self.delta!r}")
        rng = np.random.default_rng(self.random_state)
        self.encoder_ = TabularEncoder(numeric="standard", categorical="codes", dtype="float64").fit(frame)
        Z = self.encoder_.transform(frame)
        self.layout_ = column_layout(self.encoder_, Z)
        forest_params = {
            "n_estimators": int(self.n_estimators),
            "min_samples_leaf": int(self.min_samples_leaf),
            "max_leaf_nodes": self._max_leaves(len(Z)),
            "max_features": self.max_features,
        }
        self.forest_, self.history_ = adversarial_forest(
            Z, forest_params, delta=float(self.delta), max_iters=int(self.max_iters), rng=rng
        )
        self.leaves_ = fit_leaves(self.forest_, Z, self.layout_, float(self.alpha))
        self.n_features_in_ = frame.shape[1]
        self._after_fit(Z)
        return self

    def _max_leaves(self, n_rows: int) -> int | None:
        """The leaf cap per tree; None (trees grown to `min_samples_leaf`) where it cannot bind."""
        if self.max_leaf_nodes is not None:
            return int(self.max_leaf_nodes)
        per_tree = max(LEAF_TABLE_CELLS // (max(int(self.n_estimators), 1) * cells_per_leaf(self.layout_)), 16)
        # a forest sees 2 n rows (real and synthetic), a leaf at least min_samples_leaf of them
        return None if per_tree * max(int(self.min_samples_leaf), 1) >= 2 * n_rows else int(per_tree)

    def _after_fit(self, Z):
        """Task-specific state computed from the encoded training rows."""

    def _log_density(self, X) -> np.ndarray:
        check_is_fitted(self, "leaves_")
        return log_density(self.forest_, self.leaves_, self.layout_, self.encoder_.transform(as_frame(X)))


class ARFGenerator(_AdversarialForest):
    """generate: `sample(n)` draws rows by FORGE from the forest's leaves.

    Integer columns come back integer, categoricals with seen levels only, and holes at about
    the rate each column had (the missing-value flags and levels are drawn like any column).
    """

    def sample(self, n, random_state=None):
        check_is_fitted(self, "leaves_")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        Z = draw_rows(self.leaves_, self.layout_, int(n), rng)
        return self.encoder_.inverse_transform(Z, random_state=int(rng.integers(2**31 - 1)))


class ARFDetector(_AdversarialForest):
    """detect: `score_samples` is the FORDE log-density (higher = more normal), with a leaf that
    one real row alone reached given its column's spread; `predict` flags rows scoring below the
    5 % quantile of the training rows' scores as -1."""

    def _after_fit(self, Z):
        # A detector reads densities where the odd rows are among those it learned from: a leaf
        # holding one of them alone must not be a spike of density on it (forde).
        self.leaves_ = spread_single_row_leaves(self.leaves_, len(Z))
        self.offset_ = float(np.quantile(log_density(self.forest_, self.leaves_, self.layout_, Z), 0.05))

    def score_samples(self, X):
        """log p(row) under the FORDE mixture, taken on the encoded row (numeric columns in
        standard deviations): a constant shift from the raw units, so the ranking is the same."""
        return self._log_density(X)

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)
