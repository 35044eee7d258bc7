"""A trial's learning curve, whatever trained it: the shared torch loop or an iterative classic model.

The torch families' loop (advisor.nn.training) hands its `History` to the search's fit scope;
scikit-learn's iterative models keep theirs on the estimator (boosting iterations and their
validation scores, EM's convergence flag). `trial_curve` turns either into one record: how
training stopped (`max_epochs`, `early_stopped`, `deadline`, or EM's `converged`) and the curve
against epochs or iterations and seconds. A run is *budget-limited* when its deadline cut it, or
when it ran all of the epochs the search gave it because of the time (advisor.search); more
budget would train it longer, so its fidelity is forecast (advisor.judging.forecast).
"""

from __future__ import annotations

import numpy as np


def _final(est):
    while hasattr(est, "steps") or hasattr(est, "estimator_"):
        est = est.steps[-1][1] if hasattr(est, "steps") else est.estimator_
    return est


def trial_curve(histories: list, estimator, fit_seconds: float | None = None) -> dict | None:
    """The curve of the training run that made `estimator` (the last one that has weights to
    score, else the last recorded), or that of its iterative classic model; None if neither."""
    if histories:
        with_weights = [h for h in histories if h.snapshots]
        history = (with_weights or histories)[-1]
        out = history.curve()
        out["history"] = history
        return out
    model = _final(estimator)
    n_iter = getattr(model, "n_iter_", None)
    if n_iter is None:
        return None
    scores = getattr(model, "validation_score_", None)
    if scores is None or len(scores) == 0:
        scores = getattr(model, "train_score_", None)
    max_iter = getattr(model, "max_iter", None)
    if hasattr(model, "converged_"):
        stopped = "converged" if model.converged_ else "max_iter"
    elif max_iter is not None and int(np.max(n_iter)) < int(max_iter):
        stopped = "early_stopped"
    else:
        stopped = "max_epochs"
    iters = int(np.max(n_iter))
    out = {"resource": "iteration", "epochs": list(range(1, iters + 1)), "stopped_by": stopped}
    if scores is not None and len(scores):
        out["validation_score"] = [round(float(v), 6) for v in np.asarray(scores)[1 : iters + 1]]
    if fit_seconds:
        out["seconds"] = [round(fit_seconds * (i + 1) / iters, 3) for i in range(iters)]
    return out


def budget_limited(curve: dict | None) -> bool:
    """Whether more budget would have trained this run longer."""
    return bool(curve) and (curve.get("stopped_by") == "deadline" or bool(curve.get("epochs_from_budget")) and curve.get("stopped_by") == "max_epochs")


def converged(curve: dict | None) -> bool | None:
    """Whether training ended on its own, not for want of time; None without a curve."""
    if curve is None:
        return None
    return not budget_limited(curve)
