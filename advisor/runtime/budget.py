"""Deadlines that reach inside training loops.

The search sets a deadline (and the Optuna trial, for pruning) around every `fit` with
`fit_scope`; estimators read them with `time_left()` and `current_trial()` without the deadline
being one of their hyperparameters. Outside a scope there is no deadline and no trial.

A repeatable scope (`advisor recommend --max-trials`) trains by counts, not by the clock:
`time_left()` is infinite inside it, so epochs, learning-rate schedules and phase lengths never
depend on how fast the machine happened to be. The search's watchdog still stops a fit that
outlives its time slice (it is then reported failed), so the budget holds either way.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("advisor_deadline", default=None)
_trial: ContextVar[object | None] = ContextVar("advisor_trial", default=None)
_repeatable: ContextVar[bool] = ContextVar("advisor_repeatable", default=False)
_curves: ContextVar[list | None] = ContextVar("advisor_curves", default=None)
_run_scoring: ContextVar[bool] = ContextVar("advisor_run_scoring", default=False)


@contextmanager
def run_scoring():
    """The run's own scoring (trials, the verdict, the test rows): torch families may predict in
    float32 there. The model a run returns predicts in float64 on a CPU, so that a row's answer
    does not depend on the batch it came in (float32 kernels change with the batch size in the
    last bits); a score does not care, and float64 convolutions on a CPU are several times slower
    (1,000 28x28 images: 3 s against 0.5 s), enough to fail an image family's first trial."""
    token = _run_scoring.set(True)
    try:
        yield
    finally:
        _run_scoring.reset(token)


def in_run_scoring() -> bool:
    return _run_scoring.get()


@contextmanager
def fit_scope(deadline: float | None = None, trial=None, *, repeatable: bool | None = None, curves: list | None = None):
    """Run the body with `deadline` (a `time.monotonic()` instant) and `trial` in effect.

    A nested scope can only shorten the deadline, never extend it; it inherits repeatability
    and the list that learning curves are recorded into (`curves`) unless given its own.
    """
    outer = _deadline.get()
    if outer is not None and (deadline is None or outer < deadline):
        deadline = outer
    token_d = _deadline.set(deadline)
    token_t = _trial.set(trial)
    token_r = _repeatable.set(_repeatable.get() if repeatable is None else bool(repeatable))
    token_c = _curves.set(_curves.get() if curves is None else curves)
    try:
        yield
    finally:
        _deadline.reset(token_d)
        _trial.reset(token_t)
        _repeatable.reset(token_r)
        _curves.reset(token_c)


def record_curve(history) -> None:
    """Hand a training loop's learning curve to whoever runs the fit (the search keeps the
    curve of every trial); outside a recording scope it goes nowhere."""
    curves = _curves.get()
    if curves is not None:
        curves.append(history)


def deadline() -> float | None:
    """The current deadline, or None (outside a scope, or in a repeatable one)."""
    return None if _repeatable.get() else _deadline.get()


def repeatable() -> bool:
    """Whether the current fit must train by counts only (the clock must not decide anything)."""
    return _repeatable.get()


def time_left() -> float:
    """Seconds until the current deadline (infinite outside a scope, or in a repeatable one)."""
    d = deadline()
    return math.inf if d is None else d - time.monotonic()


def current_trial():
    """The Optuna trial the current fit reports to, or None."""
    return _trial.get()
