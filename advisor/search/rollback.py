"""A generator that copies its training rows is rolled back to an earlier checkpoint.

Trained longer, a generator matches its training rows ever more closely, and past some point it
reproduces them: its memorisation share on the validation rows rises above held-out real rows'
and its fidelity is cut for it (advisor.criteria.unsupervised). A longer budget then returns a
worse generator than a short one. The torch loop keeps the weights at epochs 1, 2, 4, 8, ...
(advisor.nn.training); where the final weights are cut for memorisation, those checkpoints are
scored the same way, latest first, until one is not cut, and the trial keeps the best scored.
Its training length (the estimator's epochs) is set to that checkpoint's epoch, so that the
refit on all rows, and the family's later trials, stop there too: the training length is chosen
by held-out fidelity and memorisation, not by the training loss.
"""

from __future__ import annotations

import time

from advisor.runtime.watchdog import watchdog

MAX_CHECKPOINTS = 4  # earlier checkpoints scored at most, latest first
EPOCH_PARAMS = ("epochs", "max_epochs")  # where a family names no resource_param


def copies(result) -> bool:
    """Whether a scored generator was cut for reproducing its training rows."""
    return (result.metrics or {}).get("memorization_penalty", 0.0) > 0


def epochs_param(family, estimator) -> str | None:
    """The estimator parameter that sets how many epochs it trains, if it has one."""
    named = getattr(family, "resource_param", None)
    params = estimator.get_params(deep=False)
    return next((name for name in (named, *EPOCH_PARAMS) if name and name in params), None)


def roll_back(estimator, result, curve: dict | None, family, score, eval_seconds: float, stop_at: float):
    """Score the checkpoints of a generator cut for memorisation; keep the best scored.

    `score()` scores `estimator` as it stands on the validation rows. Returns the kept result
    and the epoch of the checkpoint rolled back to (None where the final weights stay) with the
    training seconds it had saved at (None likewise).
    """
    history = (curve or {}).get("history")
    name = epochs_param(family, estimator)
    if not copies(result) or name is None or history is None or history.module is None or len(history.snapshots) < 2:
        return result, None, None
    module = history.module
    final = {k: v.detach().clone() for k, v in module.state_dict().items()}
    best, best_epoch, best_weights, best_seconds = result, None, None, None
    for epoch, seconds, weights in reversed(history.snapshots[:-1][-MAX_CHECKPOINTS:]):
        if time.monotonic() + 1.5 * eval_seconds > stop_at:
            break
        module.load_state_dict(weights)
        try:
            with watchdog(max(stop_at - time.monotonic(), 0.1), "scoring an earlier checkpoint"):
                scored = score()
        except Exception:  # noqa: BLE001 - a checkpoint that cannot be scored (or is too slow to) is passed over
            continue
        if scored.fidelity > best.fidelity:
            best, best_epoch, best_weights, best_seconds = scored, epoch, weights, seconds
        if not copies(scored):
            break  # earlier checkpoints are less trained still
    module.load_state_dict(best_weights if best_weights is not None else final)
    if best_epoch is not None:
        estimator.set_params(**{name: int(best_epoch)})
        history.stopped_by, history.best_epoch = "early_stopped", best_epoch - 1
        curve.update(stopped_by="early_stopped", selected_epoch=int(best_epoch),
                     selected_by="held-out fidelity: the final weights reproduced training rows")
    return best, best_epoch, best_seconds
