"""The example third-party plugin installs, shows up, and passes its own tests; the Pipeline
example runs."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "examples" / "advisor-knn"


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """pip-install the example into a private folder (the project's environment stays as it was)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(PLUGIN)],
        check=True,
        capture_output=True,
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]))
    env.pop("ADVISOR_LOAD_PLUGINS", None)
    return env


def test_example_plugin_appears_in_advisor_families(installed_plugin):
    out = subprocess.run([sys.executable, "-m", "advisor.cli", "families", "--task", "classify", "--json"], env=dict(installed_plugin, ADVISOR_LOAD_PLUGINS="classic,knn"), capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    knn = next(f for f in doc["families"] if f["name"] == "knn")
    assert knn["plugin"] == "knn" and knn["version"] == "0.1.0"


def test_example_plugin_own_tests_pass(installed_plugin):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        env=dict(installed_plugin, ADVISOR_LOAD_PLUGINS="classic,knn"),
        capture_output=True,
        text=True,
        cwd=PLUGIN,
    )
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.slow
def test_pipeline_example_runs(classic_only, capsys):
    runpy.run_path(str(ROOT / "examples" / "pipeline_classifier.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "cross-validated accuracy" in out and "recommended on all rows" in out
