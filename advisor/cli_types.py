"""The command line's own click types: the group that decides how `advisor` exits, and the
`--device` and `--budget` parameters."""

from __future__ import annotations

import sys

import click

from advisor.errors import InputError
from advisor.settings import settings


class AdvisorGroup(click.Group):
    """The `advisor` group: click's error handling, plus exit codes for interrupts and bugs."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the command line and decide how it exits, in one place.

        Click runs without its standalone mode so that a Ctrl-C reaches us as the `Abort` it
        raises (click alone would exit 1). Usage errors and `InputError` print one line and
        exit 2; Ctrl-C and SIGTERM exit 130 and 143; an unexpected exception prints one line and
        exits 1 instead of a traceback.
        """
        if not standalone_mode:  # a caller that handles click's exceptions itself
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `advisor` alone: the help, as click shows it
            exc.show()
            code = exc.exit_code
        except click.UsageError as exc:  # one line, with where to look, instead of click's usage block
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except click.Abort as exc:
            from advisor.runtime.interrupts import exit_code

            cause = exc.__cause__
            click.echo("Interrupted." if isinstance(cause, KeyboardInterrupt) else "Aborted!", err=True)
            code = exit_code(cause) if isinstance(cause, KeyboardInterrupt) else 1
        except Exception as exc:  # noqa: BLE001 - a bug in advisor or a plugin: one line, not a traceback
            if settings().debug:
                raise
            message = " ".join(str(exc).split())[:300]
            click.echo(f"Error: internal error ({type(exc).__name__}: {message}); set ADVISOR_DEBUG=1 for details", err=True)
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


class DeviceParam(click.ParamType):
    """`--device`: auto, cpu, cuda or cuda:N, spelled as the Python API accepts it."""

    name = "device"

    def get_metavar(self, param, ctx=None):
        return "[auto|cpu|cuda|cuda:N]"

    def convert(self, value, param, ctx):
        from advisor.nn.device import parse_device

        try:
            return parse_device(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(d) for d in ("auto", "cpu", "cuda") if d.startswith(incomplete)]


DEVICE = DeviceParam()


class BudgetParam(click.ParamType):
    """`--budget`: seconds, or `auto` (the default budget, plus the budget at which the ranking
    is expected to settle)."""

    name = "budget"

    def get_metavar(self, param, ctx=None):
        return "[SECONDS|auto]"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) or str(value).strip().lower() == "auto":
            return value if isinstance(value, (int, float)) else "auto"
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of seconds or 'auto'", param, ctx)
