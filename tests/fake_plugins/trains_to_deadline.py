"""A family that trains by epochs until its deadline (a thousand epochs of 0.03 s would take 30 s),
as a deep family cut short by a small budget does: its refit on all rows trains as long as the
budget allows."""

import time

from advisor import Interpretability, hookimpl
from advisor.nn.training import train_epochs
from fake_plugins.fakes import MajorityVote, fake_family


class _TrainsToDeadline(MajorityVote):
    def __init__(self, max_epochs=1000):
        self.max_epochs = max_epochs

    def _train(self, X, y):
        self.history_ = train_epochs(lambda epoch: time.sleep(0.03) or 1.0 / (epoch + 1), int(self.max_epochs))


@hookimpl
def register_families(register):
    register(fake_family(
        "trains_to_deadline", _TrainsToDeadline, title="Majority vote trained by epochs to its deadline", cost="high",
        interpretability=Interpretability(1.0, "predicts the most frequent class"),
        default_params=lambda self, task, profile: {"max_epochs": 1000},
    ))
