"""Which encoded columns the leaves model as continuous and which as discrete.

The estimators encode a table with `TabularEncoder` (numeric values standardised, categoricals
as integer codes, a 0/1 flag beside each numeric column with holes). Within a leaf a continuous
column gets a truncated normal; everything that takes a few values only (codes, flags,
booleans, numeric columns the encoder snaps to their few seen values) gets a table of level
frequencies, which is exact for them where a normal would smear mass between the levels.
"""

from __future__ import annotations

import numpy as np


def column_layout(encoder, Z: np.ndarray) -> dict:
    """The layout of the encoded matrix `Z` (the training rows): plain arrays and lists only,
    so that a saved model holds no code of this package.

    Keys: width; continuous / discrete (encoded column indices); cont_missing / disc_missing
    (the index of each column's missing-value flag, -1 where it has none); levels (per
    discrete column, the sorted values it takes where it is not missing).
    """
    continuous, cont_missing, discrete, disc_missing = [], [], [], []
    for spec in encoder.specs_:
        flag = -1 if spec.indicator is None else int(spec.indicator)
        if spec.kind == "numeric" and spec.support is None:
            continuous.append(int(spec.start))
            cont_missing.append(flag)
        else:
            discrete.append(int(spec.start))
            disc_missing.append(flag)
        if spec.indicator is not None:  # the flag itself is a two-level column
            discrete.append(int(spec.indicator))
            disc_missing.append(-1)
    levels = []
    for j, flag in zip(discrete, disc_missing):
        values = Z[:, j] if flag < 0 else Z[Z[:, flag] < 0.5, j]
        seen = np.unique(values)
        levels.append(seen if seen.size else np.zeros(1))
    return {
        "width": int(Z.shape[1]),
        "continuous": np.asarray(continuous, dtype=np.int64),
        "cont_missing": np.asarray(cont_missing, dtype=np.int64),
        "discrete": np.asarray(discrete, dtype=np.int64),
        "disc_missing": np.asarray(disc_missing, dtype=np.int64),
        "levels": levels,
    }


def present(Z: np.ndarray, flag: int) -> np.ndarray:
    """Rows where the column whose missing-value flag is `flag` holds a value."""
    return np.ones(len(Z), dtype=bool) if flag < 0 else Z[:, flag] < 0.5
