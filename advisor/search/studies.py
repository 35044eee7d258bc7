"""The study store: one Optuna study per family, and the trials other runs recorded in it.

With a storage (`--storage`), studies persist: a resumed run reads back the trials an earlier
run finished and refits the best instead of repeating the search, and workers on other machines
add trials to the same studies (advisor.search.worker). Without one, studies live in memory.
"""

from __future__ import annotations

import warnings

from advisor.nn.seeding import derive_seed
from advisor.search.records import MIN_TRIAL_SECONDS, FamilyRun, TrialRecord


class StudyStore:
    """The Optuna side of the search (a mixin of `advisor.search.Search`, which holds `config`,
    `data`, `margin`, `storage_lost`, and the trial runner's `_fit_and_score` and `_keep_if_best`)."""

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
