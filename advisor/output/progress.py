"""Progress of a search on stderr: a live line on a terminal, plain lines in a log."""

from __future__ import annotations

import math
import sys


class SearchProgress:
    """Callable that the search feeds with trial events; use as a context manager."""

    def __init__(self, task: str, quiet: bool = False, stream=None):
        self.task = task
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.live = None
        self.trials = 0

    def __enter__(self):
        if not self.quiet and self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live("", console=Console(file=self.stream), transient=True, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)
            self.live = None
        return False

    def __call__(self, event: dict) -> None:
        if self.quiet:
            return
        best = event.get("best")
        best_text = f"{best:.3f}" if best is not None and math.isfinite(best) else "-"
        left = max(event.get("time_left", 0.0), 0.0)
        trial = f"trial {event['trial'] + 1}" + (f" (best configuration, {event['promotion']} epochs)" if event.get("promotion") else "")
        if event["event"] == "trial_start":
            text = f"{self.task}: {event['family']} · {trial} · trials done {self.trials} · best {best_text} · {left:.0f}s left"
            if self.live is not None:
                self.live.update(text)
            return
        self.trials += 1
        improved = event.get("value") is not None and event["value"] == best
        if self.live is not None or not (event["trial"] == 0 or improved or event["state"] == "failed"):
            return  # in a log, only first trials, improvements and failures
        state = event["state"]
        value = f" {event['value']:.3f}" if event.get("value") is not None else ""
        error = f" ({event['error']})" if event.get("error") else ""
        print(
            f"[{self.task}] {event['family']} {trial}: {state}{value}{error} · best {best_text} · {left:.0f}s left",
            file=self.stream,
            flush=True,
        )
