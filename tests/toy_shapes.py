"""Toy data on which a convolution should beat a linear model: shared by the deep-family tests."""

import numpy as np


def bars(n=300, side=10, length=4, seed=0):
    """Short horizontal (class 1) or vertical (class 0) bars at random places, on noise.

    Every pixel is as likely to be lit in either class, so a linear model on raw pixels is near
    chance, while a 2-D convolution detects the stroke direction wherever it is."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 0.3, size=(n, side, side))
    y = np.arange(n) % 2
    for i in range(n):
        r, c = rng.integers(0, side - length + 1, size=2)
        if y[i]:
            X[i, r, c : c + length] = 1.0
        else:
            X[i, r : r + length, c] = 1.0
    return X, y
