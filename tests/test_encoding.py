"""TabularEncoder: the round trip that every generator relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from advisor.nn.encoding import OTHER, TabularEncoder


def _frame():
    return pd.DataFrame(
        {
            "x": [1.5, 2.0, np.nan, 4.0] * 5,
            "colour": ["red", "blue", None, "red"] * 5,
            "n": [1, 2, 3, 4] * 5,
            "flag": [True, False, True, True] * 5,
            "nullable": pd.Series([1, None, 3, 4] * 5, dtype="Int64"),
            "cat": pd.Categorical(["u", "v", "u", "u"] * 5),
        }
    )


@pytest.mark.parametrize("numeric", ["standard", "quantile", "minmax"])
@pytest.mark.parametrize("categorical", ["onehot", "codes"])
def test_round_trip_restores_values_dtypes_and_levels(numeric, categorical):
    frame = _frame()
    enc = TabularEncoder(numeric=numeric, categorical=categorical).fit(frame)
    Z = enc.transform(frame)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    back = enc.inverse_transform(Z)
    pd.testing.assert_frame_equal(back, frame, check_dtype=True, atol=1e-5)


def test_generated_numbers_are_clipped_rounded_and_made_missing():
    frame = _frame()
    enc = TabularEncoder().fit(frame)
    Z = np.zeros((3, enc.n_output_))
    spec = {s.name: s for s in enc.specs_}
    Z[:, spec["n"].start] = [100.0, -100.0, 0.1]  # far outside the range seen
    Z[0, spec["x"].indicator] = 0.9  # the indicator says missing
    out = enc.inverse_transform(Z)
    assert out["n"].tolist() == [4, 1, 3] and out["n"].dtype == np.int64
    assert np.isnan(out["x"][0]) and out["x"][1:].notna().all()
    assert set(out["colour"].dropna()) <= {"red", "blue"}


def test_rare_levels_share_a_bucket_and_come_back_as_real_levels():
    levels = [f"L{i}" for i in range(300)]
    frame = pd.DataFrame({"c": levels + ["L0"] * 50})
    enc = TabularEncoder(max_levels=20).fit(frame)
    assert enc.categorical_cardinalities_ == [20]
    spec = enc.specs_[0]
    Z = np.zeros((200, enc.n_output_))
    Z[:, spec.start + spec.levels.index(OTHER)] = 1.0
    out = enc.inverse_transform(Z, random_state=0)
    assert set(out["c"]) <= set(levels[1:]) and out["c"].nunique() > 50


def test_unseen_levels_encode_as_zeros():
    enc = TabularEncoder().fit(pd.DataFrame({"c": ["a", "b"] * 5}))
    Z = enc.transform(pd.DataFrame({"c": ["zzz"]}))
    assert Z.sum() == 0


column_values = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=12, max_size=12),
    st.lists(st.integers(-(10**9), 10**9), min_size=12, max_size=12),
    st.lists(st.one_of(st.none(), st.text(min_size=1, max_size=6)), min_size=12, max_size=12),
    st.lists(st.booleans(), min_size=12, max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(min_size=1, max_size=8), column_values, min_size=1, max_size=4))
@example({"0": [None] * 12})  # a column with nothing in it: missing comes back missing (NaN, as read_csv gives it)
def test_round_trip_on_random_frames(columns):
    frame = pd.DataFrame(columns)
    enc = TabularEncoder(max_levels=1000, dtype="float64").fit(frame)
    back = enc.inverse_transform(enc.transform(frame))
    assert list(back.columns) == list(frame.columns)
    for col in frame.columns:
        original, restored = frame[col], back[col]
        assert restored.dtype == original.dtype, col
        if pd.api.types.is_float_dtype(original):
            np.testing.assert_allclose(restored.to_numpy(float), original.to_numpy(float), rtol=1e-4, atol=1e-3 * (1 + np.nanmax(np.abs(original.to_numpy(float)), initial=0)))
        else:  # a missing value may come back as NaN where it went in as None
            pd.testing.assert_series_equal(_none_for_missing(restored), _none_for_missing(original), check_names=False)


def _none_for_missing(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None) if s.dtype == object else s


def test_discrete_numeric_columns_decode_to_values_they_take():
    frame = pd.DataFrame({"years": [0.5, 2.5, 6.0, 9.0, 16.5] * 8, "x": np.linspace(0, 1, 40)})
    enc = TabularEncoder().fit(frame)
    Z = np.random.default_rng(0).normal(size=(200, enc.n_output_))
    out = enc.inverse_transform(Z)
    assert set(out["years"]) <= {0.5, 2.5, 6.0, 9.0, 16.5}
    assert out["x"].nunique() > 20  # a continuous column is not snapped
