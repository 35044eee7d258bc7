"""An epoch loop that stops at the trial deadline and reports to Optuna for pruning.

Families write one function that trains for one epoch and returns its mean loss, and optionally
one that returns a validation score (higher is better). `train_epochs` does the rest: it stops
before an epoch that would overrun the deadline set by the search (`advisor.budget`), reports
each epoch's score to the current Optuna trial and raises `optuna.TrialPruned` when the pruner
says so, stops early when the score stops improving, restores the best weights, and fails loudly
on a NaN loss.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from advisor import budget
from advisor.errors import FamilyError


@dataclass
class History:
    """What happened during training (kept on the estimator as `history_`)."""

    losses: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_by: str = "max_epochs"  # max_epochs | deadline | early_stopping
    best_epoch: int = -1

    @property
    def epochs(self) -> int:
        return len(self.losses)


def train_epochs(
    run_epoch: Callable[[int], float],
    max_epochs: int,
    *,
    validate: Callable[[], float] | None = None,
    module=None,
    patience: int | None = None,
    min_delta: float = 1e-4,
    min_epochs: int = 1,
) -> History:
    """Train for up to `max_epochs` epochs, honouring the deadline of the current fit scope.

    Args:
        run_epoch: trains one epoch (its argument is the epoch index) and returns the mean loss.
        validate: returns a score to maximise; without it the negative loss is used.
        module: a torch module whose best weights are restored at the end (with `validate`).
        patience: epochs without improvement before stopping; None never stops early.
        min_epochs: epochs run even when the deadline is near (at least one, so a fitted model
            always exists; its duration is the caller's to keep small).
    """
    history = History()
    trial = budget.current_trial()
    best, best_state = -math.inf, None
    start = time.monotonic()
    slowest = 0.0
    for epoch in range(max_epochs):
        if epoch >= min_epochs and budget.time_left() < slowest * 1.2:
            history.stopped_by = "deadline"
            break
        t0 = time.monotonic()
        loss = float(run_epoch(epoch))
        slowest = max(slowest, time.monotonic() - t0)
        if not math.isfinite(loss):
            raise FamilyError(f"training diverged: loss is {loss} at epoch {epoch}")
        history.losses.append(loss)
        score = float(validate()) if validate is not None else -loss
        if not math.isfinite(score):
            score = -math.inf
        history.scores.append(score)
        if trial is not None and math.isfinite(score):
            trial.report(score, epoch)
            if trial.should_prune():
                import optuna

                history.seconds = time.monotonic() - start
                raise optuna.TrialPruned(f"pruned at epoch {epoch} with score {score:.4g}")
        if score > best + min_delta:
            best, history.best_epoch = score, epoch
            if module is not None and validate is not None:
                best_state = copy.deepcopy(module.state_dict())
        elif patience is not None and epoch - history.best_epoch >= patience:
            history.stopped_by = "early_stopping"
            break
        if budget.time_left() <= 0:
            history.stopped_by = "deadline"
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    history.seconds = time.monotonic() - start
    return history


def iterate_minibatches(n: int, batch_size: int, generator=None, shuffle: bool = True):
    """Index tensors for one epoch; stops early (after at least one batch) at the deadline."""
    import torch

    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for i, start in enumerate(range(0, n, batch_size)):
        if i > 0 and budget.time_left() <= 0:
            return
        yield order[start : start + batch_size]
