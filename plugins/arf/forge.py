"""FORGE, forest generation (Watson et al., AISTATS 2023, section 4): draw from the FORDE
mixture. A row picks a tree at random and a leaf by its share of real rows (one draw over all
leaves with weight / trees), then every column independently from that leaf's distribution."""

from __future__ import annotations

import numpy as np
from scipy.stats import truncnorm


def draw_rows(table: dict, layout: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` encoded rows (the layout's width) drawn from the FORDE table."""
    out = np.zeros((n, layout["width"]))
    if n == 0:
        return out
    share = table["weight"] / table["weight"].sum()
    leaf = rng.choice(len(share), size=n, p=share)
    for c, j in enumerate(layout["continuous"]):
        mean, sd = table["mean"][leaf, c], table["sd"][leaf, c]
        a, b = (table["lo"][leaf, c] - mean) / sd, (table["hi"][leaf, c] - mean) / sd
        out[:, j] = truncnorm.rvs(a, b, loc=mean, scale=sd, size=n, random_state=rng)
    for c, (j, levels) in enumerate(zip(layout["discrete"], layout["levels"])):
        cumulative = np.cumsum(table["probs"][c][leaf], axis=1)
        u = rng.random(n) * cumulative[:, -1]
        code = np.minimum((u[:, None] >= cumulative).sum(axis=1), len(levels) - 1)
        out[:, j] = levels[code]
    return out
