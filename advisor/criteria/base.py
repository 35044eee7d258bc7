"""What a measurement needs and gives: the context of the rows scored, and the evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.errors import FamilyError


@dataclass
class EvalContext:
    """What the metrics need beyond the estimator: task options, and the data to compare with."""

    task: str
    seed: int = 0
    noise_std: float = 0.2
    image_shape: tuple | None = None
    labels: pd.Series | None = None  # detect / embed labels of the evaluated rows
    train_X: pd.DataFrame | None = None  # rows the estimator trained on (memorisation)
    train_y: pd.Series | None = None  # their target: the class-prior and marginal baselines
    c2st_chunks: int = 1  # generate: synthetic chunks of len(X) rows, each against all real rows
    c2st_folds: int | None = None  # generate: the classifier's folds (None: 5 with several chunks, else 3)
    min_synthetic: int = 500  # generate: rows drawn at least (coverage and memorisation settle with more)
    modality: str = "tabular"  # embed: which perturbations keep a row's meaning
    target: str | None = None  # generate: the target column rows are drawn for (advisor.model.conditional)
    ml_efficiency: bool = False  # generate with a target: also measure the ML-efficiency gap (two model fits)
    _cache: dict = field(default_factory=dict)

    def c2st_fold_count(self) -> int:
        """The two-sample classifier's folds: `c2st_folds`, else 5 with several chunks, else 3."""
        return self.c2st_folds or (5 if self.c2st_chunks > 1 else 3)


@dataclass
class Evaluation:
    fidelity: float
    uncertainty: float | None  # None: not measurable, use the declared kind
    metrics: dict
    predict_seconds_per_1k: float
    # Per-row parts the fidelity is computed from (advisor.judging.bootstrap redraws them), or the
    # standard error of the fidelity where it does not split into rows.
    parts: dict = field(default_factory=dict, repr=False)
    spread: float | None = None


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def finite(a, what: str, shape0: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if shape0 is not None and (arr.ndim == 0 or arr.shape[0] != shape0):
        raise FamilyError(f"{what} returned shape {arr.shape}, expected {shape0} rows")
    if not np.all(np.isfinite(arr)):
        raise FamilyError(f"{what} returned NaN or infinite values")
    return arr
