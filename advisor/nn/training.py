"""An epoch loop that stops at the trial deadline and reports to Optuna for pruning.

Families write one function that trains for one epoch and returns its mean loss, and optionally
one that returns a validation score (higher is better). `train_epochs` does the rest: it stops
before an epoch that would overrun the deadline set by the search (`advisor.runtime.budget`), reports
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

from advisor.errors import FamilyError
from advisor.runtime import budget


@dataclass
class History:
    """What happened during training (kept on the estimator as `history_`), and the learning
    curve the search reads: each epoch's loss, validation score and elapsed seconds, how the
    loop stopped, and copies of the weights at epochs 1, 2, 4, 8, ... so that the model can be
    scored as it was then (advisor.judging.forecast extrapolates those scores)."""

    losses: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_by: str = "max_epochs"  # max_epochs (ran them all) | early_stopped (its score stopped improving) | deadline
    best_epoch: int = -1
    epoch_seconds: list[float] = field(default_factory=list)  # elapsed seconds at each epoch's end
    snapshots: list = field(default_factory=list, repr=False)  # (epoch, seconds, weights) at checkpoints
    module: object = field(default=None, repr=False, compare=False)  # the module the snapshots fit

    @property
    def epochs(self) -> int:
        return len(self.losses)

    def curve(self) -> dict:
        """The learning curve as plain lists (the JSON document's form)."""
        return {"resource": "epoch", "epochs": list(range(1, self.epochs + 1)), "seconds": [round(s, 3) for s in self.epoch_seconds],
                "validation_score": [round(v, 6) if math.isfinite(v) else None for v in self.scores], "stopped_by": self.stopped_by}


def is_checkpoint(epoch: int) -> bool:
    """Epochs 1, 2, 4, 8, ... (counted from 1): a curve's shape at a cost that grows as log(epochs)."""
    n = epoch + 1
    return n & (n - 1) == 0


def train_epochs(
    run_epoch: Callable[[int], float],
    max_epochs: int,
    *,
    validate: Callable[[], float] | None = None,
    module=None,
    patience: int | None = None,
    min_delta: float = 1e-4,
    min_epochs: int = 1,
    snapshot=None,
) -> History:
    """Train for up to `max_epochs` epochs, honouring the deadline of the current fit scope.

    Args:
        run_epoch: trains one epoch (its argument is the epoch index) and returns the mean loss.
        validate: returns a score to maximise; without it the negative loss is used.
        module: a torch module whose best weights are restored at the end (with `validate`).
        patience: epochs without improvement before stopping; None never stops early.
        min_epochs: epochs run even when the deadline is near (at least one, so a fitted model
            always exists; its duration is the caller's to keep small).
        snapshot: the module the fitted estimator predicts with (default: `module`); its weights
            are copied at checkpoint epochs for the learning curve.
    """
    history = History()
    history.module = snapshot if snapshot is not None else module
    trial = budget.current_trial()
    best, best_state = -math.inf, None
    start = time.monotonic()
    slowest = 0.0
    try:
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
            history.epoch_seconds.append(time.monotonic() - start)
            if history.module is not None and is_checkpoint(epoch):
                history.snapshots.append((epoch + 1, history.epoch_seconds[-1], _weights(history.module)))
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
                history.stopped_by = "early_stopped"
                break
            if budget.time_left() <= 0:
                history.stopped_by = "deadline"
                break
    finally:
        history.seconds = time.monotonic() - start
        budget.record_curve(history)
    if best_state is not None:
        module.load_state_dict(best_state)
    if history.module is not None and history.epochs and (not history.snapshots or history.snapshots[-1][0] != history.epochs):
        history.snapshots.append((history.epochs, history.epoch_seconds[-1], _weights(history.module)))
    return history


def _weights(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def iterate_minibatches(n: int, batch_size: int, generator=None, shuffle: bool = True):
    """Index tensors for one epoch; stops early (after at least one batch) at the deadline."""
    import torch

    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for i, start in enumerate(range(0, n, batch_size)):
        if i > 0 and budget.time_left() <= 0:
            return
        yield order[start : start + batch_size]


def minibatch_pass(optimizer, n: int, batch_size: int, loss_of, generator=None, min_rows: int = 1) -> float:
    """One epoch of optimiser steps over `n` rows: `loss_of(idx)` gives a minibatch's mean loss;
    batches of fewer than `min_rows` rows are skipped (batch normalisation needs two). Stops at
    the deadline like `iterate_minibatches`. Returns the mean loss per row."""
    total, rows = 0.0, 0
    for idx in iterate_minibatches(n, batch_size, generator=generator):
        if len(idx) < min_rows:
            continue
        loss = loss_of(idx)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
        rows += len(idx)
    return total / max(rows, 1)
