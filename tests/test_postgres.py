"""A coordinator and two workers on a real PostgreSQL server; a worker killed mid-trial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from postgres_server import postgres_url

TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def pg():
    with postgres_url() as url:
        yield url


def _env(tmp_path):
    return dict(os.environ, ADVISOR_LOAD_PLUGINS="classic", ADVISOR_PLUGIN_MODULES="fake_plugins.slow", PYTHONPATH=TESTS, ADVISOR_HOME=str(tmp_path / "home"))


def _coordinator(csv_path, storage, study, out, env, budget=25):
    return subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", str(budget), "--storage", storage, "--study", study, "--json", str(out), "--quiet"],
        env=env,
    )


def _worker(storage, study, env, budget=15):
    return subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "worker", "--storage", storage, "--study", study, "--budget", str(budget), "--wait", "20", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_coordinator_and_two_workers_on_postgres(pg, tmp_path, csv_path):
    env, out = _env(tmp_path), tmp_path / "result.json"
    start = time.monotonic()
    coordinator = _coordinator(csv_path, pg, "pg-shared", out, env)
    workers = [_worker(pg, "pg-shared", env) for _ in range(2)]
    for w in workers:
        stdout, stderr = w.communicate(timeout=120)
        assert w.returncode == 0, stderr
    assert coordinator.wait(timeout=120) == 0
    doc = json.loads(out.read_text())
    assert len(doc["search"]["workers"]) >= 2 and doc["search"]["imported_trials"] > 0
    assert doc["elapsed_s"] <= 25 + 5 and time.monotonic() - start < 90


def _wait_for_running_trial(storage, study_name, pid, timeout=30.0):
    """Block until the worker `pid` has a trial running in `study_name` (polled in the storage)."""
    import optuna

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            trials = optuna.load_study(study_name=study_name, storage=storage).get_trials(deepcopy=False)
        except KeyError:  # the coordinator has not created the study yet
            trials = []
        if any(t.state.name == "RUNNING" and t.user_attrs.get("worker", "").endswith(f":{pid}") for t in trials):
            return
        time.sleep(0.2)
    raise AssertionError(f"worker {pid} started no trial in {study_name} within {timeout:.0f} s")


@pytest.mark.slow
def test_a_killed_worker_does_not_stall_the_study(pg, tmp_path, csv_path):
    env, out = _env(tmp_path), tmp_path / "result.json"
    coordinator = _coordinator(csv_path, pg, "pg-kill", out, env, budget=40)
    doomed = _worker(pg, "pg-kill", env, budget=30)
    survivor = _worker(pg, "pg-kill", env, budget=30)
    _wait_for_running_trial(pg, "pg-kill:slow", doomed.pid)  # killed mid-trial, whatever the machine's speed
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert coordinator.wait(timeout=120) == 0
    survivor.communicate(timeout=120)
    doc = json.loads(out.read_text())
    assert doc["elapsed_s"] <= 40 + 5
    assert doc["recommendation"]
    import optuna

    study = optuna.load_study(study_name="pg-kill:slow", storage=pg)
    trials = study.get_trials(deepcopy=False)
    running = [(t.number, t.user_attrs.get("worker"), t.datetime_start) for t in trials if t.state.name == "RUNNING"]
    # the killed worker's trial was failed through the heartbeat, not left running
    assert not running, (running, doomed.pid)
    assert any(t.state.name == "FAIL" and t.user_attrs.get("worker", "").endswith(f":{doomed.pid}") for t in trials)


@pytest.mark.slow
def test_losing_the_database_mid_run_ends_with_what_was_found(csv_path, monkeypatch, classic_only):
    """The server stops during the search: the run still recommends, and says why it stopped."""
    import threading

    import advisor
    from postgres_server import PostgresServer

    server = PostgresServer()
    url = server.start()
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", "fake_plugins.slow")
    threading.Timer(8, server.stop).start()
    try:
        rec = advisor.recommend(str(csv_path), "classify", target="label", budget=25, storage=url, study="lost")
    finally:
        server.stop()
    assert rec.best_estimator_ is not None
    assert any("storage stopped answering" in w for w in rec.warnings)
