"""Where a run's seconds went, part by part (the JSON's `search.phases_s`)."""

from __future__ import annotations

import time


class PhaseClock:
    """Where a run's seconds went: reading and profiling the data, the search (its one-off
    set-up apart), the verdict, the test rows, the refit and the previews (or the untuned
    fallback where no trial finished). The JSON carries them
    (`search.phases_s`), so a run that ends early or late says which part took the time."""

    def __init__(self, t0: float):
        self.last = time.monotonic()
        self.spent = {"preparation": self.last - t0}

    def mark(self, phase: str) -> None:
        now = time.monotonic()
        self.spent[phase] = now - self.last
        self.last = now

    def seconds(self, set_up: float = 0.0) -> dict:
        spent = dict(self.spent)
        if "search" in spent:
            spent["search"] -= set_up
            spent = {"preparation": spent.pop("preparation"), "set_up": set_up, **spent}
        return {phase: round(max(s, 0.0), 3) for phase, s in spent.items()}
