"""Train / validation / test rows for a run.

The search fits on *train* and selects on *validation*; the ranking reports every family on
*test* rows that no selection has seen. Large data is subsampled for the search (the winner is
refit on everything afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TINY_ROWS = 30
MAX_EVAL_ROWS = 5_000


@dataclass
class Splits:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    reused: bool = False  # too few rows: every split is the whole data
    n_rows: int = 0  # rows of the whole table

    @property
    def development(self) -> np.ndarray:
        """Every row that is not a test row: what the profile and the cleaning may look at."""
        if self.reused:
            return self.test
        return np.setdiff1d(np.arange(self.n_rows), self.test)

    def take(self, data, part: str):
        idx = getattr(self, part)
        X = data.X.iloc[idx].reset_index(drop=True)
        y = None if data.y is None else data.y.iloc[idx].reset_index(drop=True)
        labels = None if data.labels is None else data.labels.iloc[idx].reset_index(drop=True)
        return X, y, labels


def strata_for(task: str, y: pd.Series | None, labels: pd.Series | None) -> pd.Series | None:
    """What the splits stratify on: the classes (classify), or the labels kept for scoring."""
    if task == "classify" and y is not None:
        values = y.astype(str)
    elif task in ("detect", "embed") and labels is not None:
        values = labels.astype(str)
    else:
        return None
    values = values.reset_index(drop=True)
    counts = values.map(values.value_counts())
    return values.where(counts >= 3, "__rare__")


def make_splits(n: int, strata: pd.Series | None = None, seed: int = 0, max_search_rows: int = 20_000) -> Splits:
    """Stratified train / validation / test rows (60 / 20 / 20) of a table of `n` rows."""
    rng = np.random.default_rng(seed)
    if n < TINY_ROWS:
        all_rows = np.arange(n)
        return Splits(all_rows, all_rows, all_rows, reused=True, n_rows=n)
    train, valid, test = [], [], []
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata.to_numpy() == g) for g in sorted(strata.unique())]
    for rows in groups:
        rows = rng.permutation(rows)
        if len(rows) < 3 or (strata is not None and strata.iloc[rows[0]] == "__rare__"):
            train.extend(rows)
            continue
        k = max(1, int(round(len(rows) * 0.2)))
        test.extend(rows[:k])
        valid.extend(rows[k : 2 * k])
        train.extend(rows[2 * k :])
    train, valid, test = (np.sort(np.asarray(p, dtype=int)) for p in (train, valid, test))
    if len(train) > max_search_rows:
        train = np.sort(rng.choice(train, max_search_rows, replace=False))
    if len(valid) > MAX_EVAL_ROWS:
        valid = np.sort(rng.choice(valid, MAX_EVAL_ROWS, replace=False))
    if len(test) > MAX_EVAL_ROWS:
        test = np.sort(rng.choice(test, MAX_EVAL_ROWS, replace=False))
    return Splits(train, valid, test, n_rows=n)
