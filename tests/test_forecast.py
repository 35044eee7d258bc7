"""Learning curves, forecasts at a larger budget, and trials compared at equal training resource."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.data.preparation import prepare
from advisor.data.tables import Table
from advisor.judging import forecast as forecast_module
from advisor.judging.forecast import conformal_widening, forecast, lone_training_seconds, outside_distance, settle_budget
from advisor.judging.ranking import _entry as ranking_entry
from advisor.nn.training import train_epochs
from advisor.runtime import budget
from advisor.search import FamilyRun, Search, SearchConfig
from fake_plugins.fakes import MajorityVote, fake_family


def test_the_training_loop_records_its_curve_and_checkpoint_weights():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(2, 1)
    curves = []

    def run_epoch(epoch):
        with torch.no_grad():
            net.weight.add_(1.0)
        time.sleep(0.02)
        return 1.0 / (epoch + 1)

    with budget.fit_scope(time.monotonic() + 0.35, curves=curves):
        history = train_epochs(run_epoch, 1000, module=net)
    assert curves == [history]
    assert history.stopped_by == "deadline" and 4 <= history.epochs < 1000
    assert len(history.epoch_seconds) == history.epochs and history.epoch_seconds == sorted(history.epoch_seconds)
    epochs = [e for e, _, _ in history.snapshots]
    assert epochs[:3] == [1, 2, 4] and epochs[-1] == history.epochs
    first = history.snapshots[0][2]["weight"]
    assert torch.allclose(first, net.weight.detach() - (history.epochs - 1))  # the weights as they were after epoch 1
    assert history.curve()["stopped_by"] == "deadline"


def test_a_forecast_holds_a_power_law_curve_in_its_interval():
    seconds = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    true = lambda t: 0.9 - 0.4 * t ** -0.5  # noqa: E731
    fc = forecast(seconds, true(seconds), noise=0.01, budget_s=30)
    assert fc.budget_s == 150
    lo, hi = fc.interval
    assert lo <= true(5 * 16.0) <= hi
    assert fc.fidelity > true(16.0)  # still improving: the forecast says so
    assert abs(fc.fidelity - true(80.0)) < 0.05


def test_a_flat_curve_is_forecast_flat_and_a_jump_within_the_noise_is_not_extrapolated(monkeypatch):
    monkeypatch.setattr(forecast_module, "calibration", lambda: {"widen": 0.0})
    seconds = [1.0, 2.0, 4.0, 8.0]
    flat = forecast(seconds, [0.80, 0.81, 0.81, 0.81], noise=0.005, budget_s=30)
    assert abs(flat.fidelity - 0.81) < 0.02 and flat.interval[1] - flat.interval[0] < 0.08
    # The last point jumps by two standard errors of its measurement: a least-squares curve
    # through it heads for 0.8 by 15x the time; the posterior weighs the flatter curves too.
    jump = forecast([0.7, 1.4, 2.7, 4.0], [0.44, 0.486, 0.505, 0.58], noise=0.035, budget_s=30, training_s=60)
    assert jump.fidelity < 0.7
    assert jump.interval[0] <= 0.656 <= jump.interval[1]  # what a run of that length measured
    assert forecast(seconds, [0.9, 0.97, 0.99, 1.0], noise=0.01, budget_s=30).interval[1] <= 1.0


def test_the_conformal_margin_holds_its_level_of_the_distances_it_was_learned_from():
    rng = np.random.default_rng(0)
    for n in (4, 9, 17, 40):
        distances = np.where(rng.random(n) < 0.5, 0.0, rng.exponential(0.05, n))
        margin = conformal_widening(distances, 0.8)
        assert np.mean(distances <= margin) >= 0.8
        assert margin in distances  # one of them, not a made-up width
    assert conformal_widening([], 0.8) == 0.0
    assert outside_distance((0.6, 0.7), 0.65) == 0.0
    assert outside_distance((0.6, 0.7), 0.75) == pytest.approx(0.05)
    assert outside_distance((0.6, 0.7), 0.5) == pytest.approx(0.1)


def test_the_interval_is_the_models_interval_widened_by_the_learned_margin(monkeypatch):
    seconds = np.array([1.0, 2.0, 4.0, 8.0])
    values = 0.8 - 0.3 * seconds ** -0.7
    monkeypatch.setattr(forecast_module, "calibration", lambda: {"widen": 0.0})
    bare = forecast(seconds, values, noise=0.01, budget_s=30)
    monkeypatch.setattr(forecast_module, "calibration", lambda: {"widen": 0.05})
    widened = forecast(seconds, values, noise=0.01, budget_s=30)
    assert widened.fidelity == bare.fidelity and widened.model_interval == bare.interval
    assert widened.interval[0] == pytest.approx(max(bare.interval[0] - 0.05, 0.0))
    assert widened.interval[1] == pytest.approx(min(bare.interval[1] + 0.05, 1.0))
    doc = widened.to_dict()
    assert doc["model_interval"] == [round(v, 4) for v in bare.interval] and doc["interval"][0] < doc["model_interval"][0]


def test_the_shipped_margin_is_read_and_a_missing_file_means_none(monkeypatch, tmp_path):
    forecast_module.calibration.cache_clear()
    shipped = forecast_module.calibration()
    assert shipped["pairs"] > 0 and 0.0 <= shipped["widen"] < 0.5 and shipped["level"] == forecast_module.LEVEL
    monkeypatch.setattr(forecast_module, "CALIBRATION_FILE", tmp_path / "missing.json")
    forecast_module.calibration.cache_clear()
    try:
        assert forecast_module.calibration()["widen"] == 0.0
    finally:
        forecast_module.calibration.cache_clear()


def test_a_warm_up_at_the_start_of_the_curve_is_not_extrapolated(monkeypatch):
    """A network whose first epoch barely moves (0.00, then 0.26, 0.54, 0.56: faster before it
    slows) is not a power law from its first point; fitted through it, the curve heads for 0.88
    where a run of twenty times the training measured 0.54-0.56."""
    monkeypatch.setattr(forecast_module, "calibration", lambda: {"widen": 0.0})
    fc = forecast([1.13, 2.26, 4.46, 5.86], [0.002, 0.256, 0.543, 0.561], noise=0.01, budget_s=30, training_s=99.7)
    assert 0.56 <= fc.fidelity < 0.65
    # with fewer than three checkpoints past the warm-up, no forecast, and the reason why
    early = forecast([1.0, 2.0, 4.0, 8.0], [0.0, 0.05, 0.2, 0.5], noise=0.01, budget_s=30)
    assert early.fidelity is None and "warm-up" in early.reason
    # a curve that speeds up at its end, not only at its start, is no power law yet either: an
    # image generator scored 0.00, 0.00, 0.02, then 0.10, and reached 0.44-0.55 after eleven
    # times the training, where a fit through all four points forecast 0.16 (0.07-0.25)
    late = forecast([1.21, 2.44, 4.87, 8.51], [0.0026, 0.0044, 0.0162, 0.0988], noise=0.022, budget_s=60, training_s=157)
    assert late.fidelity is None and late.speeding_up and late.to_dict()["speeding_up"] is True
    assert "speeding_up" not in fc.to_dict()
    # a bootstrap's tiny standard error near the ceiling does not turn one row's noise into a speed-up
    near_ceiling = forecast([1.0, 2.0, 4.0, 8.0], [0.990, 0.996, 0.992, 0.998], noise=0.002, budget_s=30)
    assert near_ceiling.fidelity is not None and not near_ceiling.speeding_up
    # a curve that slows from its first point is fitted whole, as before
    assert forecast_module.warm_up_end(np.array([1.0, 2.0, 4.0, 8.0]), np.array([0.5, 0.6, 0.65, 0.67]), 0.01) == 0


def test_no_forecast_without_enough_checkpoints():
    fc = forecast([3.0, 6.0], [0.5, 0.6], budget_s=30)
    assert fc.fidelity is None and "checkpoint" in fc.reason
    assert fc.to_dict() == {"budget_s": 150.0, "reason": fc.reason}


def test_the_budget_advice_follows_a_family_that_overtakes():
    seconds = [1.0, 2.0, 4.0, 8.0]
    rising = [0.2, 0.45, 0.62, 0.74]  # far from flat
    advice = settle_budget({"diffusion": (seconds, rising, 0.01)}, {"gaussian_mixture": 0.76}, 30)
    assert advice["leader_then"] == "diffusion" and advice["proposed_budget_s"] > 30
    settled = settle_budget({"diffusion": (seconds, [0.70, 0.72, 0.73, 0.73], 0.01)}, {"gaussian_mixture": 0.9}, 30)
    assert settled["proposed_budget_s"] == 30 and settled["leader_then"] == "gaussian_mixture"
    assert "speeding up" not in settled["reason"]
    # a curve still in its warm-up cannot be placed: the advice says it may change the answer
    unknown = settle_budget({"diffusion": (seconds, [0.0, 0.01, 0.05, 0.2], 0.01)}, {"gaussian_mixture": 0.3}, 30)
    assert unknown["leader_then"] == "gaussian_mixture" and "diffusion was still speeding up" in unknown["reason"]


def test_the_challengers_nearest_the_top_have_their_checkpoints_scored_first(monkeypatch):
    """When the forecast's share of the budget runs out, the family that could change the advice
    (a challenger that might overtake the leader) must not be the one left without a forecast."""
    from types import SimpleNamespace

    from advisor.judging import judge
    scored = []

    def slow_scoring(run, search, task, ctx, stop_at):
        scored.append(run.name)
        in_time = time.monotonic() < stop_at
        time.sleep(0.2)
        return [(1.0, 0.5), (2.0, 0.6), (4.0, 0.65)] if in_time else [(4.0, 0.65)]

    monkeypatch.setattr(judge, "_checkpoint_fidelity", slow_scoring)
    runs = [SimpleNamespace(name=name, best_curve={"stopped_by": "deadline"}, selection=SimpleNamespace(fidelity=f, spread=0.01),
                            fit_seconds=4.0, eval_seconds=1.0)
            for name, f in (("trailing", 0.2), ("leading", 0.9), ("middle", 0.6))]
    config = SimpleNamespace(task="generate")
    judge._forecast_cut_families(runs, None, config, None, stop_at=time.monotonic() + 60, budget_s=0.3 / judge.FORECAST_SHARE)
    assert scored == ["middle", "trailing", "leading"]
    by_name = {run.name: run.forecast for run in runs}
    assert by_name["middle"].fidelity is not None and by_name["trailing"].fidelity is not None
    assert by_name["leading"].fidelity is None and "checkpoint" in by_name["leading"].reason


class _Epochs(MajorityVote):
    """Trains by epochs through the shared loop (0.03 s each) and predicts the majority class."""

    def __init__(self, max_epochs=1000, lr=0.1):
        self.max_epochs = max_epochs
        self.lr = lr

    def _train(self, X, y):
        self.history_ = train_epochs(lambda epoch: time.sleep(0.03) or 1.0 / (epoch + 1), int(self.max_epochs))


def _epoch_family(name="epochs", make=_Epochs):
    return fake_family(
        name, make, uncertainty="implicit", resource_param="max_epochs",
        default_params=lambda self, task, profile: {"lr": 0.1, "max_epochs": 1000},
        search_space=lambda self, trial, task, profile: {"lr": trial.suggest_float("lr", 0.01, 1.0, log=True)},
    )


def _cut_short(frame, family) -> tuple[FamilyRun, Search]:
    """A search of `family` alone whose first trial its 0.4 s deadline cut short."""
    data = prepare(Table(frame, "test"), "classify", "label", seed=0)
    run = FamilyRun(family)
    search = Search(data, data.splits, [run], SearchConfig(task="classify", stall_trials=100), end=time.monotonic() + 60)
    search.run_trial(run, 0.4)
    return run, search


def test_trials_after_the_first_train_the_epochs_its_time_afforded(mixed_frame):
    run, search = _cut_short(mixed_frame, _epoch_family())
    first = run.trials[0]
    assert first.params["max_epochs"] == 1000 and run.last_curve["stopped_by"] == "deadline"
    epochs = run.resource_epochs
    assert 3 <= epochs < 1000 and run.resource_from_deadline
    search.run_trial(run, 5.0)
    search.run_trial(run, 5.0)
    assert [t.params["max_epochs"] for t in run.trials[1:]] == [epochs, epochs]
    assert run.last_curve["stopped_by"] == "max_epochs" and run.last_curve["epochs_from_budget"]


class _Improving(_Epochs):
    """A logistic regression on the numeric columns whose answers are flipped on a share of the
    rows that shrinks with the epochs trained (the same rows, fewer of them): more epochs, a
    better model, as a deep family's learning curve promises."""

    def _train(self, X, y):
        from sklearn.linear_model import LogisticRegression

        super()._train(X, y)
        self.model_ = LogisticRegression().fit(X[["a", "b"]].fillna(0), np.asarray(y).astype(str))

    def predict(self, X):
        pred = self.model_.predict(X[["a", "b"]].fillna(0))
        flipped = np.abs(np.asarray(X["a"].fillna(0), dtype=float) * 1000) % 1 < np.exp(-self.history_.epochs / 20)
        other = np.where(pred == self.model_.classes_[0], self.model_.classes_[1], self.model_.classes_[0])
        return np.where(flipped, other, pred)

    def predict_proba(self, X):
        return np.where(self.predict(X)[:, None] == self.model_.classes_[None, :], 0.9, 0.1)


