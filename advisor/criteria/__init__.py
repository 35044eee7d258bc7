"""Measuring a fitted estimator on rows it did not train on.

`evaluate(task, estimator, X, y, context)` returns the fidelity and (where it can be measured)
the uncertainty score in [0, 1], plus the raw metrics behind them. The same function scores a
trial on the validation rows (the search objective is its fidelity) and each family's best
trial on the held-out test rows (the ranking). Outputs that are NaN, infinite or of the wrong
shape raise `FamilyError`, so a broken family is marked failed instead of ranked. The measures
of the tasks with a target are in `supervised`, the others in `unsupervised`.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from advisor.criteria import supervised, unsupervised
from advisor.criteria.base import EvalContext, Evaluation
from advisor.criteria.supervised import expected_calibration_error, interval_skill, log_loss_skill, row_log_loss
from advisor.criteria.unsupervised import add_noise, c2st_score, inject_anomalies, probe_accuracy, probe_correct

_MEASURE = {
    "classify": supervised.classify,
    "regress": supervised.regress,
    "generate": unsupervised.generate,
    "detect": unsupervised.detect,
    "embed": unsupervised.embed,
    "denoise": unsupervised.denoise,
}

__all__ = [
    "EvalContext",
    "Evaluation",
    "add_noise",
    "c2st_score",
    "evaluate",
    "expected_calibration_error",
    "inject_anomalies",
    "interval_skill",
    "log_loss_skill",
    "objective",
    "probe_accuracy",
    "probe_correct",
    "row_log_loss",
]


def evaluate(task: str, estimator, X: pd.DataFrame, y: pd.Series | None, ctx: EvalContext) -> Evaluation:
    """Score `estimator` on rows `X` (and target `y`) for `task`."""
    start = time.perf_counter()
    fidelity, uncertainty, metrics, n_pred = _MEASURE[task](estimator, X, y, ctx)
    seconds = time.perf_counter() - start
    parts = metrics.pop("_parts", {})
    spread = metrics.pop("_spread", None)
    metrics = {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in metrics.items()}
    per_1k = metrics.pop("_predict_seconds", seconds) / max(n_pred, 1) * 1000
    return Evaluation(float(np.clip(fidelity, 0, 1)), None if uncertainty is None else float(np.clip(uncertainty, 0, 1)), metrics, per_1k,
                      parts, None if spread is None else float(spread))


def objective(task: str, evaluation: Evaluation) -> float:
    """What the search maximises within a family: the fidelity, except for classifiers with
    probabilities, where it is minus the log loss. A proper score selects hyperparameters on
    far less noise than balanced accuracy on a few rare-class rows, and rewards probabilities
    the tuned decision rule can use; families are still compared on fidelity."""
    if task == "classify" and "log_loss" in evaluation.metrics:
        return -float(evaluation.metrics["log_loss"])
    return evaluation.fidelity
