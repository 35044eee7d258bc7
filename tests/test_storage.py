"""Persistent studies: the embedded journal, resuming, `advisor runs`, and workers sharing a study."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from advisor.cli import main


def _recommend(csv_path, out, *extra):
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "12", "--json", str(out), "--quiet", "--force", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_default_run_is_recorded_and_a_rerun_resumes(tmp_path, classic_only, csv_path):
    first = _recommend(csv_path, tmp_path / "a.json", "--max-trials", "2")
    study = first["search"]["study"]
    assert study.startswith("advisor-classify-") and first["search"]["imported_trials"] == 0
    assert (tmp_path / "advisor-home" / "studies.journal").exists()
    second = _recommend(csv_path, tmp_path / "b.json", "--max-trials", "3")
    assert second["search"]["study"] == study
    # the two earlier trials of each family are read back once, not repeated: one new trial each
    for entry in second["ranking"]:
        if entry["status"] == "ok":
            numbers = [h[0] for h in entry["trials"]["history"]]
            assert numbers == sorted(set(numbers)) and len(numbers) == 3
    assert second["search"]["imported_trials"] == 4
    listed = CliRunner().invoke(main, ["runs", "--json"])
    runs = json.loads(listed.output)
    assert runs[0]["study"] == study and runs[0]["status"] == "finished" and runs[0]["recommendation"] == second["recommendation"]


def test_no_storage_keeps_nothing(tmp_path, classic_only, csv_path):
    doc = _recommend(csv_path, tmp_path / "a.json", "--max-trials", "1", "--no-storage")
    assert "study" not in doc["search"]
    assert not (tmp_path / "advisor-home" / "studies.journal").exists()


def test_a_study_refuses_other_data(tmp_path, classic_only, csv_path, mixed_frame):
    _recommend(csv_path, tmp_path / "a.json", "--max-trials", "1", "--study", "mine")
    other = tmp_path / "other.csv"
    mixed_frame.assign(a=mixed_frame["a"] * 2).to_csv(other, index=False)
    result = CliRunner().invoke(main, ["recommend", str(other), "--task", "classify", "--target", "label", "--budget", "5", "--study", "mine", "--quiet"])
    assert result.exit_code == 2 and "was run on other data" in result.output


def test_unreachable_storage_is_exit_2(csv_path, classic_only):
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "5", "--storage", "postgresql+psycopg2://nobody@127.0.0.1:1/none", "--quiet"])
    assert result.exit_code == 2 and "--storage" in result.output and "Traceback" not in result.output


def test_worker_refuses_unknown_study(tmp_path):
    result = CliRunner().invoke(main, ["worker", "--storage", str(tmp_path / "j.journal"), "--study", "nope", "--budget", "5"])
    assert result.exit_code == 2 and "no study 'nope'" in result.output


@pytest.mark.slow
def test_coordinator_and_two_workers_share_a_sqlite_study(tmp_path, csv_path):
    storage = f"sqlite:///{tmp_path / 'advisor.db'}"
    tests = os.path.dirname(os.path.abspath(__file__))
    # the slow family (about a second a trial) keeps the search going while the workers join
    env = dict(os.environ, ADVISOR_LOAD_PLUGINS="classic", ADVISOR_PLUGIN_MODULES="fake_plugins.slow", PYTHONPATH=tests, ADVISOR_HOME=str(tmp_path / "home"))
    out = tmp_path / "result.json"
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "25", "--storage", storage, "--study", "shared", "--json", str(out), "--quiet"],
        env=env,
    )
    workers = [
        subprocess.Popen([sys.executable, "-m", "advisor.cli", "worker", "--storage", storage, "--study", "shared", "--budget", "15", "--wait", "15", "--quiet"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert coordinator.wait(timeout=120) == 0
    assert all(w.returncode == 0 for w in workers), outputs
    doc = json.loads(out.read_text())
    assert len(doc["search"]["workers"]) == 3  # the coordinator and both workers added trials
    assert doc["search"]["imported_trials"] > 0
    assert doc["elapsed_s"] <= 25 + 5
