"""Plugin discovery: entry points, explicit modules, and isolation of broken plugins."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.families.discovery import discover, get_plugin_manager
from advisor.testing import check_family

BROKEN = "fake_plugins.raises_at_import,fake_plugins.raises_in_hook,fake_plugins.misspelled_hook,fake_plugins.bad_family"


def test_builtin_plugins_come_from_entry_points(classic_only):
    registry = discover()
    assert [p.name for p in registry.plugins] == ["classic"]
    assert registry.plugin_of["linear"].version
    assert not registry.errors


def test_each_broken_plugin_is_reported_and_skipped(classic_only, monkeypatch):
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", BROKEN)
    registry = discover()
    errors = {p.name: p.error for p in registry.plugins if p.error}
    assert "this plugin is broken at import" in errors["raises_at_import"]
    assert "cannot register today" in errors["raises_in_hook"]
    assert "register_familes" in errors["misspelled_hook"]
    assert "not a lowercase slug" in errors["bad_family"] and "unknown tasks" in errors["bad_family"]
    assert "linear" in registry.families  # the others still work


def test_families_command_shows_load_errors(classic_only, monkeypatch):
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", BROKEN)
    result = CliRunner().invoke(main, ["families", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert {e["plugin"] for e in doc["errors"]} == {"raises_at_import", "raises_in_hook", "misspelled_hook", "bad_family"}
    table = CliRunner().invoke(main, ["families"])
    assert "raises_at_import" in table.output and "not loaded" in table.output


def test_recommend_warns_about_broken_plugins_and_goes_on(classic_only, monkeypatch, mixed_frame):
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.raises_at_import")
    import advisor

    with pytest.warns(RuntimeWarning, match="broken at import"):
        rec = advisor.recommend(mixed_frame, "classify", target="label", budget=6, max_trials=1)
    assert rec.best_family in {"linear", "hist_gradient_boosting"}
    assert any("broken at import" in w for w in rec.warnings)


def test_faulty_families_are_marked_failed_and_the_rest_recommended(classic_only, monkeypatch, mixed_frame):
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.faulty_fit")
    import advisor

    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=10, max_trials=1)
    status = {e["family"]: (e["status"], e["reason"]) for e in rec.to_dict()["ranking"]}
    assert status["faulty_raise"][0] == "failed" and "fit exploded" in status["faulty_raise"][1]
    assert status["faulty_nan"][0] == "failed" and "NaN" in status["faulty_nan"][1]
    assert status["faulty_shape"][0] == "failed" and "rows" in status["faulty_shape"][1]
    assert rec.best_family in {"linear", "hist_gradient_boosting"}


def test_plugin_manager_is_fresh_each_time():
    assert get_plugin_manager() is not get_plugin_manager()
    assert not get_plugin_manager().get_plugins()


@pytest.mark.parametrize("name", ["hist_gradient_boosting", "linear", "gaussian_mixture", "smote", "isolation_forest", "pca", "kernel_features"])
def test_classic_families_pass_the_conformance_check(classic_only, name):
    check_family(discover().get(name))


def test_hung_families_are_stopped_and_the_run_keeps_the_budget(classic_only, monkeypatch, mixed_frame):
    import time

    import advisor

    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.hangs,fake_plugins.faulty_fit")
    start = time.monotonic()
    rec = advisor.recommend(mixed_frame, "classify", target="label", budget=30, max_trials=1)
    wall = time.monotonic() - start
    assert wall <= 30 + 5
    status = {e["family"]: (e["status"], e["reason"] or "") for e in rec.ranking_entries}
    for mode in ("python_loop", "time_sleep", "libc_sleep"):
        assert status[f"hang_{mode}"][0] == "failed"
        assert "was stopped after" in status[f"hang_{mode}"][1]
    assert rec.best_family in {"linear", "hist_gradient_boosting"}