def test_a_family_cut_short_has_its_best_configuration_trained_again_with_more_epochs(mixed_frame):
    run, search = _cut_short(mixed_frame, _epoch_family("improving", _Improving))
    epochs, first = run.resource_epochs, run.best_value
    assert run.resource_from_deadline
    assert search._promotion(run, left=1.5 * run.fit_seconds) is None  # twice the epochs do not fit
    promote_to, seconds = search._promotion(run, left=30.0)
    assert promote_to == int(3 * epochs) and seconds >= 3 * run.fit_seconds
    search.run_trial(run, seconds, promote_to=promote_to)
    assert run.trials[-1].params == {**run.trials[0].params, "max_epochs": promote_to}
    assert run.best_value > first and run.best_params["max_epochs"] == promote_to and run.promotions == 1
    run.status = "ok"
    assert ranking_entry(run, None, {}, {})["trials"]["promoted"] == 1  # the JSON says so
    # later trials are compared with it at its epochs: the new rung
    assert run.resource_epochs == promote_to
    search.run_trial(run, 5.0)
    assert run.trials[-1].params["max_epochs"] == promote_to


def test_a_promotion_that_does_not_pay_leaves_the_family_at_its_epochs(mixed_frame):
    run, search = _cut_short(mixed_frame, _epoch_family())  # the majority vote: more epochs change nothing
    epochs, best = run.resource_epochs, run.best_estimator
    promote_to, seconds = search._promotion(run, left=30.0)
    search.run_trial(run, seconds, promote_to=promote_to)
    assert run.trials[-1].params["max_epochs"] == promote_to
    assert run.best_estimator is best and run.resource_epochs == epochs and run.promotions == 0
    assert search._promotion(run, left=30.0) is None


