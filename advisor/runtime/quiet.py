"""Optuna's log level for the span of a run, given back afterwards.

Optuna logs every trial at INFO; a run sets it to WARNING so its own progress display is the
only output, and restores what the user had set once the run is over.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def optuna_warnings_only():
    """Optuna logs warnings only inside the body; the caller's verbosity comes back after."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)
