"""The budgeted search: Optuna trials for every applicable family, inside one deadline.

How the budget is spent (measured in benchmarks/):

1. Families are ordered cheapest first (declared cost, or the prior) and each gets one trial
   with its default parameters. A trial's deadline is the time left divided by the families
   still waiting, so what a cheap family leaves unused flows to the expensive ones; training
   loops stop at it.
2. The rest goes to further trials: a few more for families whose trials cost almost nothing,
   then one family at a time by an upper-confidence rule on each family's best validation
   fidelity. Each family has its own single-objective Optuna study (TPE sampler). A family that
   trains by epochs (`Family.resource_param`) gives every trial after the first the same number
   of epochs, as many as the first trial's time afforded, and successive halving prunes on the
   per-epoch reports, so trials are compared at equal training resource; time slices still
   bound each trial and the whole.
3. A reserve is kept for the end: the verdict (advisor.judge: cross-validation, checkpoint
   scoring for the forecast), scoring on the test rows and refitting the winner on all rows.
   It is re-estimated after every trial from measured times.

Every trial runs under `advisor.budget.fit_scope`, so its deadline reaches inside the fit, and
its learning curve comes back through the same scope (advisor.curves).
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from advisor import budget as budget_ctx
from advisor.criteria import EvalContext, Evaluation, evaluate, objective
from advisor.curves import budget_limited, trial_curve
from advisor.dataset import Dataset
from advisor.errors import FamilyError
from advisor.family import DECLARED_UNCERTAINTY, Family
from advisor.bootstrap import objective_draws
from advisor.judge import planned_seconds
from advisor.verdict import weights_for
from advisor.measure import measured, thread_limit
from advisor.nn.seeding import derive_seed
from advisor.watchdog import watchdog
from advisor.splits import Splits

COST_ORDER = {"low": 0, "moderate": 1, "high": 2}
MIN_TRIAL_SECONDS = 0.3
PRIOR_PULL = 1.0  # how far a full point of prior score moves a family's exploration bonus, in spreads
STALL_TRIALS = 25  # a family whose last 25 trials found nothing better is done
# At most this share of the search's time is kept for the verdict's cross-validation: the leading
# families are cross-validated first, the others judged on the validation rows.
VERDICT_SHARE = 0.3
CHEAP_TRIALS, CHEAP_SHARE = 8, 0.02  # trials that cost under 2 % of the budget: up to 8 before the rest
IMPROVEMENT_ODDS = 0.9  # share of paired bootstrap draws in which a new best must beat the old


class StorageLost(Exception):
    """The Optuna storage stopped answering in the middle of a search."""


@dataclass
class TrialRecord:
    number: int
    params: dict
    state: str  # complete | pruned | failed
    value: float | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass
class FamilyRun:
    """Everything the search learned about one family."""

    family: Family
    plugin: str | None = None
    status: str = "pending"  # pending | ok | failed | unsupported | skipped
    reason: str = ""
    trials: list[TrialRecord] = field(default_factory=list)
    best_value: float = -math.inf  # the best trial's validation fidelity
    best_objective: float = -math.inf  # ... and its objective (advisor.criteria.objective), which chose it
    best_params: dict | None = None
    best_estimator: object | None = None
    fit_seconds: float | None = None
    fit_rows: int = 0
    peak_memory_mb: float | None = None
    growth_exponent: float | None = None
    growth_note: str = ""
    eval_seconds: float = 0.0
    study: object | None = None
    test: Evaluation | None = None
    best_eval: Evaluation | None = None  # the best trial's scoring on the validation rows
    last_eval: Evaluation | None = field(default=None, repr=False)
    best_curve: dict | None = field(default=None, repr=False)  # the best trial's learning curve (advisor.curves)
    last_curve: dict | None = field(default=None, repr=False)
    forecast: object | None = None  # advisor.forecast.Forecast, where the judge made one
    resource_epochs: int | None = None  # the epochs every trial after the first gets (Family.resource_param)
    resource_from_deadline: bool = False  # ... set by what the first trial's time afforded
    selection: object | None = None  # advisor.verdict.Selection, set by advisor.judge
    exhausted: bool = False
    last_improvement: int = 0
    seen: set = field(default_factory=set)  # Optuna trial numbers already counted
    imported: int = 0  # trials read back from the storage (earlier runs, other workers)

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def n_complete(self) -> int:
        return sum(t.state == "complete" for t in self.trials)


@dataclass
class SearchConfig:
    task: str
    seed: int = 0
    max_trials: int | None = None  # per family; None: as many as the budget allows
    device: str = "cpu"
    noise_std: float = 0.2
    storage: object | None = None
    study_prefix: str | None = None
    # Trials without a better value after which a family is done. ADVISOR_STALL_TRIALS overrides it,
    # for benchmarks that need a search busy for its whole budget.
    stall_trials: int = field(default_factory=lambda: int(os.environ.get("ADVISOR_STALL_TRIALS") or STALL_TRIALS))
    # The prior's score per family (advisor.prior_advice), or None to search unguided.
    prior_scores: dict | None = None
    # The ranking's criterion weights: the reserve for the final refit is kept for the family
    # likely to win the ranking, which is not always the one with the best validation fidelity.
    weights: dict | None = None


ProgressFn = Callable[[dict], None]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def configure_estimator(est, *, seed: int, device: str):
    """Give the estimator the run's seed and device when it takes them."""
    try:
        names = est.get_params(deep=False)
    except Exception:  # noqa: BLE001 - not an sklearn estimator; leave it alone
        return est
    updates = {}
    if "random_state" in names and names["random_state"] is None:
        updates["random_state"] = seed
    if "device" in names:
        updates["device"] = device
    if updates:
        est.set_params(**updates)
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):  # seed its last step too
        configure_estimator(est.steps[-1][1], seed=seed, device=device)
    return est


