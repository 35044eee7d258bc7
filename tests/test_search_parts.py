"""The search's three parts, each on its own: the scheduler (which family next, how much time),
the trial runner (fit under a deadline, score, keep the best, record) and the study store
(Optuna studies that outlive a run)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import optuna
import pytest

from advisor.data.preparation import prepare
from advisor.data.splits import make_splits
from advisor.data.tables import Table
from advisor.families.discovery import discover
from advisor.search import FamilyRun, Search, SearchConfig, TrialRecord, params_left, plan_order


@pytest.fixture
def search_for(classic_only, mixed_frame):
    """A Search over the given classic families on the 200-row mixed table, with `seconds` left."""

    def build(names, seconds=30.0, **config):
        data = prepare(Table(mixed_frame, "mixed"), "classify", "label")
        splits = make_splits(len(data.X), data.y, seed=0)
        registry = discover()
        runs = [FamilyRun(registry.get(name)) for name in names]
        return Search(data, splits, runs, SearchConfig(task="classify", **config), end=time.monotonic() + seconds)

    return build


# -- scheduler ----------------------------------------------------------------------------------
def test_first_trials_go_cheapest_first_or_to_the_priors_favourites():
    runs = [FamilyRun(SimpleNamespace(name=name, cost=cost)) for name, cost in (("deep", "high"), ("tree", "low"), ("net", "moderate"), ("line", "low"))]
    assert [r.name for r in plan_order(runs, None)] == ["line", "tree", "net", "deep"]
    guided = plan_order(runs, {"deep": 0.9, "net": 0.6, "tree": 0.5, "line": 0.1})
    # one cheap family still goes first (its trial takes seconds and guarantees an answer)
    assert [r.name for r in guided] == ["tree", "deep", "net", "line"]


def test_a_guided_share_grows_with_the_prior_and_an_unguided_one_is_equal(search_for):
    unguided = search_for(["linear", "hist_gradient_boosting"])
    assert unguided._share(unguided.runs[0], unguided.runs) == pytest.approx(0.5)
    guided = search_for(["linear", "hist_gradient_boosting"], prior_scores={"linear": 1.0, "hist_gradient_boosting": 0.0})
    linear = next(r for r in guided.runs if r.name == "linear")
    assert guided._share(linear, guided.runs) == pytest.approx(1.5 / 2.0)


def test_the_upper_confidence_pick_tries_the_less_tried_of_two_equals(search_for):
    search = search_for(["linear", "hist_gradient_boosting"])
    tried, fresh = search.runs
    for run, n in ((tried, 6), (fresh, 1)):
        run.best_value = 0.9
        run.trials = [TrialRecord(i, {}, "complete", 0.9, 0.1) for i in range(n)]
    assert search._pick([tried, fresh]) is fresh


def test_a_family_with_nothing_left_to_learn_gets_no_more_trials():
    config = SearchConfig(task="classify", max_trials=3, stall_trials=5)
    run = FamilyRun(family=None)
    run.trials = [TrialRecord(i, {"alpha": i}, "complete", 0.5, 0.1) for i in range(3)]
    assert not params_left(run, config)  # max_trials reached
    config.max_trials = None
    run.trials = [TrialRecord(i, {"alpha": i}, "complete", 0.5, 0.1) for i in range(7)]
    assert not params_left(run, config)  # 6 trials since the last improvement, more than 5
    run.last_improvement = 6
    assert params_left(run, config)


def test_the_plan_gives_every_family_a_trial_and_keeps_the_reserve(search_for):
    search = search_for(["linear", "hist_gradient_boosting"], seconds=8.0, max_trials=2)
    runs = search.run()
    assert all(r.status == "ok" and 1 <= len(r.trials) <= 2 for r in runs)
    assert time.monotonic() < search.end  # the reserve for scoring and the refit is left


def test_a_familys_one_off_set_up_is_paid_before_the_time_slices_not_out_of_its_first(search_for, monkeypatch):
    # The first estimator of a torch family imports torch, seconds long: a first trial that paid
    # for it trained a fraction of its slice and the family was judged on that.
    search = search_for(["linear", "hist_gradient_boosting"], seconds=12.0)
    run = next(r for r in search.runs if r.name == "hist_gradient_boosting")
    build, first = run.family.make_estimator, []

    def slow_first_build(*args, **kwargs):
        if not first:
            first.append(True)
            time.sleep(1.5)
        return build(*args, **kwargs)

    monkeypatch.setattr(run.family, "make_estimator", slow_first_build)
    search.run()
    trial = run.trials[0]
    assert trial.state == "complete" and first
    assert trial.seconds < 1.5  # the one-off set-up happened before the trial, not inside it


# -- trial runner -------------------------------------------------------------------------------
def test_a_trial_is_fitted_scored_recorded_and_kept_as_the_best(search_for):
    search = search_for(["linear"])
    run = search.runs[0]
    record = search.run_trial(run, 5.0)
    assert record.state == "complete" and 0.5 < record.value <= 1.0
    assert run.best_estimator is not None and run.best_value == record.value and run.best_eval is not None
    assert run.trials == [record] and run.study is not None and len(run.study.trials) == 1


def test_a_trial_that_raises_is_recorded_failed_and_the_search_goes_on(search_for, monkeypatch):
    search = search_for(["linear"])
    run = search.runs[0]

    def broken(*args, **kwargs):
        raise RuntimeError("singular\nmatrix")

    monkeypatch.setattr(run.family, "make_estimator", broken)
    record = search.run_trial(run, 5.0)
    assert record.state == "failed" and record.error == "RuntimeError: singular matrix"
    assert run.best_estimator is None


def test_a_new_best_must_beat_the_old_by_more_than_noise(search_for):
    search = search_for(["linear"])
    run = search.runs[0]
    run.best_objective = 0.80
    assert not search._improves(run, 0.80 + search.margin / 2, search.margin)
    assert search._improves(run, 0.80 + 2 * search.margin, search.margin)
    assert search._improves(run, 0.8001, 0.0)  # a refit of a stored best needs only to be better


# -- study store --------------------------------------------------------------------------------
def test_trials_another_run_recorded_are_read_back_once_and_the_best_refitted(search_for):
    storage = optuna.storages.InMemoryStorage()
    first = search_for(["linear"], storage=storage, study_prefix="shared", max_trials=2)
    first.run()
    recorded = len(first.runs[0].trials)

    second = search_for(["linear"], storage=storage, study_prefix="shared")
    run = second.runs[0]
    found = second.import_finished(run)
    assert len(found) == recorded and run.imported == recorded
    assert second.import_finished(run) == []  # each stored trial counts once
    second.adopt(run, found, 5.0)
    assert run.best_estimator is not None
    assert run.best_params == max(found, key=lambda t: t.value).params
