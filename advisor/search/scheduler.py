"""The scheduler: which family gets the next trial, and how much time.

Each family's first estimator is built before any time is handed out (its one-off imports are
nobody's trial time). Families are then taken cheapest first (or the prior's favourites first)
for one trial each, sized so that what one leaves unused flows to the next; then further trials
go to cheap families first and to one family at a time by an upper-confidence rule on the best
validation fidelity (a family whose best run its time cut short gets that run trained again
with more epochs), while a reserve for the verdict, the test rows and the final refit is kept
and re-estimated.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from advisor.criteria import EvalContext
from advisor.data.preparation import Dataset
from advisor.families.contract import DECLARED_UNCERTAINTY
from advisor.judging.curves import budget_limited
from advisor.judging.judge import planned_seconds
from advisor.nn.device import start_cuda
from advisor.runtime.watchdog import watchdog
from advisor.search.records import (
    CHEAP_SHARE,
    CHEAP_TRIALS,
    COST_ORDER,
    MIN_PROMOTION,
    MIN_TRIAL_SECONDS,
    PRIOR_PULL,
    PROMOTION_FACTOR,
    PROMOTION_SLACK,
    VERDICT_SHARE,
    FamilyRun,
    ProgressFn,
    SearchConfig,
    StorageLost,
    params_left,
)
from advisor.data.splits import Splits
from advisor.search.studies import StudyStore
from advisor.search.trials import TrialRunner


class Search(TrialRunner, StudyStore):
    """Runs the trials of every family against one set of splits and one deadline."""

    def __init__(
        self,
        data: Dataset,
        splits: Splits,
        runs: list[FamilyRun],
        config: SearchConfig,
        *,
        end: float,
        progress: ProgressFn | None = None,
    ):
        self.data = data
        self.splits = splits
        self.config = config
        self.runs = plan_order(runs, config.prior_scores)
        self.end = end  # time.monotonic() by which everything, the final refit included, is done
        self.start = time.monotonic()
        self.first_trials_done = False
        self.set_up_seconds = 0.0  # the one-off set-up before the time slices (_load_families)
        self.progress = progress or (lambda event: None)
        self.interrupted: KeyboardInterrupt | None = None
        import os
        import socket

        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.is_worker = False
        self.storage_lost: str | None = None
        self.X_train, self.y_train, _ = splits.take(data, "train")
        self.X_valid, self.y_valid, self.labels_valid = splits.take(data, "valid")
        # A new best must beat the old one by half a standard error of a proportion measured on
        # the validation rows: on small data, hundreds of trials would otherwise pick noise
        # (the winner's curse) over the family's well-tried defaults.
        self.margin = 0.25 / math.sqrt(max(len(self.X_valid), 1))
        self.valid_ctx = EvalContext(
            task=config.task,
            seed=config.seed,
            noise_std=config.noise_std,
            image_shape=data.profile.image_shape,
            modality=data.profile.modality,
            labels=self.labels_valid,
            train_X=self.X_train,
            target=data.conditioned_on,
        )

    # -- time --------------------------------------------------------------------------------
    def reserve(self) -> float:
        """Seconds to keep for scoring on test rows and refitting the winner on all rows."""
        if self.is_worker:
            return 0.0  # a worker only adds trials; the coordinator scores and refits
        ok = [r for r in self.runs if r.best_estimator is not None]
        scoring = sum(r.eval_seconds for r in ok) * 1.5
        verdict = 0.0
        if self.first_trials_done:  # every family's first trial comes before the verdict's folds
            cap = VERDICT_SHARE * (self.end - self.start)
            verdict = min(planned_seconds(ok, self.config.task, len(self.splits.development), len(self.X_valid), self.end - self.start, cap), cap)
        return scoring + verdict + self.refit_reserve(ok) + 0.5

    def refit_reserve(self, ok: list[FamilyRun]) -> float:
        """Seconds kept for refitting the likely winner on all rows (half again its expected
        time), or none where that would not fit in what is left of the whole run: such a refit is
        never made (the search's own model is returned), so keeping time for it would only starve
        the search, down to families that never got a first trial."""
        keep = 1.5 * self.refit_seconds(self.likely_winner(ok))
        return keep if keep < self.end - time.monotonic() else 0.0

    def refit_seconds(self, run: FamilyRun | None) -> float:
        """Expected seconds to refit `run`'s best model on all rows (0 when nothing to refit)."""
        if run is None or run.fit_seconds is None:
            return 0.0
        scale = len(self.data.X) / max(run.fit_rows, 1)
        if scale <= 1:
            return 0.0
        return run.fit_seconds * scale ** (run.growth_exponent or 1.0)

    def likely_winner(self, ok: list[FamilyRun]) -> FamilyRun | None:
        """The family the ranking will most likely put first, from what the search has measured.

        Validation fidelity, the declared uncertainty and interpretability, and the fit time
        against the cheapest, weighed as the ranking weighs them (advisor.judging.ranking); without
        weights, the best validation fidelity.
        """
        weights = self.config.weights
        if not ok or not weights:
            return max(ok, key=lambda r: r.best_value, default=None)
        cheapest = min(max(r.fit_seconds or 0.0, 1.0) for r in ok)

        def score(r: FamilyRun) -> float:
            compute = 1 / (1 + math.log10(max(r.fit_seconds or 0.0, 1.0) / cheapest))
            return (weights.get("fidelity", 0) * r.best_value + weights.get("compute", 0) * compute
                    + weights.get("uncertainty", 0) * DECLARED_UNCERTAINTY[r.family.uncertainty.kind]
                    + weights.get("interpretability", 0) * r.family.interpretability.score)

        return max(ok, key=score)

    def search_left(self) -> float:
        return self.end - self.reserve() - time.monotonic()

    # -- the plan ----------------------------------------------------------------------------
    def run(self) -> list[FamilyRun]:
        """Run the plan; Ctrl-C or SIGTERM stops it and keeps what finished (`interrupted`)."""
        pending = [r for r in self.runs if r.status == "pending"]
        try:
            self._load_families(pending)
            self._plan(pending)
            if self.config.storage is not None and self.storage_lost is None:
                self.gather(pending)
        except StorageLost as exc:
            self.storage_lost = str(exc)
        except KeyboardInterrupt as exc:
            self.interrupted = exc
        for run in pending:
            if run.status != "pending":
                continue
            if run.best_estimator is not None:
                run.status = "ok"
            elif self.interrupted is not None and not any(t.error for t in run.trials):
                run.status, run.reason = "skipped", "the search was interrupted before it finished a trial"
            else:
                run.status = "failed"
                errors = [t.error for t in run.trials if t.error]
                run.reason = errors[-1] if errors else "no trial completed within the budget"
        return self.runs

    def _load_families(self, pending: list[FamilyRun]) -> None:
        """Build each family's default estimator once, and start CUDA where torch will use it,
        before any time slice is handed out.

        The first torch family's first estimator imports torch (seconds, more with a CUDA
        build) and its first fit on a GPU starts the CUDA context. Inside a trial that one-off
        cost came out of the trial's own slice, so that family was judged on a model trained for
        a fraction of its time. Here it is paid once, and the slices share what is left after it.
        A family that fails here (or takes longer than the search has left) fails again in its
        trial, which records why.
        """
        started = time.monotonic()
        task, profile = self.config.task, self.data.profile
        for run in pending:
            if self.search_left() < MIN_TRIAL_SECONDS:
                break  # no time for another first trial: its imports (torch, seconds) would only eat the fallback's time
            try:
                with watchdog(max(self.search_left(), MIN_TRIAL_SECONDS), f"{run.name} set-up", "took longer than the search had"):
                    run.family.make_estimator(task, profile, **run.family.default_params(task, profile))
            except Exception:  # noqa: BLE001 - reported by the family's first trial
                continue
        if self.config.device != "cpu" and "torch" in sys.modules:
            start_cuda(self.config.device)
        self.set_up_seconds += time.monotonic() - started

    def _plan(self, pending: list[FamilyRun]) -> None:
        # Phase 1: one trial each, cheapest first; unused time flows to the next family.
        for i, run in enumerate(pending):
            left = self.search_left()
            if left < MIN_TRIAL_SECONDS:
                run.status, run.reason = "skipped", "budget exhausted before its first trial"
                continue
            slice_s = max(left * self._share(run, pending[i:]), MIN_TRIAL_SECONDS)
            stored = self.import_finished(run)
            if stored:  # resumed: refit the best stored trial instead of repeating the search
                self.adopt(run, stored, slice_s)
                if not params_left(run, self.config):
                    run.exhausted = True
                if run.best_estimator is not None:
                    continue
            # A first trial's scoring time is unknown: the fit gets the part of the slice that leaves
            # room for scoring it on validation rows now and on test rows at the end, at the
            # scoring-to-fit ratio the families before it showed (sampling-heavy generators score slowly).
            trial_s = max(slice_s / (1 + 2 * self._scoring_ratio()), MIN_TRIAL_SECONDS)
            self.run_trial(run, trial_s)
            if run.best_estimator is not None and run.growth_exponent is None and not run.growth_note:
                if self.search_left() > 4 * (run.fit_seconds or 0) + 1:
                    self.probe_growth(run, max(min(trial_s, self.search_left() / 4), MIN_TRIAL_SECONDS))
        # Phase 2: further trials where they pay; the verdict's time is kept from now on.
        self.first_trials_done = True
        while True:
            candidates = [r for r in pending if r.status == "pending" and not r.exhausted and r.trials]
            left = self.search_left()
            if not candidates or left < MIN_TRIAL_SECONDS:
                break
            if self.storage_lost is not None:
                break
            run = self._cheap_first(candidates, left) or self._pick(candidates)
            typical = np.median([t.seconds for t in run.trials]) if run.trials else left
            slice_s = min(left, max(1.5 * typical, left / 4, MIN_TRIAL_SECONDS))
            if typical > left * 1.5:
                run.exhausted = True  # its trials no longer fit in what is left
                continue
            promotion = self._promotion(run, left)
            if promotion is not None:
                epochs, seconds = promotion
                self.run_trial(run, seconds, promote_to=epochs)
                continue
            self.run_trial(run, slice_s)

    def work(self, should_stop) -> int:
        """Worker mode: add trials to the shared studies until the budget ends or the run is over.

        Families are taken in turn, the one with the fewest trials in the storage first, so that
        several workers spread over the families instead of crowding one.
        """
        self.is_worker = True
        pending = [r for r in self.runs if r.status == "pending"]
        done = 0
        try:
            self._load_families(pending)
            while self.search_left() > MIN_TRIAL_SECONDS and not should_stop():
                for run in pending:
                    self.import_finished(run)
                candidates = [r for r in pending if not r.exhausted and params_left(r, self.config)]
                if not candidates:
                    break
                run = min(candidates, key=lambda r: (len(r.trials), COST_ORDER.get(r.family.cost, 1), r.name))
                typical = float(np.median([t.seconds for t in run.trials])) if run.trials else self.search_left()
                self.run_trial(run, min(self.search_left(), max(1.5 * typical, MIN_TRIAL_SECONDS)))
                done += 1
        except KeyboardInterrupt as exc:
            self.interrupted = exc
        return done

    def _promotion(self, run: FamilyRun, left: float) -> tuple[int, float] | None:
        """(epochs, seconds) for training the family's best configuration again with more epochs,
        or None where that does not apply.

        It applies to a family that trains by epochs (`Family.resource_param`) whose best run
        stopped for want of time (advisor.judging.curves.budget_limited): a new configuration at
        the same few epochs is a draw from the search space, mostly a random one while the
        sampler has seen few trials, while the best one trained longer is what the deep families'
        learning curves say pays (the promotion of Hyperband's successive halving, Li et al.,
        2018). It gets up to PROMOTION_FACTOR times the epochs, as many as fit in what is left
        after scoring, and none when fewer than MIN_PROMOTION times fit.
        """
        name = getattr(run.family, "resource_param", None)
        curve = run.best_curve or {}
        if not name or run.promotion_failed or run.best_params is None or not run.fit_seconds or not budget_limited(curve):
            return None
        trained = len(curve.get("epochs") or [])
        if trained < 1:
            return None
        room = left - 2 * run.eval_seconds  # the promotion's scoring and, later, its scoring on the test rows
        factor = min(PROMOTION_FACTOR, room / (PROMOTION_SLACK * run.fit_seconds))
        if factor < MIN_PROMOTION:
            return None
        return max(int(trained * factor), trained + 1), PROMOTION_SLACK * factor * run.fit_seconds

    def _scoring_ratio(self) -> float:
        """Scoring seconds per fit second, the largest seen so far (between 0.25 and 1)."""
        ratios = [r.eval_seconds / max(r.fit_seconds or 0.0, 0.05) for r in self.runs if r.best_estimator is not None and r.eval_seconds]
        return float(min(max(max(ratios, default=0.25), 0.25), 1.0))

    def _share(self, run: FamilyRun, waiting: list[FamilyRun]) -> float:
        """This family's share of the time left among the families still waiting for a first trial.

        Unguided, an equal share. Guided, a share that grows with the prior's score (weights 0.5
        to 1.5), so that a family the prior expects to lose still gets its trial, a shorter one.
        """
        prior = self.config.prior_scores
        if not prior:
            return 1.0 / len(waiting)
        weight = {r.name: 0.5 + prior.get(r.name, 0.5) for r in waiting}
        return weight[run.name] / sum(weight.values())

    def _cheap_first(self, candidates: list[FamilyRun], left: float) -> FamilyRun | None:
        """A family whose trials cost almost nothing gets its first few extra trials before the
        upper-confidence pick: an untuned cheap model (a mixture with the default number of
        components) can look far worse than it is, and tuning it costs seconds."""
        limit = min(CHEAP_SHARE * (self.end - self.start), left / 4)
        cheap = [r for r in candidates if len(r.trials) < CHEAP_TRIALS and float(np.median([t.seconds for t in r.trials])) <= limit]
        return min(cheap, key=lambda r: (len(r.trials), r.name), default=None)

    def _pick(self, candidates: list[FamilyRun]) -> FamilyRun:
        total = sum(len(r.trials) for r in candidates) + 1
        values = [r.best_value for r in candidates if math.isfinite(r.best_value)]
        spread = (max(values) - min(values)) if len(values) > 1 else 0.1
        spread = max(spread, 0.02)

        prior = self.config.prior_scores or {}
        top_prior = max((prior.get(r.name, 0.0) for r in candidates), default=0.0)

        def ucb(r: FamilyRun) -> float:
            best = r.best_value if math.isfinite(r.best_value) else (min(values) if values else 0.0)
            bonus = spread * math.sqrt(2 * math.log(total) / len(r.trials))
            # Guided: exploration leans towards the families the prior favours; measured values
            # still decide once they differ by more than the spread.
            lean = PRIOR_PULL * spread * (prior.get(r.name, top_prior) - top_prior) if prior else 0.0
            return best + bonus + lean

        return max(candidates, key=ucb)


def plan_order(runs: list[FamilyRun], prior: dict | None) -> list[FamilyRun]:
    """The order of first trials: cheapest first, or with a prior, its favourites first.

    Guided, one cheap family still goes first (its trial takes seconds and guarantees an
    answer), then the others by the prior's score, best first.
    """
    by_cost = sorted(runs, key=lambda r: (COST_ORDER.get(r.family.cost, 1), r.name))
    if not prior:
        return by_cost
    ranked = sorted(runs, key=lambda r: (-prior.get(r.name, 0.0), COST_ORDER.get(r.family.cost, 1), r.name))
    cheap = [r for r in ranked if r.family.cost == "low"]
    if cheap:
        ranked.remove(cheap[0])
        ranked.insert(0, cheap[0])
    return ranked
