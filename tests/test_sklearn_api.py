"""AdvisorClassifier / AdvisorRegressor inside scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

from advisor.sklearn_api import AdvisorClassifier, AdvisorRegressor

FAST = {"budget": 5, "max_trials": 1, "families": "linear,hist_gradient_boosting"}


@pytest.mark.parametrize("est", [AdvisorClassifier(**FAST), AdvisorRegressor(**FAST)], ids=["classifier", "regressor"])
def test_passes_check_estimator(classic_only, est):
    check_estimator(est)


def test_in_a_pipeline_with_cross_val_score(classic_only, mixed_frame):
    X, y = mixed_frame.drop(columns="label"), mixed_frame["label"]
    pipe = make_pipeline(FunctionTransformer(lambda d: d.assign(ab=d["a"] * d["b"])), AdvisorClassifier(**FAST))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.7  # the label depends on a, b and colour: far above the 0.5 of chance


def test_keeps_the_recommendation_and_delegates(classic_only, mixed_frame):
    X, y = mixed_frame.drop(columns="label"), mixed_frame["label"]
    clf = AdvisorClassifier(**FAST).fit(X, y)
    assert clf.best_family_ in {"linear", "hist_gradient_boosting"}
    assert set(clf.classes_) == {"yes", "no"}
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    assert "ranking" in clf.recommendation_.to_dict()


def test_regressor_returns_std_when_the_winner_can(classic_only):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.3, size=150)
    reg = AdvisorRegressor(budget=5, max_trials=1, families="linear").fit(X, y)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (150,) and (std > 0).all()
    assert reg.score(X, y) > 0.9
