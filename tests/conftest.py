"""Shared fixtures: tiny data, and the classic plugin only unless a test asks for more."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# Property tests explore new random examples on every local run; CI (HYPOTHESIS_PROFILE=ci, set
# by .ci/run) draws the same examples each time, so that its verdict depends on the commit alone.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def classic_only(monkeypatch):
    """Load only the classic plugin: core tests stay fast and independent of the deep families."""
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")


@pytest.fixture
def mixed_frame():
    """200 rows: two informative numerics, a categorical, holes, and a binary label."""
    rng = np.random.default_rng(0)
    n = 200
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    logit = 2 * a - b + (colour == "red") * 1.5
    frame = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "count": rng.poisson(3, size=n),
            "colour": colour,
            "label": np.where(logit + rng.logistic(size=n) > 0, "yes", "no"),
        }
    )
    frame.loc[rng.choice(n, 10, replace=False), "a"] = np.nan
    frame.loc[rng.choice(n, 8, replace=False), "colour"] = np.nan
    return frame


@pytest.fixture
def csv_path(tmp_path, mixed_frame):
    path = tmp_path / "data.csv"
    mixed_frame.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def private_advisor_home(tmp_path, monkeypatch):
    """The CLI records trials in a journal under ADVISOR_HOME: each test gets its own."""
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "advisor-home"))
