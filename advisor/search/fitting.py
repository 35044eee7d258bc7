"""Fitting one estimator the way the search does: the run's seed and device, the task's `fit`."""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def configure_estimator(est, *, seed: int, device: str):
    """Give the estimator the run's seed and device when it takes them."""
    try:
        names = est.get_params(deep=False)
    except Exception:  # noqa: BLE001 - not an sklearn estimator; leave it alone
        return est
    updates = {}
    if "random_state" in names and names["random_state"] is None:
        updates["random_state"] = seed
    if "device" in names:
        updates["device"] = device
    if updates:
        est.set_params(**updates)
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):  # seed its last step too
        configure_estimator(est.steps[-1][1], seed=seed, device=device)
    return est


def fit_estimator(est, task: str, X, y):
    if task in ("classify", "regress"):
        return est.fit(X, y)
    return est.fit(X)


def stopped_by_deadline(est) -> bool:
    """Whether an estimator's training (its last step's, in a Pipeline) ended at its deadline."""
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    history = getattr(final, "history_", None)
    stopped = history.get("stopped_by") if isinstance(history, dict) else getattr(history, "stopped_by", None)
    return stopped == "deadline"
