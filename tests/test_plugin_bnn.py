"""The Bayesian neural network plugin: contract, estimator conventions, and that it learns."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from advisor.runtime import budget
from advisor.testing import check_family, toy_images, toy_table

torch = pytest.importorskip("torch")

from advisor_plugins.bnn.estimators import BNNClassifier, BNNRegressor  # noqa: E402
from advisor_plugins.bnn.family import BayesianNeuralNetwork  # noqa: E402

FAST = {"max_epochs": 15, "hidden": 32, "n_samples": 8}


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    X = centers[y] + rng.normal(scale=0.7, size=(n, 2))
    return X, y


def _shapes(n=240, side=8, seed=0):
    """Images holding a short diagonal stroke, falling (class 1) or rising (class 0), anywhere.

    Both classes light the same number of pixels over the same region, so a linear model on the
    pixels has little to go on; a convolution sees the orientation wherever the stroke is.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.2, size=(n, side, side))
    y = np.arange(n) % 2
    steps = np.arange(3)
    for i in range(n):
        r, c = rng.integers(0, side - 2, size=2)
        cols = c + steps if y[i] else c + 2 - steps
        X[i, r + steps, cols] += 1.0
    return X, y


# -- the plugin and the family ------------------------------------------------------------------
def test_declared_traits():
    fam = BayesianNeuralNetwork()
    assert fam.tasks == {"classify", "regress"}
    assert fam.modalities == {"tabular", "image", "sequence"}
    assert fam.uncertainty.kind == "explicit"
    assert 0.3 <= fam.interpretability.score <= 0.5 and "uncertainty" in fam.interpretability.reason


def test_conformance():
    check_family(BayesianNeuralNetwork())


def test_default_params_are_search_space_names():
    import optuna

    from advisor.testing import _task_data

    fam = BayesianNeuralNetwork()
    for modality in ("tabular", "image", "sequence"):
        _, _, profile = _task_data("classify", modality)
        defaults = fam.default_params("classify", profile)
        study = optuna.create_study(direction="maximize")
        study.enqueue_trial(defaults)
        trial = study.ask()
        params = fam.search_space(trial, "classify", profile)
        assert params == defaults
        est = fam.make_estimator("classify", profile, **params)
        assert (est.image_shape is not None) == (modality == "image")
        assert est.sequence == (modality == "sequence")


def test_search_space_covers_every_method():
    import optuna

    from advisor.testing import _task_data

    fam = BayesianNeuralNetwork()
    _, _, profile = _task_data("regress", "tabular")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(40):
        params = fam.search_space(study.ask(), "regress", profile)
        seen.add(params["method"])
        fam.make_estimator("regress", profile, **params).get_params()
    assert seen == {"vi", "mc_dropout", "ensemble"}


# -- scikit-learn conventions -----------------------------------------------------------------
@pytest.mark.parametrize("model", [BNNClassifier, BNNRegressor])
def test_check_estimator_fast_settings(model):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(model(**FAST))


@pytest.mark.slow
@pytest.mark.parametrize("model", [BNNClassifier, BNNRegressor])
def test_check_estimator_defaults(model):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(model())


def test_unfitted_and_bad_params():
    from sklearn.exceptions import NotFittedError

    X, y = _blobs(60)
    with pytest.raises(NotFittedError):
        BNNClassifier().predict_proba(X)
    with pytest.raises(NotFittedError):
        BNNRegressor().predict(X, return_std=True)
    with pytest.raises(ValueError, match="method"):
        BNNClassifier(method="mcmc").fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        BNNClassifier(method="mc_dropout", dropout=1.0).fit(X, y)
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse

        BNNClassifier(**FAST).fit(scipy.sparse.csr_matrix(X), y)


def test_fitted_state_holds_no_torch_objects_but_the_net():
    X, y = _blobs(120)
    est = BNNClassifier(**FAST, random_state=0).fit(X, y)
    for name, value in vars(est).items():
        if name == "net_":
            assert isinstance(value, torch.nn.Module)
            continue
        assert not isinstance(value, (torch.Tensor, torch.Generator, torch.device, torch.nn.Module)), name
    assert isinstance(est.device_, str)
    assert est.history_["epochs"] >= 1


