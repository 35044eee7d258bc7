"""The budgeted search: deadlines, the budget rule, fallbacks, repeatability, held-out scores."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import advisor
from advisor.nn.training import train_epochs
from advisor.runtime import budget


def test_whole_call_stays_within_the_budget_rule(classic_only, mixed_frame):
    start = time.monotonic()
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=6)
    wall = time.monotonic() - start
    assert wall <= 6 + 5
    assert rec.elapsed_s <= 6 + 5
    assert rec.search["trials"] >= 2


def test_every_applicable_family_gets_a_trial(classic_only, mixed_frame):
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=8, max_trials=2)
    entries = {e["family"]: e for e in rec.ranking_entries}
    for name in ("linear", "hist_gradient_boosting"):
        assert entries[name]["trials"]["total"] >= 1 and entries[name]["status"] == "ok"
    assert entries["pca"]["status"] == "unsupported" and entries["pca"]["reason"]


def test_tiny_budget_still_returns_a_fitted_model(classic_only, mixed_frame):
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=0.05)
    assert rec.best_estimator_ is not None
    assert len(rec.best_estimator_.predict(mixed_frame.drop(columns="label"))) == len(mixed_frame)
    assert any("budget too small" in w for w in rec.warnings)
    assert "fallback" in rec.search["phases_s"]  # the untuned model's fit is accounted for


@pytest.mark.parametrize("seconds", ["0.5", "2"])
def test_tiny_budgets_end_cleanly_with_the_torch_families_installed(tmp_path, mixed_frame, seconds):
    """A deadline that fell inside the first import of torch left it half-initialised, and the run
    crashed after printing its ranking (a segfault, or "partially initialized module 'torch'")."""
    path = tmp_path / "data.csv"
    mixed_frame.to_csv(path, index=False)
    env = {k: v for k, v in os.environ.items() if k != "ADVISOR_LOAD_PLUGINS"}
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "recommend", str(path), "--task", "classify", "--target", "label",
                           "--budget", seconds, "--no-storage", "-q"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-400:]
    assert "budget too small" in done.stderr or "Traceback" not in done.stderr


def test_the_watchdog_lets_an_import_finish_and_stops_the_work_after_it(tmp_path, monkeypatch):
    from advisor.runtime.watchdog import TrialTimeout, watchdog

    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.4)\nLOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    started = time.monotonic()
    with pytest.raises(TrialTimeout):
        with watchdog(0.05, "trial"):
            import slow_to_import  # noqa: F401
            time.sleep(5)  # the trial's own work, which the deadline stops
    assert sys.modules["slow_to_import"].LOADED
    assert time.monotonic() - started < 2
    del sys.modules["slow_to_import"]


def test_same_seed_and_trial_count_repeat_exactly(classic_only, mixed_frame):
    runs = [advisor.recommend(mixed_frame, "classify", target="label", budget=30, max_trials=3, seed=7) for _ in range(2)]
    first, second = (r.to_dict() for r in runs)
    assert first["recommendation"] == second["recommendation"]
    for a, b in zip(first["ranking"], second["ranking"]):
        assert a["params"] == b["params"]
        assert a["criteria"] is None or a["criteria"]["fidelity"] == b["criteria"]["fidelity"]


def test_search_leaves_global_random_state_alone(classic_only, mixed_frame):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    advisor.recommend(mixed_frame, "classify", target="label", budget=5, max_trials=1)
    assert np.random.random() == expected


def test_ranking_reports_held_out_scores_not_search_scores(classic_only, mixed_frame):
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=8, max_trials=3)
    best = rec.ranking_entries[0]
    assert best["metrics"]["validation_fidelity"] is not None
    assert best["criteria"]["fidelity"] == pytest.approx(best["metrics"]["balanced_accuracy"], abs=1e-4)
    assert rec.search["rows"]["test"] == 40 and rec.search["held_out"]


def test_training_loop_stops_at_the_deadline():
    def slow_epoch(epoch):
        time.sleep(0.2)
        return 1.0 / (epoch + 1)

    with budget.fit_scope(time.monotonic() + 1.0):
        start = time.monotonic()
        history = train_epochs(slow_epoch, max_epochs=1000)
    assert time.monotonic() - start < 1.5
    assert history.stopped_by == "deadline" and 2 <= history.epochs <= 6


def test_training_loop_reports_to_the_trial_and_prunes():
    import optuna

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    with budget.fit_scope(None, trial), pytest.raises(optuna.TrialPruned):
        train_epochs(lambda e: 1.0, max_epochs=10, validate=lambda: 0.1)
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {0: 0.1}


def test_training_loop_fails_loudly_on_nan():
    from advisor.errors import FamilyError

    with pytest.raises(FamilyError, match="diverged"):
        train_epochs(lambda e: float("nan"), max_epochs=3)


def test_nested_scope_cannot_extend_the_deadline():
    with budget.fit_scope(time.monotonic() + 1):
        with budget.fit_scope(time.monotonic() + 100):
            assert budget.time_left() <= 1
    assert budget.time_left() == float("inf")


def test_the_refit_reserve_goes_to_the_family_the_ranking_will_likely_pick():
    """A slow family a hair ahead on validation does not take the reserve from a fast one
    that wins the weighted ranking (otherwise the search stops early for a refit that never comes)."""
    from types import SimpleNamespace

    from advisor.families.discovery import discover
    from advisor.judging.ranking import parse_weights
    from advisor.search import FamilyRun, Search

    registry = discover()
    fast = FamilyRun(registry.get("linear"), best_value=0.970, fit_seconds=0.05)
    slow = FamilyRun(registry.get("resnet"), best_value=0.975, fit_seconds=30.0)
    for run in (fast, slow):
        run.best_estimator = object()
    weighted = SimpleNamespace(config=SimpleNamespace(weights=parse_weights(None, "classify")))
    assert Search.likely_winner(weighted, [slow, fast]) is fast
    unweighted = SimpleNamespace(config=SimpleNamespace(weights=None))
    assert Search.likely_winner(unweighted, [slow, fast]) is slow


def test_the_verdict_keeps_no_time_for_folds_that_cannot_fit_in_its_share():
    """A family whose one round of cross-validation folds costs more than the verdict's share of
    the budget is judged on its validation rows: keeping time for those folds would end the
    search early and leave the time unused."""
    from advisor.families.discovery import discover
    from advisor.judging.crossval import FOLDS
    from advisor.judging.judge import fold_seconds, planned_seconds
    from advisor.search import FamilyRun

    registry = discover()
    quick = FamilyRun(registry.get("linear"), best_value=0.81, fit_seconds=0.05, fit_rows=600)
    slow = FamilyRun(registry.get("bnn"), best_value=0.81, fit_seconds=4.0, fit_rows=600)
    for run in (quick, slow):
        run.best_estimator, run.eval_seconds = object(), 0.05
    n_dev = 800
    both = planned_seconds([quick, slow], "classify", n_dev, 200, 30.0)
    assert both == pytest.approx(FOLDS * (fold_seconds(quick, n_dev) + fold_seconds(slow, n_dev)))
    capped = planned_seconds([quick, slow], "classify", n_dev, 200, 30.0, cap=9.0)
    assert capped == pytest.approx(FOLDS * fold_seconds(quick, n_dev))


def test_no_time_is_kept_for_a_refit_that_cannot_fit_in_the_run():
    """A winner whose refit on all rows would outlast the whole run is returned as the search
    fitted it; keeping time for that refit only starved the search (families without a trial)."""
    from types import SimpleNamespace

    from advisor.search.scheduler import Search

    def stub(refit_s, left_s):
        return SimpleNamespace(refit_seconds=lambda run: refit_s, likely_winner=lambda ok: "winner", end=time.monotonic() + left_s)

    assert Search.refit_reserve(stub(refit_s=4.0, left_s=20.0), []) == pytest.approx(6.0)
    assert Search.refit_reserve(stub(refit_s=40.0, left_s=20.0), []) == 0.0


def test_a_repeatable_run_cross_validates_a_set_number_of_times(classic_only, mixed_frame):
    """With --max-trials the repeats of cross-validation (and so the tuned decision rule) are a
    count, not what the machine's speed allowed: two fits give the same model."""
    for seconds in (5, 30):
        rec = advisor.recommend(mixed_frame, "classify", target="label", budget=seconds, max_trials=1, families=["linear"])
        entry = next(e for e in rec.ranking_entries if e["family"] == "linear")
        assert entry["selection"] == "5-fold cross-validation, 2 repeats", entry["selection"]
