"""Advice before training: the priors, the `--budget 0` answer, and the search they guide."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import advisor
from advisor.cli import main
from advisor.data.profiling import profile_frame
from advisor.families.discovery import discover
from advisor.judging.weights import parse_weights
from advisor.priors import CRITERIA, family_prior, measured, prior_entries, prior_of
from advisor.priors.features import meta_features
from advisor.search import FamilyRun, plan_order


@pytest.fixture
def table_profile(mixed_frame):
    return profile_frame(mixed_frame, "label", task="classify")


@pytest.fixture
def fake_measurements(tmp_path, monkeypatch, table_profile):
    """Two benchmark cases: one like the test table (linear won there), one far from it."""
    near = meta_features(table_profile)
    far = dict(near, log_rows=near["log_rows"] + 3, image=1.0)
    doc = {"cases": [
        {"case": "like_this", "task": "classify", "features": near, "families": {
            "linear": {"rel_fidelity": 1.0, "uncertainty": 0.9, "seconds_per_1k_rows": 0.1},
            "hist_gradient_boosting": {"rel_fidelity": 0.6, "uncertainty": 0.5, "seconds_per_1k_rows": 500.0}}},
        {"case": "far_away", "task": "classify", "features": far, "families": {
            "linear": {"rel_fidelity": 0.5, "uncertainty": 0.9, "seconds_per_1k_rows": 0.1},
            "hist_gradient_boosting": {"rel_fidelity": 1.0, "uncertainty": 0.5, "seconds_per_1k_rows": 500.0}}},
    ]}
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setattr(measured, "DATA_FILE", path)
    measured._load.cache_clear()
    yield path
    measured._load.cache_clear()


def test_every_builtin_family_gives_all_four_criteria_with_reasons(table_profile):
    registry = discover()
    image = profile_frame(pd.DataFrame(np.random.default_rng(0).random((40, 64)), columns=[f"p{i}" for i in range(64)]), image_shape=(8, 8))
    checked = 0
    for family in registry.families.values():
        for task in sorted(family.tasks):
            prof = table_profile if family.supports(task, table_profile).ok else image
            if not family.supports(task, prof).ok:
                continue
            prior = family.prior(task, prof)
            assert set(prior) >= set(CRITERIA), family.name
            for criterion in CRITERIA:
                score, reason = prior[criterion]
                assert 0.0 <= score <= 1.0 and isinstance(reason, str) and reason, (family.name, task, criterion)
            checked += 1
    assert checked >= 20


def test_measurements_on_similar_data_decide_and_are_cited(fake_measurements, table_profile):
    registry = discover()
    linear, hgb = registry.get("linear"), registry.get("hist_gradient_boosting")
    entries = prior_entries([hgb, linear], "classify", table_profile, parse_weights(None, "classify"))
    assert entries[0]["family"] == "linear"  # the documents alone would put boosting first on a table
    assert "like_this" in entries[0]["reasons"]["fidelity"]
    assert entries[0]["criteria"]["compute"] > entries[1]["criteria"]["compute"]


def test_a_left_out_case_is_not_used(fake_measurements, table_profile, monkeypatch):
    linear = discover().get("linear")
    with_case = family_prior(linear, "classify", table_profile)
    monkeypatch.setenv(measured.EXCLUDE_ENV, "like_this")
    without = family_prior(linear, "classify", table_profile)
    assert "like_this" in with_case["fidelity"][1] and "like_this" not in without["fidelity"][1]
    assert without["fidelity"][0] < with_case["fidelity"][0]


def test_a_broken_plugin_prior_falls_back_to_the_generic_one(table_profile):
    class Broken(type(discover().get("linear"))):
        def prior(self, task, profile):
            raise RuntimeError("bug in a plugin")

    prior = prior_of(Broken(), "classify", table_profile)
    assert set(prior) == set(CRITERIA)


def test_budget_zero_answers_from_the_prior_without_training(csv_path, tmp_path):
    out = tmp_path / "advice.json"
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "0", "--json", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["source"] == "prior" and doc["budget_s"] == 0
    ranked = [e for e in doc["ranking"] if e["criteria"]]
    assert doc["recommendation"] == ranked[0]["family"]
    assert all(e["trials"]["total"] == 0 for e in doc["ranking"])
    assert all(set(e["reasons"]) == set(CRITERIA) for e in ranked)
    assert any("expected first" in line for line in doc["rationale"])


def test_budget_zero_does_not_load_torch(csv_path):
    code = (
        "import sys, advisor\n"
        f"rec = advisor.recommend({str(csv_path)!r}, 'classify', target='label', budget=0)\n"
        "print(rec.source, rec.best_estimator_ is None, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["prior", "True", "False"]


def test_plan_order_puts_one_cheap_family_first_then_the_prior_favourites():
    registry = discover()
    runs = [FamilyRun(registry.get(n)) for n in ("bnn", "resnet", "linear", "hist_gradient_boosting", "dbn")]
    unguided = [r.name for r in plan_order(runs, None)]
    assert unguided[:2] == ["hist_gradient_boosting", "linear"]
    guided = [r.name for r in plan_order(runs, {"resnet": 0.9, "bnn": 0.8, "linear": 0.3, "hist_gradient_boosting": 0.7, "dbn": 0.1})]
    assert guided == ["hist_gradient_boosting", "resnet", "bnn", "linear", "dbn"]


@pytest.mark.usefixtures("classic_only")
def test_a_search_reports_whether_the_measurement_agreed_with_the_prior(mixed_frame, monkeypatch):
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=6, families="linear,hist_gradient_boosting")
    assert rec.prior["guided"] is True and rec.prior["top"] in ("linear", "hist_gradient_boosting")
    assert rec.prior["agrees"] == (rec.prior["top"] == rec.best_family)
    assert any(line.startswith("The prior expected") for line in rec.rationale)
    assert rec.to_dict()["prior"]["ranking"]
    monkeypatch.setenv("ADVISOR_PRIOR", "off")
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=4, families="linear")
    assert rec.prior["guided"] is False


def test_an_estimator_with_budget_zero_says_it_cannot_train(mixed_frame):
    from advisor.sklearn_api import AdvisorClassifier

    with pytest.raises(ValueError, match="budget=0 gives advice without training"):
        AdvisorClassifier(budget=0).fit(mixed_frame.drop(columns="label"), mixed_frame["label"])