def fit_estimator(est, task: str, X, y):
    if task in ("classify", "regress"):
        return est.fit(X, y)
    return est.fit(X)


class Search:
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
            verdict = planned_seconds(ok, self.config.task, len(self.splits.development), len(self.X_valid))
            verdict = min(verdict, VERDICT_SHARE * (self.end - self.start))
        return scoring + verdict + 1.5 * self.refit_seconds(self.likely_winner(ok)) + 0.5

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
        against the cheapest, weighed as the ranking weighs them (advisor.ranking); without
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

    # -- trials ------------------------------------------------------------------------------
    def _study(self, run: FamilyRun):
        if run.study is None:
            import optuna

            seed = derive_seed(self.config.seed, run.name)
            name = f"{self.config.study_prefix}:{run.name}" if self.config.study_prefix else run.name
            run.study = optuna.create_study(
                direction="maximize",
                sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=4),
                # Successive halving on epochs (Jamieson & Talwalkar, 2016): trials that report
                # per epoch are compared at equal rungs of training and the weaker two thirds stop.
                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource="auto", reduction_factor=3),
                study_name=name,
                storage=self.config.storage,
                load_if_exists=True,
            )
            defaults = run.family.default_params(self.config.task, self.data.profile)
            if defaults and not run.study.trials:
                run.study.enqueue_trial(defaults, skip_if_exists=True)
        return run.study

    def _fit_and_score(self, run: FamilyRun, seconds: float, make_params, trial=None, label: str = "trial"):
        """Build, fit (under a deadline and a watchdog) and score on the validation rows."""
        task, profile = self.config.task, self.data.profile
        deadline = time.monotonic() + seconds
        # A fit that ignores its deadline is stopped after a grace period (advisor.watchdog).
        grace = max(2.0, 0.25 * seconds) + 2 * run.eval_seconds
        if run.eval_seconds == 0:  # a first trial: how long scoring takes is not known yet
            grace += 0.5 * seconds
        repeatable = self.config.max_trials is not None
        why = "ran past its time slice (with --max-trials it trains by epoch counts, not to a deadline; a larger --budget gives it room)" if repeatable else "ignored its deadline"
        with watchdog(seconds + grace, f"{run.name} {label}", why):
            params = make_params()
            est = run.family.make_estimator(task, profile, **params)
            configure_estimator(est, seed=derive_seed(self.config.seed, run.name, "fit"), device=self.config.device)
            curves: list = []
            with budget_ctx.fit_scope(deadline, trial, repeatable=repeatable, curves=curves), thread_limit(len(self.X_train)):
                _, fit_s, peak = measured(fit_estimator, est, task, self.X_train, self.y_train)
            run.last_curve = trial_curve(curves, est, fit_s)
            if run.last_curve is not None and run.resource_from_deadline and getattr(run.family, "resource_param", None):
                run.last_curve["epochs_from_budget"] = True
            t_eval = time.monotonic()
            with thread_limit(len(self.X_train)):
                result = evaluate(task, est, self.X_valid, self.y_valid, self.valid_ctx)
        run.eval_seconds = max(run.eval_seconds, time.monotonic() - t_eval)
        if not math.isfinite(result.fidelity):
            raise FamilyError("validation score is not finite")
        run.last_eval = result
        return est, result.fidelity, fit_s, peak, params

    def _keep_if_best(self, run: FamilyRun, est, value, fit_s, peak, params, margin: float) -> None:
        score = objective(self.config.task, run.last_eval) if run.last_eval is not None else value
        if run.best_estimator is None or self._improves(run, score, margin):
            run.last_improvement = len(run.trials)
            run.best_value, run.best_params, run.best_estimator = value, params, est
            run.best_objective = score
            run.fit_seconds, run.peak_memory_mb, run.fit_rows = fit_s, peak, len(self.X_train)
            run.growth_exponent = None
            run.best_eval = run.last_eval
            run.best_curve = run.last_curve

    def _improves(self, run: FamilyRun, value: float, margin: float) -> bool:
        """Whether the trial just scored beats the family's best objective by more than noise.

        Where both were scored on the same validation rows row by row, the paired bootstrap of
        their difference must show an improvement in at least `IMPROVEMENT_ODDS` of the draws
        (on small or imbalanced data, hundreds of trials would otherwise pick noise: the winner's
        curse); elsewhere the new value must beat the old by `margin`.
        """
        if margin == 0.0:
            return value > run.best_objective
        new, old = run.last_eval, run.best_eval
        if new is not None and old is not None and new.parts and old.parts:
            n = len(next(iter(new.parts.values())))
            weights = weights_for(n, self.config.seed + 7)
            a = objective_draws(self.config.task, new.parts, weights) if weights is not None else None
            b = objective_draws(self.config.task, old.parts, weights) if weights is not None else None
            if a is not None and b is not None and len(a) == len(b):
                return value > run.best_objective and float(np.mean(a > b)) >= IMPROVEMENT_ODDS
        return value > run.best_objective + margin

    def run_trial(self, run: FamilyRun, seconds: float) -> TrialRecord:
        import optuna

        from advisor.storage import Heartbeat

        try:
            study = self._study(run)
            with warnings.catch_warnings():
                # ask() fails the stale trials of dead workers; our own Heartbeat thread beats for
                # the running one (Optuna only does that itself inside Study.optimize).
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask()
            trial.set_user_attr("worker", self.worker_id)
        except Exception as exc:  # noqa: BLE001 - the database went away mid-run
            if self.config.storage is None:
                raise
            raise StorageLost(f"the storage stopped answering ({type(exc).__name__}); the search ended with the trials it had") from None
        number = trial.number
        self.progress({"event": "trial_start", "family": run.name, "trial": len(run.trials), "time_left": self.end - time.monotonic(), "best": run.best_value})
        start = time.monotonic()
        try:
            with Heartbeat(self.config.storage, trial._trial_id):
                est, value, fit_s, peak, params = self._fit_and_score(
                    run, seconds, lambda: self._trial_params(run, trial), trial, f"trial {number}"
                )
        except optuna.TrialPruned as exc:
            self._tell(study, trial, state=optuna.trial.TrialState.PRUNED)
            record = TrialRecord(number, dict(trial.params), "pruned", None, time.monotonic() - start, str(exc) or "pruned")
        except KeyboardInterrupt:
            self._tell(study, trial, state=optuna.trial.TrialState.FAIL)
            raise
        except Exception as exc:  # noqa: BLE001 - a family that raises is marked failed, the run goes on
            self._tell(study, trial, state=optuna.trial.TrialState.FAIL)
            record = TrialRecord(number, dict(trial.params), "failed", None, time.monotonic() - start, _one_line(exc))
        else:
            record = TrialRecord(number, params, "complete", value, time.monotonic() - start)
            self._settle_resource(run, params)
            self._keep_if_best(run, est, value, fit_s, peak, params, self.margin)
            self._record_fidelity(trial, value)
            self._tell(study, trial, objective(self.config.task, run.last_eval))
        run.trials.append(record)
        run.seen.add(number)
        if not params_left(run, self.config):
            run.exhausted = True
        self.progress({"event": "trial_end", "family": run.name, "trial": len(run.trials) - 1, "state": record.state, "value": record.value, "best": run.best_value, "time_left": self.end - time.monotonic(), "error": record.error})
        return record

    def _trial_params(self, run: FamilyRun, trial) -> dict:
        """The family's suggestion, with its training resource (`Family.resource_param`) set by
        the search: the default for the first trial, then what the first trial's time afforded,
        the same for every trial, so that trials are compared at equal epochs (and the pruner's
        successive halving compares them at equal rungs)."""
        task, profile = self.config.task, self.data.profile
        params = run.family.search_space(trial, task, profile)
        name = getattr(run.family, "resource_param", None)
        if name:
            epochs = run.resource_epochs or run.family.default_params(task, profile).get(name)
            if epochs is not None:
                params[name] = int(epochs)
                trial.set_user_attr("resource", int(epochs))
        return params

    def _settle_resource(self, run: FamilyRun, params: dict) -> None:
        """After the first complete trial: the epochs every later trial of the family gets."""
        name = getattr(run.family, "resource_param", None)
        if not name or run.resource_epochs is not None or name not in params:
            return
        curve = run.last_curve or {}
        if curve.get("stopped_by") == "deadline" and curve.get("epochs"):
            run.resource_epochs = max(int(len(curve["epochs"])), 1)
            run.resource_from_deadline = True
        else:
            run.resource_epochs = int(params[name])

    def _record_fidelity(self, trial, value: float) -> None:
        """The trial's fidelity beside its objective, for runs and workers that read it back."""
        try:
            trial.set_user_attr("fidelity", float(value))
        except Exception:  # noqa: BLE001 - a storage hiccup loses a label, not the trial
            pass

    def _tell(self, study, trial, value=None, state=None) -> None:
        try:
            study.tell(trial, value, state=state) if state is not None else study.tell(trial, value)
        except Exception as exc:  # noqa: BLE001 - the database went away: keep what we learned here
            if self.config.storage is None:
                raise
            self.storage_lost = f"the storage stopped answering ({type(exc).__name__}); the search ended with the trials it had"

    # -- trials recorded elsewhere (an earlier run, other workers) -----------------------------
    def import_finished(self, run: FamilyRun) -> list:
        """Read back trials that finished in the storage but not here; return the complete ones."""
        import optuna

        if self.config.storage is None:
            return []
        study = self._study(run)
        new = []
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)):
            if t.number in run.seen:
                continue
            run.seen.add(t.number)
            seconds = t.duration.total_seconds() if t.duration is not None else 0.0
            state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}[t.state.name]
            fidelity = t.user_attrs.get("fidelity", t.value)
            run.trials.append(TrialRecord(t.number, dict(t.params), state, fidelity, seconds, None if state == "complete" else "recorded by another run"))
            run.imported += 1
            if state == "complete":
                new.append(t)
        return new

    def adopt(self, run: FamilyRun, trials: list, seconds: float) -> None:
        """Refit the best of `trials` (found by an earlier run or another worker) to have its model."""
        if not trials:
            return
        best = max(trials, key=lambda t: t.value)
        if best.value <= run.best_objective + self.margin and run.best_estimator is not None:
            return
        try:
            est, value, fit_s, peak, params = self._fit_and_score(run, seconds, lambda: dict(best.params), None, f"refit of trial {best.number}")
        except Exception:  # noqa: BLE001 - the stored parameters no longer fit: search on instead
            return
        self._keep_if_best(run, est, value, fit_s, peak, params, 0.0)

    def probe_growth(self, run: FamilyRun, seconds: float) -> None:
        """Fit the best parameters on a quarter of the rows to measure how cost grows with size.

        The probe gets at most `seconds` (the trial's own time slice, or less); a fit that its
        deadline cut short says nothing about growth, so it is not probed.
        """
        n = len(self.X_train)
        if run.best_estimator is None or run.fit_seconds is None or n < 200:
            run.growth_note = "assumed linear in rows (too few rows to measure)"
            return
        cut = budget_limited(run.best_curve)
        if cut or stopped_by_deadline(run.best_estimator) or run.fit_seconds > 0.9 * seconds:
            run.growth_note = "assumed linear in rows (training stopped at its deadline)"
            return
        from sklearn.base import clone

        rng = np.random.default_rng(derive_seed(self.config.seed, run.name, "probe"))
        idx = np.sort(rng.choice(n, n // 4, replace=False))
        X = self.X_train.iloc[idx]
        y = None if self.y_train is None else self.y_train.iloc[idx]
        try:
            est = clone(run.best_estimator)
            with watchdog(seconds + 1.0, f"{run.name} growth probe"), budget_ctx.fit_scope(time.monotonic() + seconds), thread_limit(len(X)):
                _, t_small, _ = measured(fit_estimator, est, self.config.task, X, y)
        except Exception:  # noqa: BLE001 - the probe is a measurement, not a requirement
            run.growth_note = "assumed linear in rows (probe fit failed)"
            return
        if stopped_by_deadline(est):
            run.growth_note = "assumed linear in rows (the probe fit reached its deadline)"
            return
        if t_small <= 0.02 or run.fit_seconds <= 0.02:
            run.growth_note = "assumed linear in rows (fits too fast to time)"
            return
        run.growth_exponent = float(np.clip(np.log(run.fit_seconds / t_small) / np.log(n / (n // 4)), 0.0, 2.5))
        run.growth_note = f"fit time grows as rows^{run.growth_exponent:.2f} (measured at {n // 4} and {n} rows)"

    # -- the plan ----------------------------------------------------------------------------
    def run(self) -> list[FamilyRun]:
        """Run the plan; Ctrl-C or SIGTERM stops it and keeps what finished (`interrupted`)."""
        pending = [r for r in self.runs if r.status == "pending"]
        try:
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

    def gather(self, pending: list[FamilyRun]) -> None:
        """Count the trials other workers finished, and refit any that beat ours, time allowing.

        Trials left running by a worker that died are failed first (Optuna's heartbeat), so that
        the study ends clean even when no other process asks for a trial after the grace period.
        """
        import optuna

        for run in pending:
            if run.study is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        optuna.storages.fail_stale_trials(run.study)
                except Exception:  # noqa: BLE001 - storages without heartbeats have nothing to fail
                    pass
        for run in pending:
            found = self.import_finished(run)
            left = self.search_left() + self.reserve() / 2
            if found and left > MIN_TRIAL_SECONDS:
                self.adopt(run, found, left / 2)

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


def stopped_by_deadline(est) -> bool:
    """Whether an estimator's training (its last step's, in a Pipeline) ended at its deadline."""
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    history = getattr(final, "history_", None)
    stopped = history.get("stopped_by") if isinstance(history, dict) else getattr(history, "stopped_by", None)
    return stopped == "deadline"


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


def params_left(run: FamilyRun, config: SearchConfig) -> bool:
    """Whether another trial of this family could teach anything."""
    if config.max_trials is not None and len(run.trials) >= config.max_trials:
        return False
    if len(run.trials) - run.last_improvement > config.stall_trials:
        return False
    if run.trials and not run.trials[0].params and all(t.state == "complete" for t in run.trials):
        return False  # no hyperparameters: one trial says it all
    return len(run.trials) < 200
