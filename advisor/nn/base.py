"""The one base of every torch family's estimators.

A family brings its module, its loss and what one epoch does; `TorchEstimator` brings the rest
the families used to write each for themselves: the device, one rule for the rows held out for
early stopping, the epoch loop (`advisor.nn.training.train_epochs`: the search's deadline,
Optuna's pruning reports, early stopping, the learning-curve record and its checkpoints), the
training record kept as `history_`, and saving without pickle (`TorchStateMixin`).

Why not skorch, which wraps a torch module as a scikit-learn estimator: it saves by pickling
(advisor loads only files that name no code), its loop knows no deadline, Optuna trial or
checkpoint schedule, and the families here train RBM stacks layer by layer, diffusion with
weight averaging and energy models by Langevin sampling, which its one-criterion loop fits only
by being overridden; docs/plugins.md says more.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from advisor.nn.persist import TorchStateMixin

MIN_HOLDOUT_ROWS = 40  # below this many rows every row trains (the training loss is the score)
MIN_VALID_ROWS = 4  # ... and no fewer validation rows than this are held out


class TorchEstimator(TorchStateMixin, BaseEstimator):
    """Device, held-out rows, the epoch loop and the training record for a torch estimator.

    Subclasses keep their explicit scikit-learn `__init__` (see `advisor.nn.params.declared_init`)
    with `device`, `random_state` and, where they stop early, `validation_fraction` and `patience`;
    they implement `_build_module(attr)` for persistence.
    """

    def _start_device(self):
        """The torch device of this fit (`device`: auto, cpu, cuda, cuda:N), kept as `device_`."""
        from advisor.nn.device import resolve_device

        device = resolve_device(self.device)
        self.device_ = str(device)
        return device

    def _holdout(self, n: int, seed, *, strata=None, cap: int | None = None, fraction: float | None = None):
        """(training rows, validation rows) for early stopping, one rule for every family.

        `fraction` (default: `validation_fraction`) of the rows, at most `cap`, stratified by
        `strata` (class labels) when given; none below MIN_HOLDOUT_ROWS rows or MIN_VALID_ROWS
        validation rows, nor from a class with fewer than MIN_VALID_ROWS rows.
        """
        from advisor.nn.seeding import derive_seed, numpy_rng

        fraction = float(getattr(self, "validation_fraction", 0.1) if fraction is None else fraction)
        n_valid = int(round(n * fraction))
        if cap is not None:
            n_valid = min(n_valid, int(cap))
        everything = np.arange(n)
        if n < MIN_HOLDOUT_ROWS or n_valid < MIN_VALID_ROWS or fraction <= 0:
            return everything, np.zeros(0, dtype=int)
        rng = numpy_rng(derive_seed(seed, "holdout"))
        if strata is None:
            valid = rng.permutation(n)[:n_valid]
        else:
            strata = np.asarray(strata)
            valid = []
            for value in np.unique(strata):
                rows = np.flatnonzero(strata == value)
                if len(rows) >= MIN_VALID_ROWS:
                    valid.extend(rng.permutation(rows)[: int(round(len(rows) * n_valid / n))])
            valid = np.asarray(valid, dtype=int)
        valid = np.sort(valid)
        return np.setdiff1d(everything, valid), valid

    def _run_epochs(self, run_epoch, epochs: int, *, validate=None, module=None, snapshot=None, patience="estimator's"):
        """Train through the shared loop. Early stopping after `patience` epochs without gain
        (by default the estimator's own `patience`; None never stops early) watches the
        validation score, or the training loss where no rows were held out."""
        from advisor.nn.training import train_epochs

        if patience == "estimator's":
            patience = getattr(self, "patience", None)
        return train_epochs(run_epoch, int(epochs), validate=validate, module=module, snapshot=snapshot,
                            patience=None if patience is None else int(patience))

    @staticmethod
    def _record(history, **extra) -> dict:
        """The training record kept as `history_`: what the loop saw, plus the family's own facts
        (never the checkpoint weights, which only the search's learning curve needs)."""
        return {"epochs": history.epochs, "losses": [float(v) for v in history.losses],
                "scores": [float(v) for v in history.scores], "seconds": float(history.seconds),
                "stopped_by": history.stopped_by, "best_epoch": int(history.best_epoch), **extra}
