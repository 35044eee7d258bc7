"""The bundled datasets load as declared and rebuild byte-identically."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from advisor import datasets
from advisor.families.contract import TASKS

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "datasets" / "make_datasets.py"
# Built from scikit-learn data or from a seed, so they can be rebuilt anywhere.
ALWAYS_REBUILDABLE = ("iris", "diabetes", "digits", "sensors")

ALL = datasets.list_datasets()


@pytest.fixture(autouse=True)
def _default_folder(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)


def _make_module():
    spec = importlib.util.spec_from_file_location("_advisor_make_datasets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_listing_is_well_formed():
    names = [d["name"] for d in ALL]
    assert names == sorted(names) and len(names) >= 6
    for d in ALL:
        assert {"name", "file", "rows", "columns", "tasks", "target", "description"} <= set(d)
        assert set(d["tasks"]) <= set(TASKS), d["name"]
        assert set(d["target"]) == set(d["tasks"]), d["name"]
    covered = {t for d in ALL for t in d["tasks"]}
    assert covered == set(TASKS)
    assert any(d["modality"] == "image" for d in ALL)


def test_listing_is_a_copy():
    first = datasets.list_datasets()
    first[0]["target"].clear()
    first[0]["tasks"].append("nonsense")
    again = datasets.list_datasets()
    assert again[0]["target"] and "nonsense" not in again[0]["tasks"]


@pytest.mark.parametrize("meta", ALL, ids=[d["name"] for d in ALL])
def test_loads_with_declared_shape_and_targets(meta):
    p = datasets.path(meta["name"])
    assert p.is_file() and p.name == meta["file"]
    assert p.stat().st_size < 1_000_000
    frame = datasets.load(meta["name"])
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape == (meta["rows"], meta["columns"])
    for task, target in meta["target"].items():
        if target is not None:
            assert target in frame.columns, (task, target)


def test_as_frame_false_gives_values():
    values = datasets.load("iris", as_frame=False)
    assert values.shape == (150, 5)


def test_digits_pixels():
    frame = datasets.load("digits")
    pixels = [f"p{i}" for i in range(64)]
    assert list(frame.columns) == pixels + ["label"]
    block = frame[pixels]
    assert all(pd.api.types.is_float_dtype(block[c]) for c in pixels)
    assert float(block.min().min()) >= 0.0 and float(block.max().max()) <= 1.0
    assert sorted(frame["label"].unique().tolist()) == list(range(10))


def test_mixed_types_and_missing_values():
    cars = datasets.load("cars")
    assert not pd.api.types.is_numeric_dtype(cars["name"])
    assert not pd.api.types.is_numeric_dtype(cars["origin"])
    assert set(cars["origin"]) == {"USA", "Europe", "Japan"}
    assert cars["mpg"].isna().sum() == 8 and cars["horsepower"].isna().sum() == 6
    assert pd.api.types.is_integer_dtype(cars["year"])
    assert cars["year"].between(1970, 1982).all()
    penguins = datasets.load("penguins")
    assert penguins["sex"].isna().sum() == 11
    assert not pd.api.types.is_numeric_dtype(penguins["island"])


def test_sensors_anomaly_rate():
    sensors = datasets.load("sensors")
    assert set(sensors["site"]) == {"north", "south", "west"}
    assert sensors["is_anomaly"].isin([0, 1]).all()
    assert 0.02 <= sensors["is_anomaly"].mean() <= 0.04


def test_rebuild_is_byte_identical(tmp_path, capsys):
    written = _make_module().main(["--out", str(tmp_path)])
    assert set(ALWAYS_REBUILDABLE) <= set(written)
    for name, new in written.items():
        committed = datasets.path(name)
        assert new.read_bytes() == committed.read_bytes(), name


def test_rebuild_rejects_unknown_name(tmp_path):
    with pytest.raises(SystemExit):
        _make_module().main(["--out", str(tmp_path), "nope"])


def test_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="iris"):
        datasets.load("no-such-dataset")
    with pytest.raises(ValueError):
        datasets.path("no-such-dataset")


def test_env_var_overrides_folder(tmp_path, monkeypatch):
    (tmp_path / "iris.csv").write_bytes(datasets.path("iris").read_bytes())
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert datasets.path("iris") == tmp_path / "iris.csv"
    assert datasets.load("iris").shape == (150, 5)
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        datasets.path("iris")


def test_readme_matches_metadata():
    readme = (REPO / "datasets" / "README.md").read_text(encoding="utf-8")
    for d in ALL:
        assert f"| `{d['file']}` | {d['rows']} x {d['columns']} |" in readme, d["name"]
