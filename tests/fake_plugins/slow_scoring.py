"""A family that trains at once and answers its first rows at once, then takes a minute for every
later answer: its scoring on the held-out rows would overrun any small budget."""

import time

from advisor import Interpretability, hookimpl
from fake_plugins.fakes import MajorityVote, fake_family


class _SlowToAnswer(MajorityVote):
    def __init__(self, stall_after=2, stall_seconds=60.0):
        self.stall_after = stall_after
        self.stall_seconds = stall_seconds

    def _train(self, X, y):
        self.answers_ = 0

    def _answer(self):
        self.answers_ += 1
        if self.answers_ > self.stall_after:
            time.sleep(self.stall_seconds)


@hookimpl
def register_families(register):
    register(fake_family(
        "slow_scoring", _SlowToAnswer, title="Majority vote that answers slowly after validation", cost="low",
        interpretability=Interpretability(1.0, "predicts the most frequent class"),
    ))
