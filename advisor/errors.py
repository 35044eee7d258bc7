"""Errors that reach the user.

`InputError` means "your data or your options are wrong". It is a `click.ClickException` with
exit code 2, so the CLI needs no handler of its own: click prints `Error: <message>` on one line
and exits with 2, as it does for its own usage errors. For library users it stays an ordinary
`ValueError`. Anything else escaping the core is a bug in `advisor` or in a plugin.
"""

from __future__ import annotations

import click


class AdvisorError(Exception):
    """Base class of every error `advisor` raises on purpose."""


class InputError(AdvisorError, click.ClickException, ValueError):
    """Bad input or bad usage: a one-line message, exit code 2, no traceback."""

    exit_code = 2

    def __init__(self, message: str):
        # One line, always: a multi-line message would read like a traceback.
        super().__init__(" ".join(str(message).split()))


class FamilyError(AdvisorError):
    """A family misbehaved (raised, returned NaN, wrong shape); the run goes on without it."""


class BudgetExhausted(AdvisorError):
    """Raised inside a fit when its deadline has passed and nothing useful was learned."""
