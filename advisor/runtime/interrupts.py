"""Ctrl-C and SIGTERM during a search: stop, keep what finished, report it.

The first SIGINT (KeyboardInterrupt) or SIGTERM stops the search at once; the trials that
finished are scored and ranked, the ranking is printed and saved (with --json), and the command
exits with 130 (SIGINT) or 143 (SIGTERM). A persistent storage keeps the finished trials for a
resumed run. A second signal while that happens aborts immediately.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like a KeyboardInterrupt so that the same code paths stop the search."""


def exit_code(exc: BaseException) -> int:
    return 143 if isinstance(exc, Terminated) else 130


def signal_name(exc: BaseException) -> str:
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


@contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises `Terminated` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
