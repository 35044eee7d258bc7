"""The dataset profile and the readers behind it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.advise import profile
from advisor.data.profiling import detect_modality, profile_frame
from advisor.data.tables import read_table
from advisor.errors import InputError


def test_column_kinds_and_target(mixed_frame):
    prof = profile_frame(mixed_frame, "label", task="classify")
    kinds = {c.name: c.kind for c in prof.columns}
    assert kinds == {"a": "numeric", "b": "numeric", "count": "numeric", "colour": "categorical", "label": "categorical"}
    assert prof.target_kind == "binary" and prof.n_classes == 2 and 0 < prof.class_balance <= 1
    assert prof.features == ["a", "b", "count", "colour"]
    assert prof.modality == "tabular"
    assert prof.column("a").missing == pytest.approx(0.05)
    json.dumps(prof.to_dict())  # JSON-serialisable


@pytest.mark.parametrize(
    "columns,shape,modality,expected_shape",
    [
        ([f"p{i}" for i in range(64)], None, "image", (8, 8)),
        ([f"pixel{i}" for i in range(1, 257)], None, "image", (16, 16)),
        ([f"x{i}" for i in range(64)], None, "sequence", None),
        ([f"p{i}" for i in range(60)], None, "sequence", None),  # not a square
        ([f"c{i}" for i in range(12)], (3, 4), "image", (3, 4)),
        (["age", "height", "weight"], None, "tabular", None),
    ],
)
def test_modality_is_read_from_column_names(columns, shape, modality, expected_shape):
    got, reason, image_shape, _ = detect_modality(columns, set(columns), shape)
    assert got == modality and image_shape == expected_shape and reason


def test_names_that_claim_an_order_the_values_do_not_show_are_warned_about():
    """f0..f19 exported from an array of unrelated features is read as a sequence by its names
    (the contract), but the profile says that neighbouring columns are no more alike than random
    ones; a real signal, digits as pixels, and a modality the user forced draw no such warning."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(500, 20)), columns=[f"f{i}" for i in range(20)])
    prof = profile_frame(table)
    assert prof.modality == "sequence"
    [warning] = [w for w in prof.warnings if "neighbouring columns" in w]
    assert warning.startswith("columns f0..f19 are read as a sequence by their names") and "rename the columns" in warning

    phase = rng.uniform(0, 2 * np.pi, (500, 1))
    signal = pd.DataFrame(np.sin(np.linspace(0, 4 * np.pi, 64) + phase) + rng.normal(0, 0.1, (500, 64)),
                          columns=[f"x{i}" for i in range(64)])
    assert not [w for w in profile_frame(signal).warnings if "neighbouring" in w]
    from sklearn.datasets import load_digits

    digits = pd.DataFrame(load_digits().data, columns=[f"p{i}" for i in range(64)])
    assert profile_frame(digits).modality == "image" and not [w for w in profile_frame(digits).warnings if "neighbouring" in w]
    assert not [w for w in profile_frame(table, sequence=True).warnings if "neighbouring" in w]


def test_forced_shape_that_does_not_fit_is_an_input_error():
    with pytest.raises(InputError, match="needs 9 pixel columns"):
        detect_modality(["a", "b"], {"a", "b"}, (3, 3))


def test_large_tables_are_profiled_on_a_sample():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(120_000, 3)), columns=["a", "b", "c"])
    prof = profile_frame(frame, max_rows=10_000)
    assert prof.n_rows == 120_000 and prof.sampled_rows == 10_000


def test_readers(tmp_path, mixed_frame):
    mixed_frame.to_parquet(tmp_path / "d.parquet")
    assert read_table(tmp_path / "d.parquet").frame.shape == mixed_frame.shape
    mixed_frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    assert list(read_table(tmp_path / "d.tsv").frame.columns) == list(mixed_frame.columns)
    np.savez(tmp_path / "img.npz", X=np.zeros((12, 4, 4, 3)), y=np.arange(12))
    table = read_table(tmp_path / "img.npz")
    assert table.image_shape == (4, 4, 3) and table.frame.shape == (12, 49) and table.target == "y"
    prof = profile(tmp_path / "img.npz")
    assert prof.modality == "image" and prof.image_shape == (4, 4, 3) and prof.target == "y"


def test_profile_cli_prints_a_table(csv_path):
    from click.testing import CliRunner

    from advisor.cli import main

    result = CliRunner().invoke(main, ["profile", str(csv_path), "--target", "label"])
    assert result.exit_code == 0
    assert "200 rows" in result.output and "colour" in result.output and "target: label" in result.output


cells = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12), st.text(max_size=5))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(min_size=1, max_size=6), st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=5))
def test_profile_never_crashes_on_odd_frames(columns):
    frame = pd.DataFrame(columns)
    try:
        prof = profile_frame(frame)
    except InputError:
        return  # a documented, one-line error
    json.dumps(prof.to_dict(), default=str)
    assert prof.n_rows == 3


def test_the_profile_marks_a_constant_column_as_a_run_does():
    import advisor

    frame = pd.DataFrame({"a": np.arange(30.0), "k": 7, "y": ["p", "q"] * 15})
    roles = {c.name: c.role for c in advisor.profile(frame, target="y", task="classify").columns}
    assert roles == {"a": "feature", "k": "ignored", "y": "target"}
    assert {c.name: c.role for c in advisor.profile(frame, target="y", task="detect").columns}["k"] == "feature"
