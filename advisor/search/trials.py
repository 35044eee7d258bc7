"""The trial runner: fit one configuration under its deadline, score it on the validation rows,
keep it if it beats the family's best by more than noise, and record the trial.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from advisor.criteria import evaluate, objective
from advisor.errors import FamilyError
from advisor.judging.bootstrap import objective_draws
from advisor.judging.curves import budget_limited, trial_curve
from advisor.judging.verdict import weights_for
from advisor.nn.seeding import derive_seed
from advisor.runtime import budget as budget_ctx
from advisor.runtime.measure import measured, thread_limit
from advisor.runtime.watchdog import watchdog
from advisor.search.fitting import configure_estimator, fit_estimator, one_line, stopped_by_deadline
from advisor.search.records import IMPROVEMENT_ODDS, FamilyRun, StorageLost, TrialRecord, params_left
from advisor.search.rollback import epochs_param, roll_back


def epochs_reached_by_deadline(curve: dict | None) -> int | None:
    """The epochs a run trained before its deadline stopped it; None where it stopped otherwise."""
    curve = curve or {}
    if curve.get("stopped_by") == "deadline" and curve.get("epochs"):
        return len(curve["epochs"])
    return None


class TrialRunner:
    """Trials of one family at a time (a mixin of `advisor.search.Search`, which holds `config`,
    `data`, the splits' rows, `valid_ctx`, `margin`, `progress`, and the study store's methods)."""

    def _fit_and_score(self, run: FamilyRun, seconds: float, make_params, trial=None, label: str = "trial"):
        """Build, fit (under a deadline and a watchdog) and score on the validation rows."""
        task, profile = self.config.task, self.data.profile
        deadline = time.monotonic() + seconds
        # A fit that ignores its deadline is stopped after a grace period (advisor.runtime.watchdog).
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
        if task == "generate":
            result, epoch, seconds = self._roll_back_copying(run, est, result)
            if epoch is not None:
                # The model is the checkpoint's: it trained that many epochs, in that much time.
                params = {**params, epochs_param(run.family, est): epoch}
                fit_s = max(fit_s - (run.last_curve["seconds"][-1] - seconds), 0.0)
        run.last_eval = result
        return est, result.fidelity, fit_s, peak, params

    def _roll_back_copying(self, run: FamilyRun, est, result):
        """A generator cut for memorisation goes back to its best earlier checkpoint
        (advisor.search.rollback), scored within what is left of the search."""
        def score():
            with thread_limit(len(self.X_train)):
                return evaluate(self.config.task, est, self.X_valid, self.y_valid, self.valid_ctx)

        return roll_back(est, result, run.last_curve, run.family, score, run.eval_seconds, self.end - self.reserve())

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

    def run_trial(self, run: FamilyRun, seconds: float, promote_to: int | None = None) -> TrialRecord:
        """One trial of `run` within `seconds` of training; with `promote_to`, a promotion: the
        best configuration trained again with that many epochs (advisor.search.scheduler's
        `Search._promotion` says when, and `_settle_promotion` what follows)."""
        import optuna

        from advisor.search.storage import Heartbeat

        resource_before = run.resource_epochs
        try:
            study = self._study(run)
            if promote_to is not None:
                name = run.family.resource_param
                study.enqueue_trial({k: v for k, v in run.best_params.items() if k != name})
                run.resource_epochs = int(promote_to)
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
        self.progress({"event": "trial_start", "family": run.name, "trial": len(run.trials), "time_left": self.end - time.monotonic(), "best": run.best_value,
                       "promotion": promote_to})
        start = time.monotonic()
        if promote_to is not None:
            trial.set_user_attr("promotion", True)
        try:
            with Heartbeat(self.config.storage, trial._trial_id):
                # A promotion is not pruned: its earlier epochs repeat those of the best trial.
                est, value, fit_s, peak, params = self._fit_and_score(
                    run, seconds, lambda: self._trial_params(run, trial), None if promote_to is not None else trial,
                    f"trial {number}" + (" (promotion)" if promote_to is not None else ""),
                )
        except optuna.TrialPruned as exc:
            self._tell(study, trial, state=optuna.trial.TrialState.PRUNED)
            record = TrialRecord(number, dict(trial.params), "pruned", None, time.monotonic() - start, str(exc) or "pruned")
        except KeyboardInterrupt:
            self._tell(study, trial, state=optuna.trial.TrialState.FAIL)
            raise
        except Exception as exc:  # noqa: BLE001 - a family that raises is marked failed, the run goes on
            self._tell(study, trial, state=optuna.trial.TrialState.FAIL)
            record = TrialRecord(number, dict(trial.params), "failed", None, time.monotonic() - start, one_line(exc))
        else:
            record = TrialRecord(number, params, "complete", value, time.monotonic() - start)
            self._settle_resource(run, params)
            self._keep_if_best(run, est, value, fit_s, peak, params, self.margin)
            self._record_fidelity(trial, value)
            self._tell(study, trial, objective(self.config.task, run.last_eval))
        if promote_to is not None:
            self._settle_promotion(run, est if record.state == "complete" else None, resource_before)
        run.trials.append(record)
        run.seen.add(number)
        if not params_left(run, self.config):
            run.exhausted = True
        self.progress({"event": "trial_end", "family": run.name, "trial": len(run.trials) - 1, "state": record.state, "value": record.value, "best": run.best_value, "time_left": self.end - time.monotonic(), "error": record.error,
                       "promotion": promote_to})
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
        reached = epochs_reached_by_deadline(run.last_curve)
        if reached:
            run.resource_epochs = reached
            run.resource_from_deadline = True
        else:
            run.resource_epochs = int(params[name])

    def _settle_promotion(self, run: FamilyRun, est, resource_before: int | None) -> None:
        """After a promotion: kept (it beat the best by more than noise, as any new best must: at
        several times the training cost, a gain within noise is not worth it), later trials get
        the epochs it reached (a new rung, where trials are again compared at equal resource);
        not kept, the family stays at its old rung and is not promoted again."""
        if est is not None and run.best_estimator is est:
            run.promotions += 1
            run.resource_epochs = epochs_reached_by_deadline(run.best_curve) or run.resource_epochs
        else:
            run.resource_epochs = resource_before
            run.promotion_failed = True

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
            # A measurement on a quarter of the rows: what a family warns about so small a fit
            # (a subsample larger than the rows it was given) is nothing the user can act on.
            with watchdog(seconds + 1.0, f"{run.name} growth probe"), budget_ctx.fit_scope(time.monotonic() + seconds), \
                    thread_limit(len(X)), warnings.catch_warnings():
                warnings.simplefilter("ignore")
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
