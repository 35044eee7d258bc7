"""A real signal to a real `advisor recommend` process: the ranking so far is printed and
saved, and the exit code says which signal stopped it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _default_signal_handling():
    """The child starts with the default signal handling, whatever the test run inherited: a
    suite started in the background (nohup, a CI runner) ignores SIGINT, and a process started
    with SIGINT ignored rightly keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_saves_the_ranking_so_far(tmp_path, csv_path, sig, code):
    out = tmp_path / "partial.json"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        ADVISOR_LOAD_PLUGINS="classic",
        ADVISOR_PLUGIN_MODULES="fake_plugins.slow",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "120", "--json", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signal_handling,
    )
    # Wait until the slow family has finished its first trial, then signal mid-search.
    deadline = time.monotonic() + 60
    seen = ""
    while "slow trial 1" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    time.sleep(0.5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    doc = json.loads(out.read_text())
    assert doc["search"]["interrupted"] in ("KeyboardInterrupt", "Terminated")
    statuses = {e["family"]: e["status"] for e in doc["ranking"]}
    assert statuses["slow"] == "ok" and statuses["linear"] == "ok"
    assert doc["recommendation"] in stdout