@pytest.mark.parametrize("method", ["vi", "mc_dropout", "ensemble"])
def test_seeded_runs_repeat_exactly(method):
    frame = toy_table(150)
    y = (frame["b"] > 0).map({True: "up", False: "down"})
    a = BNNClassifier(**FAST, method=method, n_members=3, random_state=7).fit(frame, y).predict_proba(frame)
    b = BNNClassifier(**FAST, method=method, n_members=3, random_state=7).fit(frame, y).predict_proba(frame)
    c = BNNClassifier(**FAST, method=method, n_members=3, random_state=8).fit(frame, y).predict_proba(frame)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_predictions_do_not_depend_on_the_batch():
    X, y = _blobs(200)
    est = BNNRegressor(**FAST, random_state=0).fit(X, y.astype(float))
    mean, std = est.predict(X, return_std=True)
    sub_mean, sub_std = est.predict(X[50:60], return_std=True)
    np.testing.assert_allclose(mean[50:60], sub_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std[50:60], sub_std, rtol=1e-5, atol=1e-6)


def test_global_random_state_is_left_alone():
    X, y = _blobs(80)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BNNClassifier(**FAST, random_state=0).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_deadline_is_honoured():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 20))
    y = X[:, 0] - X[:, 1] + rng.normal(size=4000)
    est = BNNRegressor(max_epochs=10_000, patience=None, random_state=0)
    with budget.fit_scope(time.monotonic() + 1.0):
        start = time.monotonic()
        est.fit(X, y)
        took = time.monotonic() - start
    assert took < 2.5
    assert est.history_["stopped_by"] == "deadline"


# -- inputs -----------------------------------------------------------------------------------
def test_mixed_frames_with_holes_and_strings():
    frame = toy_table(160)
    y = frame["b"].fillna(0) * 2 + (frame["colour"] == "red")
    est = BNNRegressor(**FAST, random_state=0).fit(frame, y)
    mean, std = est.predict(frame, return_std=True)
    assert mean.shape == std.shape == (160,)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)
    assert est.feature_names_in_.tolist() == list(frame.columns)


def test_images_as_arrays_and_as_pixel_columns_agree():
    X, y = _shapes(120)
    frame = pd.DataFrame(X.reshape(len(X), -1), columns=[f"p{i}" for i in range(64)])
    from_array = BNNClassifier(**FAST, random_state=0).fit(X, y)
    from_frame = BNNClassifier(**FAST, image_shape=(8, 8), random_state=0).fit(frame, y)
    np.testing.assert_allclose(from_array.predict_proba(X), from_frame.predict_proba(frame), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        from_array.predict(X[:, :6, :6])


def test_colour_images_and_sequences():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 8, 8, 3))
    y = (X[:, :, :, 0].mean(axis=(1, 2)) > 0.5).astype(int)
    proba = BNNClassifier(**FAST, random_state=0).fit(X, y).predict_proba(X)
    assert proba.shape == (60, 2)
    seq = pd.DataFrame(rng.normal(size=(60, 32)), columns=[f"x{i}" for i in range(32)])
    mean = BNNRegressor(**FAST, sequence=True, random_state=0).fit(seq, seq.sum(axis=1)).predict(seq)
    assert mean.shape == (60,)


def test_save_and_load_with_skops(tmp_path):
    import skops.io as sio

    X, y = _shapes(80)
    for method in ("vi", "mc_dropout", "ensemble"):
        est = BNNClassifier(**FAST, method=method, n_members=2, random_state=0).fit(X, y)
        path = tmp_path / f"{method}.skops"
        sio.dump(est, path)
        loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        np.testing.assert_allclose(est.predict_proba(X), loaded.predict_proba(X), rtol=1e-5, atol=1e-6)


# -- uncertainty ------------------------------------------------------------------------------
def test_classifier_uncertainty_parts():
    X, y = _blobs(200)
    est = BNNClassifier(**FAST, random_state=0).fit(X, y)
    parts = est.predict_uncertainty(X)
    np.testing.assert_allclose(parts["proba"], est.predict_proba(X))
    np.testing.assert_allclose(parts["aleatoric"] + parts["epistemic"], parts["total"], atol=1e-9)
    assert np.all(parts["epistemic"] >= 0) and np.all(parts["total"] <= np.log(3) + 1e-9)


def test_regressor_std_parts():
    X, y = _blobs(200)
    est = BNNRegressor(**FAST, random_state=0).fit(X, y.astype(float))
    parts = est.predict_uncertainty(X)
    mean, std = est.predict(X, return_std=True)
    np.testing.assert_allclose(parts["mean"], mean)
    np.testing.assert_allclose(parts["epistemic_std"] ** 2 + parts["aleatoric_std"] ** 2, std**2, rtol=1e-9)
    assert np.all(parts["epistemic_std"] > 0)


