"""Families that never return from fit: a pure-Python loop, and blocking C-level sleeps."""

import ctypes
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from advisor import Family, Interpretability, Uncertainty, hookimpl


class _Hang(ClassifierMixin, BaseEstimator):
    def __init__(self, mode="python_loop"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "python_loop":
            while True:
                pass
        elif self.mode == "time_sleep":
            time.sleep(3600)
        else:
            ctypes.CDLL(None).sleep(3600)  # libc sleep(3): C code, outside the interpreter
        self.classes_ = np.unique(y)
        return self


def _family(mode):
    class F(Family):
        name = f"hang_{mode}"
        title = f"Hangs ({mode})"
        tasks = frozenset({"classify"})
        interpretability = Interpretability(0.5, "test family")
        uncertainty = Uncertainty("none", "test family")
        cost = "high"

        def make_estimator(self, task, profile, **params):
            return _Hang(mode=mode)

    return F()


@hookimpl
def register_families(register):
    for mode in ("python_loop", "time_sleep", "libc_sleep"):
        register(_family(mode))
