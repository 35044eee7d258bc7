"""Deadlines that reach inside training loops.

The search sets a deadline (and the Optuna trial, for pruning) around every `fit` with
`fit_scope`; estimators read them with `time_left()` and `current_trial()` without the deadline
being one of their hyperparameters. Outside a scope there is no deadline and no trial.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("advisor_deadline", default=None)
_trial: ContextVar[object | None] = ContextVar("advisor_trial", default=None)


@contextmanager
def fit_scope(deadline: float | None = None, trial=None):
    """Run the body with `deadline` (a `time.monotonic()` instant) and `trial` in effect.

    A nested scope can only shorten the deadline, never extend it.
    """
    outer = _deadline.get()
    if outer is not None and (deadline is None or outer < deadline):
        deadline = outer
    token_d = _deadline.set(deadline)
    token_t = _trial.set(trial)
    try:
        yield
    finally:
        _deadline.reset(token_d)
        _trial.reset(token_t)


def deadline() -> float | None:
    return _deadline.get()


def time_left() -> float:
    """Seconds until the current deadline (infinite outside a scope)."""
    d = _deadline.get()
    return math.inf if d is None else d - time.monotonic()


def current_trial():
    """The Optuna trial the current fit reports to, or None."""
    return _trial.get()
