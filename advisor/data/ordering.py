"""Whether the values of columns read as a sequence or an image show the order their names claim.

The modality comes from the column names (x0..x63 is a signal, p0..p63 an 8x8 image; see
`advisor.data.profiling.detect_modality`), and the families that exploit order (convolutions
along a sequence or over an image) only pay where neighbouring positions carry related values:
in a signal or a picture, a value is more like its neighbour's than a far-off one's. Columns
named f0..f19 by an export script are a table whatever their names say. The check here is a
permutation test of that premise: the mean absolute correlation of neighbouring columns against
the same mean over as many pairs drawn at random, drawn again and again. It only informs: the
profile warns where the names claim an order the values do not show, and the user decides.
"""

from __future__ import annotations

import numpy as np

DRAWS = 19  # random pair sets; the neighbours must beat every one of them (p < 0.05)
MAX_PAIRS = 2000  # neighbour pairs looked at, at most: a bounded cost on large images
MAX_ROWS = 2000


def neighbour_pairs(shape: tuple[int, ...]) -> np.ndarray:
    """Column index pairs of neighbouring positions: (i, i+1) along a sequence of `shape` (L,);
    right and lower neighbours, in each channel, on an image of shape (H, W[, C]) stored row by row."""
    if len(shape) == 1:
        i = np.arange(shape[0] - 1)
        return np.stack([i, i + 1], axis=1)
    h, w = shape[:2]
    c = shape[2] if len(shape) > 2 else 1
    index = np.arange(h * w * c).reshape(h, w, c)
    right = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    down = np.stack([index[:-1].ravel(), index[1:].ravel()], axis=1)
    return np.concatenate([right, down])


def order_evidence(values: np.ndarray, shape: tuple[int, ...], seed: int = 0) -> tuple[float, float] | None:
    """(mean |correlation| of neighbouring columns, the largest such mean over DRAWS sets of random
    column pairs), or None where too few rows or varying columns leave nothing to compare.

    `values` holds complete numeric rows, columns in the order of `shape`. Columns that never vary
    (the blank border of a scanned digit) take part in no pair.
    """
    rng = np.random.default_rng(seed)
    if len(values) > MAX_ROWS:
        values = values[rng.choice(len(values), MAX_ROWS, replace=False)]
    if len(values) < 10:
        return None
    mean, sd = values.mean(axis=0), values.std(axis=0)
    varying = sd > 1e-12 * max(float(np.abs(values).max(initial=0.0)), 1e-300)
    pairs = neighbour_pairs(shape)
    pairs = pairs[varying[pairs[:, 0]] & varying[pairs[:, 1]]]
    if len(pairs) > MAX_PAIRS:
        pairs = pairs[rng.choice(len(pairs), MAX_PAIRS, replace=False)]
    columns = np.flatnonzero(varying)
    if len(pairs) < 2 or len(columns) < 3:
        return None

    def mean_abs_corr(a: np.ndarray, b: np.ndarray) -> float:
        # standardised only as the pairs are read: a large image is never copied whole
        za, zb = (values[:, a] - mean[a]) / sd[a], (values[:, b] - mean[b]) / sd[b]
        return float(np.abs((za * zb).mean(axis=0)).mean())

    observed = mean_abs_corr(pairs[:, 0], pairs[:, 1])
    chance = []
    for _ in range(DRAWS):
        a = rng.choice(columns, len(pairs))
        b = rng.choice(columns, len(pairs))
        same = a == b
        b[same] = columns[(np.searchsorted(columns, b[same]) + 1) % len(columns)]  # a column is not its own pair
        chance.append(mean_abs_corr(a, b))
    return observed, max(chance)
