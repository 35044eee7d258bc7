"""Stopping a trial that ignores its deadline.

Well-behaved families stop at the deadline themselves (`advisor.runtime.budget`). For the others — a
plugin stuck in a Python loop, or blocked in a C call such as a sleep — the search arms a
real-time timer (`setitimer`) for the trial's deadline plus a grace period. When it fires, the
signal handler raises `TrialTimeout` in the main thread: Python code is interrupted at its next
bytecode, and a blocking C call that returns on a signal (sleep, I/O waits) returns at once
and raises there. The cost is one system call per trial.

An import is never interrupted: a module stopped halfway through its first import (torch, say,
which a family's first estimator imports) stays half-initialised in `sys.modules`, and every
later import of it fails or crashes the process. When the timer fires inside an import, it is
armed again for a moment later, so the trial stops once the import is done.

Limits: it works in the main thread on POSIX systems only (elsewhere trials run without it),
and C code that neither returns on a signal nor releases control (a tight loop in a compiled
extension) cannot be stopped from inside the process.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from advisor.errors import FamilyError


IMPORT_RETRY_S = 0.05  # how soon the timer fires again when it found an import under way


class TrialTimeout(FamilyError):
    """A trial ran past its deadline plus the grace period and was stopped."""


def importing(frame) -> bool:
    """Whether the interrupted code is inside an import (a frame of importlib's bootstrap on its stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def watchdog(seconds: float, what: str = "trial", why: str = "ignored its deadline"):
    """Raise `TrialTimeout` in the body if it is still running after `seconds`."""
    if not available() or seconds <= 0 or seconds == float("inf"):
        yield
        return

    def on_alarm(signum, frame):
        if importing(frame):
            signal.setitimer(signal.ITIMER_REAL, IMPORT_RETRY_S)
            return
        raise TrialTimeout(f"{what} {why} and was stopped after {seconds:.1f}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
