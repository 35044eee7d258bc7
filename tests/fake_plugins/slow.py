"""A family whose every trial takes about a second (it honours deadlines): searches with it
are still running when a test interrupts them."""

import time

from advisor import Interpretability, hookimpl

from advisor.runtime import budget
from fake_plugins.fakes import MajorityVote, fake_family


class _Slow(MajorityVote):
    def __init__(self, seconds=1.0):
        self.seconds = seconds

    def _train(self, X, y):
        time.sleep(max(0.0, min(self.seconds, budget.time_left())))


@hookimpl
def register_families(register):
    register(fake_family(
        "slow", _Slow, title="Slow majority vote",
        interpretability=Interpretability(1.0, "predicts the most frequent class"),
        search_space=lambda self, trial, task, profile: {"seconds": trial.suggest_float("seconds", 0.8, 1.2)},
    ))
