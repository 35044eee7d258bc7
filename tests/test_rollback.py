"""A generator cut for reproducing its training rows goes back to an earlier checkpoint."""

from __future__ import annotations

import pytest

from advisor.criteria.base import Evaluation
from advisor.nn.training import History
from advisor.search.rollback import roll_back

torch = pytest.importorskip("torch")


class Generator:
    """A stand-in estimator: one weight, trained for `epochs` epochs."""

    def __init__(self, epochs=16):
        self.epochs = epochs
        self.net = torch.nn.Linear(1, 1, bias=False)

    def get_params(self, deep=False):
        return {"epochs": self.epochs}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self


def trained(epochs=(1, 2, 4, 8, 16)):
    """A generator whose weight equals its epoch, with a checkpoint at each of `epochs`."""
    est = Generator(epochs=epochs[-1])
    history = History(stopped_by="deadline")
    history.module = est.net
    for epoch in epochs:
        history.snapshots.append((epoch, float(epoch), {"weight": torch.full((1, 1), float(epoch))}))
    with torch.no_grad():
        est.net.weight.fill_(float(epochs[-1]))
    return est, {"stopped_by": "deadline", "history": history}


def scorer(est, fidelity_at, copies_from):
    """Score the generator as its weight stands: fidelity_at(epoch); cut from `copies_from` on."""
    def score():
        epoch = int(est.net.weight.item())
        return Evaluation(fidelity_at(epoch), None, {"memorization_penalty": 0.3 if epoch >= copies_from else 0.0}, 0.0)
    return score


class Family:
    resource_param = "epochs"


def test_a_copying_generator_goes_back_to_the_latest_checkpoint_that_does_not_copy():
    est, curve = trained()
    score = scorer(est, lambda e: {16: 0.55, 8: 0.60, 4: 0.80, 2: 0.70, 1: 0.5}[e], copies_from=8)
    result, epoch, seconds = roll_back(est, score(), curve, Family(), score, 0.0, float("inf"))
    assert epoch == 4 and seconds == 4.0 and result.fidelity == 0.80
    assert est.net.weight.item() == 4.0  # the weights the trial keeps are that checkpoint's
    assert est.epochs == 4  # the refit on all rows, and later trials, train as long
    assert curve["stopped_by"] == "early_stopped" and curve["selected_epoch"] == 4


def test_a_generator_that_does_not_copy_keeps_its_final_weights():
    est, curve = trained()
    score = scorer(est, lambda e: e / 20, copies_from=99)
    calls = []
    result, epoch, seconds = roll_back(est, score(), curve, Family(), lambda: calls.append(1) or score(), 0.0, float("inf"))
    assert epoch is None and not calls and est.epochs == 16 and est.net.weight.item() == 16.0
    assert curve["stopped_by"] == "deadline"


def test_when_every_checkpoint_scores_lower_the_final_weights_stay():
    est, curve = trained()
    score = scorer(est, lambda e: 0.9 if e == 16 else 0.1, copies_from=1)
    result, epoch, seconds = roll_back(est, score(), curve, Family(), score, 0.0, float("inf"))
    assert epoch is None and result.fidelity == 0.9 and est.net.weight.item() == 16.0 and est.epochs == 16


def test_no_checkpoint_is_scored_without_the_time_to_score_it():
    import time

    est, curve = trained()
    score = scorer(est, lambda e: 1.0 - e / 20, copies_from=2)
    result, epoch, seconds = roll_back(est, score(), curve, Family(), score, eval_seconds=5.0, stop_at=time.monotonic() + 1.0)
    assert epoch is None and est.net.weight.item() == 16.0
