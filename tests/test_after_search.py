"""The budget rule covers the work after the search, and `--max-trials` runs repeat exactly."""

from __future__ import annotations

import time

import numpy as np
import optuna
import pytest

import advisor
from advisor.data.preparation import prepare
from advisor.data.tables import Table
from advisor.search import FamilyRun, Search, SearchConfig
from fake_plugins.fakes import MajorityVote, fake_family


def test_slow_scoring_on_held_out_rows_keeps_the_budget_rule(mixed_frame, monkeypatch):
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.slow_scoring")
    budget = 6.0
    start = time.monotonic()
    rec = advisor.recommend(mixed_frame, task="classify", target="label", budget=budget, storage=None, families="linear,slow_scoring")
    elapsed = time.monotonic() - start
    assert elapsed <= budget + 5.0
    # Ranked on its validation estimate; only its test figures (which report) are missing.
    slow = next(e for e in rec.ranking_entries if e["family"] == "slow_scoring")
    assert "budget" in slow["metrics"]["test"]["missing"]
    linear = next(e for e in rec.ranking_entries if e["family"] == "linear")
    assert "balanced_accuracy" in linear["metrics"]["test"]
    assert rec.best_family == "linear"
    assert any("slow_scoring could not be scored" in w for w in rec.warnings)


def test_a_winner_refit_to_the_end_of_the_budget_leaves_the_test_figures_their_time(mixed_frame, monkeypatch):
    """The test rows are scored with the search's models, so they are scored before the refit: a
    winner whose refit trains until the budget runs out no longer leaves the ranking without them."""
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.trains_to_deadline")
    # Its refit is expected to take a moment (as the search's run on fewer rows promised), and
    # then trains until the budget runs out, as a deep family's does.
    monkeypatch.setattr(Search, "refit_seconds", lambda self, run: 0.3 if run is not None else 0.0)
    budget = 6.0
    start = time.monotonic()
    rec = advisor.recommend(mixed_frame, task="classify", target="label", budget=budget, storage=None, families="trains_to_deadline")
    assert time.monotonic() - start <= budget + 5.0
    entry = rec.ranking_entries[0]
    assert entry["family"] == "trains_to_deadline" and entry["converged"] is False
    assert "balanced_accuracy" in entry["metrics"]["test"]
    assert not any("could not be scored" in w for w in rec.warnings)


class _Counted(MajorityVote):
    """Fits at once; says its training was cut by the deadline when told to."""

    fits = 0

    def __init__(self, cut=False):
        self.cut = cut

    def _train(self, X, y):
        type(self).fits += 1
        self.history_ = {"stopped_by": "deadline" if self.cut else "early_stopping"}


def _search(frame, seconds=30.0):
    big = frame.sample(900, replace=True, random_state=0).reset_index(drop=True)
    data = prepare(Table(big, "test"), "classify", "label", seed=0)
    run = FamilyRun(fake_family("counted", _Counted))
    search = Search(data, data.splits, [run], SearchConfig(task="classify"), end=time.monotonic() + seconds)
    return search, run


@pytest.mark.parametrize("cut", [True, False])
def test_growth_probe_is_skipped_when_the_deadline_cut_the_fit(mixed_frame, cut):
    search, run = _search(mixed_frame)
    est = _Counted(cut=cut).fit(search.X_train, search.y_train)
    run.best_estimator, run.fit_seconds, run.fit_rows = est, 0.5, len(search.X_train)
    before = _Counted.fits
    search.probe_growth(run, 5.0)
    if cut:
        assert _Counted.fits == before and "deadline" in run.growth_note
    else:
        assert _Counted.fits == before + 1  # measured (or found too fast to time)


def test_the_json_says_where_the_seconds_went(mixed_frame, classic_only, monkeypatch):
    from advisor_plugins.classic.families import Linear

    build, first = Linear.make_estimator, []

    def slow_first_build(self, *args, **kwargs):  # as a first import of torch would be
        if not first:
            first.append(True)
            time.sleep(0.5)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(Linear, "make_estimator", slow_first_build)
    rec = advisor.recommend(mixed_frame, task="classify", target="label", budget=6, storage=None, families="linear")
    phases = rec.to_dict()["search"]["phases_s"]
    assert list(phases) == ["preparation", "set_up", "search", "verdict", "test_rows", "refit"]
    assert phases["set_up"] >= 0.5 and all(seconds >= 0 for seconds in phases.values())
    assert sum(phases.values()) == pytest.approx(rec.elapsed_s, abs=0.5)


def test_optuna_verbosity_is_given_back_after_a_run(mixed_frame, monkeypatch):
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    try:
        advisor.recommend(mixed_frame, task="classify", target="label", budget=3, storage=None, families="linear")
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
    finally:
        optuna.logging.set_verbosity(previous)


@pytest.mark.slow
def test_max_trials_repeats_a_torch_family_exactly(mixed_frame, monkeypatch):
    """With --max-trials the BNN trains by epochs, not by the clock: two runs give one model."""
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "bnn")
    answers, params = [], []
    for _ in range(2):
        rec = advisor.recommend(mixed_frame, task="classify", target="label", budget=60, storage=None, families="bnn", max_trials=2, seed=3)
        entry = rec.ranking_entries[0]
        assert entry["status"] == "ok", entry["reason"]
        params.append(entry["params"])
        answers.append(rec.best_estimator_.predict_proba(mixed_frame))
    assert params[0] == params[1]
    np.testing.assert_array_equal(answers[0], answers[1])


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return torch.cuda.is_available()


@pytest.mark.slow
@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kind", ["table", "images"])
def test_diffusion_on_cuda_keeps_the_budget_rule(kind, monkeypatch):
    """On a GPU the deadline must reach training, sampling for scoring and the refit alike."""
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic,diffusion")
    rng = np.random.default_rng(0)
    if kind == "images":
        data = rng.random((400, 16, 16))
    else:
        import pandas as pd

        data = pd.DataFrame({"a": rng.normal(size=266), "b": rng.gamma(2.0, size=266), "c": rng.choice(["x", "y", "z"], 266)})
    budget = 30.0
    start = time.monotonic()
    rec = advisor.recommend(data, task="generate", budget=budget, storage=None, device="cuda", families="diffusion,gaussian_mixture")
    assert time.monotonic() - start <= budget + 5.0
    assert rec.best_estimator_ is not None
