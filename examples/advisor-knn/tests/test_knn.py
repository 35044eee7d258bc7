import numpy as np
import pandas as pd

import advisor
from advisor.sdk import check_family
from advisor_knn.family import KNearestNeighbours


def test_family_keeps_the_contract():
    check_family(KNearestNeighbours())


def test_it_learns_a_non_linear_boundary():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(300, 2)), columns=["u", "v"])
    X["inside"] = np.where(X["u"] ** 2 + X["v"] ** 2 < 0.5, "in", "out")
    rec = advisor.recommend(X, "classify", target="inside", budget=10, families=["knn"], max_trials=3)
    assert rec.best_family == "knn"
    assert rec.ranking_entries[0]["criteria"]["fidelity"] > 0.85


def test_a_saved_model_loads_without_trust(tmp_path):
    """`saved_types` declares the one function of this package the saved pipeline holds."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(120, 2)), columns=["u", "v"])
    X["side"] = np.where(X["u"] > 0, "right", "left")
    rec = advisor.recommend(X, "classify", target="side", budget=5, families=["knn"], max_trials=1)
    loaded = advisor.load(rec.save(tmp_path / "knn.skops"))
    rows = X.drop(columns="side")
    assert (loaded.best_estimator_.predict(rows) == rec.best_estimator_.predict(rows)).all()