@pytest.mark.parametrize("method", ["vi", "mc_dropout", "ensemble"])
def test_epistemic_std_grows_away_from_the_training_data(method):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(300, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=300)
    est = BNNRegressor(method=method, max_epochs=150, random_state=0).fit(x, y)
    inside = est.predict_uncertainty(np.linspace(-0.9, 0.9, 19)[:, None])
    outside = est.predict_uncertainty(np.r_[np.linspace(-6, -4, 10), np.linspace(4, 6, 10)][:, None])
    assert outside["epistemic_std"].mean() > 3 * inside["epistemic_std"].mean()
    assert outside["std"].mean() > inside["std"].mean()


# -- learning ---------------------------------------------------------------------------------
def test_classifier_beats_the_majority_class():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    est = BNNClassifier(max_epochs=40, random_state=0).fit(Xtr, ytr)
    accuracy = np.mean(est.predict(Xte) == yte)
    assert accuracy > 0.92 > np.mean(yte == 1) + 0.2


def test_regressor_beats_the_mean():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) + 0.1 * rng.normal(size=400)
    est = BNNRegressor(max_epochs=60, random_state=0).fit(X[:300], y[:300])
    assert est.score(X[300:], y[300:]) > 0.6


@pytest.mark.slow
def test_convolutions_find_shapes_anywhere_better_than_a_linear_model():
    from sklearn.linear_model import LogisticRegression

    X, y = _shapes(600)
    Xte, yte = _shapes(300, seed=1)
    linear = LogisticRegression(max_iter=2000).fit(X.reshape(600, -1), y).score(Xte.reshape(300, -1), yte)
    est = BNNClassifier(max_epochs=80, random_state=0).fit(X, y)
    accuracy = np.mean(est.predict(Xte) == yte)
    assert accuracy > 0.9 and accuracy > linear + 0.15


@pytest.mark.slow
def test_intervals_cover_about_ninety_percent_on_heteroscedastic_data():
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(1500, 2))
    noise = 0.1 + 0.4 * np.abs(X[:, 0])
    y = X[:, 0] + np.cos(X[:, 1]) + noise * rng.normal(size=1500)
    est = BNNRegressor(max_epochs=120, random_state=0).fit(X[:1000], y[:1000])
    mean, std = est.predict(X[1000:], return_std=True)
    covered = np.abs(y[1000:] - mean) <= 1.6449 * std
    assert 0.85 <= covered.mean() <= 0.95
    # The learned noise follows the true one: wider intervals where |x0| is large.
    parts = est.predict_uncertainty(X[1000:])
    wide = np.abs(X[1000:, 0]) > 1.5
    narrow = np.abs(X[1000:, 0]) < 0.5
    assert parts["aleatoric_std"][wide].mean() > 2 * parts["aleatoric_std"][narrow].mean()


@pytest.mark.slow
def test_sequence_classes_that_only_differ_in_shape():
    rng = np.random.default_rng(3)

    def waves(n):
        t = np.linspace(0, 1, 64)
        y = np.arange(n) % 2
        freq = rng.uniform(2, 6, size=n)
        phase = rng.uniform(0, 2 * np.pi, size=n)
        base = np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])
        X = np.where(y[:, None] == 1, np.sign(base), base) * rng.uniform(0.5, 2, size=(n, 1)) + rng.normal(0, 0.2, size=(n, 64))
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(64)]), y

    X, y = waves(600)
    Xte, yte = waves(300)
    est = BNNClassifier(max_epochs=60, sequence=True, random_state=0).fit(X, y)
    assert np.mean(est.predict(Xte) == yte) > 0.9


@pytest.mark.slow
def test_recommend_end_to_end(tmp_path):
    import advisor

    frame = toy_table(300, seed=3)
    frame["target"] = np.where(frame["b"].fillna(0) + (frame["colour"] == "red") > 0.5, "hi", "lo")
    rec = advisor.recommend(frame, "classify", target="target", budget=15, families=["bnn", "linear"], seed=0)
    entry = next(e for e in rec.to_dict()["ranking"] if e["family"] == "bnn")
    assert entry["status"] == "ok", entry["reason"]
    assert entry["criteria"]["fidelity"] > 0.8
    assert entry["criteria"]["uncertainty"] > 0.8  # 1 - ECE on held-out rows


def test_toy_images_are_learned_quickly():
    frame = toy_images(160)
    y = np.arange(160) % 2
    est = BNNClassifier(**{**FAST, "max_epochs": 40}, image_shape=(8, 8), random_state=0).fit(frame, y)
    assert np.mean(est.predict(frame) == y) > 0.9
