"""Families that fail in the ways real plugins do: raising in fit, NaN outputs, wrong shapes."""

import numpy as np

from advisor import hookimpl
from fake_plugins.fakes import MajorityVote, fake_family


class _Faulty(MajorityVote):
    def __init__(self, mode="raise"):
        self.mode = mode

    def _train(self, X, y):
        if self.mode == "raise":
            raise RuntimeError("fit exploded")

    def predict(self, X):
        if self.mode == "shape":
            return np.asarray(self.classes_[:1].tolist() * 3)
        return super().predict(X)

    def predict_proba(self, X):
        out = super().predict_proba(X)
        if self.mode == "nan":
            out[0, 0] = np.nan
        return out


@hookimpl
def register_families(register):
    for mode in ("raise", "nan", "shape"):
        register(fake_family(f"faulty_{mode}", lambda mode=mode, **params: _Faulty(mode=mode), title=f"Faulty ({mode})"))
