"""Train / validation / test rows for a run.

The search fits on *train* and selects on *validation*; the ranking reports every family on
*test* rows that no selection has seen. Large data is subsampled for the search (the winner is
refit on everything afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.dataset import Dataset

TINY_ROWS = 30
MAX_EVAL_ROWS = 5_000


@dataclass
class Splits:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    reused: bool = False  # too few rows: every split is the whole data

    def take(self, data: Dataset, part: str):
        idx = getattr(self, part)
        X = data.X.iloc[idx].reset_index(drop=True)
        y = None if data.y is None else data.y.iloc[idx].reset_index(drop=True)
        labels = None if data.labels is None else data.labels.iloc[idx].reset_index(drop=True)
        return X, y, labels


def _strata(data: Dataset) -> pd.Series | None:
    if data.task == "classify":
        y = data.y.astype(str)
    elif data.task in ("detect", "embed") and data.labels is not None:
        y = data.labels.astype(str)
    else:
        return None
    counts = y.map(y.value_counts())
    return y.where(counts >= 3, "__rare__")


def make_splits(data: Dataset, seed: int = 0, max_search_rows: int = 20_000) -> Splits:
    n = len(data.X)
    rng = np.random.default_rng(seed)
    if n < TINY_ROWS:
        all_rows = np.arange(n)
        return Splits(all_rows, all_rows, all_rows, reused=True)
    strata = _strata(data)
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
    return Splits(train, valid, test)
