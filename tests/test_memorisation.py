"""A generator that hands back its training rows is cut; one that draws fresh rows is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.criteria import evaluate
from advisor.criteria.base import EvalContext
from advisor.criteria.unsupervised import memorisation_excess


class _Replay:
    """Samples `share` of its rows as copies of training rows, the rest fresh from the source."""

    def __init__(self, train: pd.DataFrame, share: float):
        self.train, self.share = train, share

    def sample(self, n, random_state=None):
        rng = np.random.default_rng(random_state)
        copies = self.train.sample(int(n * self.share), replace=True, random_state=int(rng.integers(2**31)))
        fresh = _rows(n - len(copies), rng)
        return pd.concat([copies, fresh], ignore_index=True)


def _rows(n, rng) -> pd.DataFrame:
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})


@pytest.fixture
def split():
    rng = np.random.default_rng(0)
    return _rows(400, rng), _rows(200, rng)


def test_copying_generators_lose_fidelity_and_fresh_ones_keep_it(split):
    train, held_out = split
    ctx = EvalContext(task="generate", train_X=train, seed=0)
    fresh = evaluate("generate", _Replay(train, 0.0), held_out, None, ctx)
    copying = evaluate("generate", _Replay(train, 0.6), held_out, None, ctx)
    assert fresh.metrics["memorization_penalty"] == 0
    assert copying.metrics["memorization_share"] > 0.7
    assert copying.metrics["memorization_penalty"] > 0.3
    assert copying.fidelity < fresh.fidelity


def test_the_excess_is_an_upper_bound_that_tightens_with_rows():
    # on the line (held-out share + 0.05), the bound says it may be past it; far more rows shrink the margin
    few = memorisation_excess(0.55, 0.5, n_synthetic=200, n_heldout=50)
    many = memorisation_excess(0.55, 0.5, n_synthetic=20000, n_heldout=20000)
    assert few > many > 0
    # a generator as close to its rows as fresh rows are is never cut, even on small data
    assert memorisation_excess(0.5, 0.5, n_synthetic=500, n_heldout=40) < 0


def test_a_noisy_heldout_share_is_pooled_with_what_fresh_rows_give():
    # 40 held-out rows that happen to give 0.65 do not license a generator at 0.68
    assert memorisation_excess(0.68, 0.65, n_synthetic=2000, n_heldout=40) > 0
    # 20,000 held-out rows at 0.65 (data with many duplicated rows) do
    assert memorisation_excess(0.68, 0.65, n_synthetic=20000, n_heldout=20000) < 0
