"""The classic families' own estimators, where they do more than wrap scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score


def _rows_with_gross_outliers(n=600, outliers=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:outliers] = rng.uniform(6, 10, size=(outliers, 6)) * rng.choice([-1, 1], size=(outliers, 6))
    is_outlier = np.zeros(n, dtype=int)
    is_outlier[:outliers] = 1
    return pd.DataFrame(X, columns=[f"c{i}" for i in range(6)]), is_outlier


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_a_mixture_with_many_components_still_finds_the_outliers_it_was_fitted_on(covariance_type):
    """Maximum likelihood gives isolated rows components of their own, so a detector fitted on
    data holding gross outliers rated exactly those rows the most normal (ROC-AUC near 0). The
    densities are read from the components the rows support, and the outliers come out on top."""
    from advisor_plugins.classic.estimators import GaussianMixtureGenerator

    X, is_outlier = _rows_with_gross_outliers()
    model = GaussianMixtureGenerator(n_components=29, covariance_type=covariance_type, random_state=0).fit(X)
    assert model.gmm_.n_components == 29  # the fitted mixture itself is unchanged: sampling draws from it
    assert roc_auc_score(is_outlier, -model.score_samples(X)) > 0.95
    assert (model.predict(X)[is_outlier == 1] == -1).all()


def test_a_mixture_whose_components_are_all_supported_scores_as_fitted():
    from advisor_plugins.classic.estimators import GaussianMixtureGenerator

    X, _ = _rows_with_gross_outliers(outliers=0)
    model = GaussianMixtureGenerator(n_components=2, random_state=0).fit(X)
    Z = model.encoder_.transform(X).astype(float)
    np.testing.assert_allclose(model.score_samples(X), model.gmm_.score_samples(Z))