@pytest.mark.slow
def test_a_cut_off_family_carries_its_curve_and_forecast_in_the_json(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic,diffusion")
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.gamma(2.0, size=n), "c": rng.choice(["x", "y", "z"], n)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "doc.json"
    result = CliRunner().invoke(main, ["recommend", str(path), "--task", "generate", "--budget", "auto", "--families", "diffusion,gaussian_mixture",
                                       "--no-storage", "--quiet", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["budget_s"] == 60 and doc["budget_advice"]["proposed_budget_s"] >= 60
    assert any(line.startswith("Budget: about") for line in doc["rationale"])
    diffusion = next(e for e in doc["ranking"] if e["family"] == "diffusion")
    assert diffusion["curve"]["epochs"] and diffusion["curve"]["stopped_by"] in ("deadline", "max_epochs", "early_stopped")
    assert isinstance(diffusion["converged"], bool)
    assert diffusion["forecast"]["budget_s"] == 300
    assert ("interval" in diffusion["forecast"]) != ("reason" in diffusion["forecast"])
    mixture = next(e for e in doc["ranking"] if e["family"] == "gaussian_mixture")
    assert mixture["converged"] in (True, None) and "reason" in mixture["forecast"]


def _entry(family, fidelity, *, forecast=None, converged=None):
    return {"family": family, "criteria": {"fidelity": fidelity}, "forecast": forecast, "converged": converged,
            "curve": {"seconds": [3.0, 9.0]}}


def test_the_rationale_tells_a_clear_overtaking_from_a_possible_one():
    """A forecast whose whole interval clears the winner earns the advice to rerun with more time;
    one whose middle is above but whose interval reaches below the winner is said as a
    possibility, never as the advice to rerun."""
    from advisor.judging.ranking import _forecast_sentences

    best = _entry("arf", 0.72)
    clear = _entry("diffusion", 0.70, converged=False, forecast={"budget_s": 150.0, "fidelity": 0.86, "interval": [0.80, 0.92]})
    leaning = _entry("diffusion", 0.70, converged=False, forecast={"budget_s": 150.0, "fidelity": 0.78, "interval": [0.67, 0.89]})
    behind = _entry("diffusion", 0.60, converged=False, forecast={"budget_s": 150.0, "fidelity": 0.65, "interval": [0.60, 0.70]})

    [said] = _forecast_sentences(best, [best, clear], "C2ST")
    assert "expected to reach C2ST 0.86 (0.80-0.92), above arf's 0.72" in said and "--families diffusion --budget 150" in said
    [said] = _forecast_sentences(best, [best, leaning], "C2ST")
    assert "may overtake arf" in said and "0.78 (0.67-0.89) against 0.72" in said and "does not rule out staying behind" in said
    assert _forecast_sentences(best, [best, behind], "C2ST") == []


def test_the_rationale_names_a_family_cut_off_while_still_speeding_up():
    """A curve still in its warm-up gets no forecast; the rationale says the family was speeding up,
    with its last two checkpoints, and how to run it longer, never a number it cannot back."""
    from advisor.judging.ranking import _forecast_sentences

    best = _entry("gaussian_mixture", 0.24)
    rising = _entry("diffusion", 0.10, converged=False, forecast=forecast(
        [1.21, 2.44, 4.87, 8.51], [0.0026, 0.0044, 0.0162, 0.0988], noise=0.022, budget_s=60, training_s=157).to_dict())
    rising["curve"]["checkpoints"] = [[4.87, 0.0162], [8.51, 0.0988]]
    [said] = _forecast_sentences(best, [best, rising], "C2ST")
    assert said.startswith("diffusion was still speeding up when its 9 s ran out (C2ST 0.02 at 5 s of training, 0.10 at 9 s)")
    assert "--families diffusion --budget 300" in said and "expected" not in said
    # the pick itself still speeding up: the advice is the same run with a larger budget
    [said] = _forecast_sentences(rising, [rising, best], "C2ST")
    assert said.startswith("diffusion was still speeding up") and said.endswith("run it again with a larger budget to see (--budget 300).")


def test_checkpoints_are_scored_in_one_chunk_with_the_last_points_folds():
    """A checkpoint of a generator costs one chunk of samples, not the verdict's two of 500 or more, and its C2ST
    uses as many folds as the curve's last point had, so the points are comparable."""
    from advisor.criteria import EvalContext
    from advisor.judging.judge import checkpoint_context

    verdict = EvalContext(task="generate", c2st_chunks=2, ml_efficiency=True)
    search = EvalContext(task="generate")
    after_rescore = checkpoint_context(verdict)
    assert (after_rescore.c2st_chunks, after_rescore.c2st_folds, after_rescore.ml_efficiency) == (1, 5, False)
    assert after_rescore.min_synthetic == 0  # as many generated rows as real ones
    assert checkpoint_context(search).c2st_folds == 3  # the search's own scoring
    assert verdict.c2st_chunks == 2  # the verdict's context is left as it was
    prediction = EvalContext(task="classify")
    assert checkpoint_context(prediction) is prediction


def test_alone_a_family_trains_for_the_search_time_less_the_room_to_score_it():
    """The forecast's horizon is the training a family gets when run alone with the larger budget,
    by the scheduler's rule for a first trial, not a multiple of the seconds it got while sharing."""
    assert lone_training_seconds(150, 0, 0.25) == pytest.approx(100)
    assert lone_training_seconds(150, 30, 0.25) == pytest.approx(80)  # the run's fixed overhead does not grow
    assert lone_training_seconds(150, 0, 5.0) == pytest.approx(50)  # slow scoring: the ratio is capped at 1
    assert lone_training_seconds(150, 0, 0.0) == pytest.approx(100)  # and floored at 0.25


def test_a_longer_horizon_forecasts_further_along_a_rising_curve():
    seconds = np.array([0.5, 1.0, 2.0, 4.0])
    rising = 0.9 - 0.3 * seconds ** -0.5
    near = forecast(seconds, rising, noise=0.005, budget_s=30)  # 5x the last checkpoint: 20 s of training
    far = forecast(seconds, rising, noise=0.005, budget_s=30, training_s=100.0)
    assert near.training_s == pytest.approx(20.0) and far.training_s == pytest.approx(100.0)
    assert far.fidelity > near.fidelity > rising[-1]
    assert far.to_dict()["training_s"] == 100.0


def test_iterative_classic_models_report_how_their_training_ended():
    """Boosting iterations and EM are learning curves too: the mixture's EM says it converged
    (more budget buys it trials, not training), and boosting stopped early says so."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from advisor.judging.curves import budget_limited, converged, trial_curve
    from advisor_plugins.classic.estimators import GaussianMixtureGenerator

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    for condition in (None, "group"):
        frame = X.assign(group=np.where(X["a"] > 0, "hi", "lo")) if condition else X
        mixture = GaussianMixtureGenerator(n_components=3, condition_on=condition, random_state=0).fit(frame)
        curve = trial_curve([], mixture, fit_seconds=0.2)
        assert curve["resource"] == "iteration" and curve["stopped_by"] == "converged"
        assert len(curve["epochs"]) == mixture.n_iter_ and curve["seconds"][-1] == 0.2
        assert converged(curve) and not budget_limited(curve)
    y = (X["a"] + X["b"] > 0).astype(int)
    boosted = HistGradientBoostingClassifier(max_iter=500, early_stopping=True, random_state=0).fit(X, y)
    curve = trial_curve([], boosted)
    assert curve["stopped_by"] == "early_stopped" and len(curve["validation_score"]) == boosted.n_iter_
    assert trial_curve([], GaussianMixtureGenerator.__new__(GaussianMixtureGenerator)) is None  # unfitted: no curve


def test_the_rationale_gives_a_generator_the_fidelity_it_was_ranked_on():
    """A generator whose fidelity was cut for memorisation is cited with the cut value it was
    ranked on (and the C2ST before it), never the raw C2ST beside the cut value's interval; a
    family trained for under a second is not said to have had 0 s."""
    from advisor.judging.ranking import _metric_text, _time_ran_out

    entry = {"criteria": {"fidelity": 0.8483}, "metrics": {"c2st_score": 0.9434, "memorization_penalty": 0.1009, "coverage": 0.99}}
    assert _metric_text(entry, "generate") == "0.848 (0.943 cut by 10% for memorisation), coverage 0.99"
    entry["metrics"]["memorization_penalty"] = 0.0
    assert _metric_text(entry, "generate") == "0.943, coverage 0.99"
    assert _time_ran_out({"curve": {"seconds": [0.2, 0.71]}}) == "its 0.7 s ran out"
    assert _time_ran_out({"curve": {"seconds": [3.0, 9.0]}}) == "its 9 s ran out"
