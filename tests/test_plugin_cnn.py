"""The `cnn` plugin: contract, learning, seeding, deadlines, input forms."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from advisor.data.profiling import Profile
from advisor.families.contract import validate_family
from advisor.runtime import budget
from advisor.testing import check_family
from advisor_plugins.cnn.family import CNNFamily
from toy_shapes import bars  # noqa: E402

torch = pytest.importorskip("torch")


def waves(n=240, length=48, seed=0):
    """Sine (0) or square (1) waves of random phase and frequency: shift-invariant classes."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = np.arange(n) % 2
    freq = rng.uniform(0.08, 0.2, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    s = np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    X = np.where(y[:, None] == 1, np.sign(s), s) + 0.2 * rng.normal(size=(n, length))
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(length)]), y


def image_frame(X):
    return pd.DataFrame(X.reshape(len(X), -1), columns=[f"p{i}" for i in range(X[0].size)])


def profile_for(modality, shape=None, length=None, n=200):
    return Profile(n_rows=n, n_features=int(np.prod(shape)) if shape else (length or 5), columns=[], modality=modality, modality_reason="test", image_shape=shape, sequence_length=length)


SMALL = dict(channels=8, n_blocks=2, max_epochs=15, lr=5e-3, random_state=0, device="cpu")


# -- contract ---------------------------------------------------------------------------------
def test_metadata_and_supports():
    fam = CNNFamily()
    assert validate_family(fam) == []
    ok, reason = fam.supports("classify", profile_for("tabular"))
    assert not ok and "spatial" in reason
    assert fam.supports("classify", profile_for("image", shape=(8, 8))).ok
    assert fam.supports("denoise", profile_for("sequence", length=32)).ok
    assert not fam.supports("generate", profile_for("image", shape=(8, 8))).ok
    assert not fam.supports("classify", profile_for("image", shape=(2, 2))).ok


def test_search_space_and_defaults_agree():
    import optuna

    fam = CNNFamily()
    for modality, kw in (("image", {"shape": (8, 8)}), ("sequence", {"length": 32})):
        prof = profile_for(modality, **kw)
        for task in sorted(fam.tasks):
            study = optuna.create_study(direction="maximize")
            defaults = fam.default_params(task, prof)
            study.enqueue_trial(defaults)
            trial = study.ask()
            params = fam.search_space(trial, task, prof)
            # the epochs are the search's training resource, set by it rather than sampled
            assert params == {k: v for k, v in defaults.items() if k != fam.resource_param}
            est = fam.make_estimator(task, prof, **params)
            assert est.get_params()["modality"] == modality


def test_conformance_classify_images():
    check_family(CNNFamily(), tasks=["classify"], modalities=["image"])


@pytest.mark.slow
def test_conformance_every_task():
    check_family(CNNFamily())


def test_refuses_a_table_layout():
    from advisor_plugins.cnn.estimators import CNNClassifier

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0)})
    with pytest.raises(ValueError, match="ordered"):
        CNNClassifier(modality="tabular").fit(X, np.arange(20) % 2)


# -- learning ---------------------------------------------------------------------------------
def test_beats_a_linear_model_on_shape_images():
    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = bars(seed=0)
    Xt, yt = bars(n=200, seed=1)
    linear = LogisticRegression(max_iter=2000).fit(X.reshape(len(X), -1), y).score(Xt.reshape(len(Xt), -1), yt)
    cnn = CNNClassifier(image_shape=(10, 10), **SMALL).fit(image_frame(X), y)
    acc = float(np.mean(cnn.predict(image_frame(Xt)) == yt))
    assert linear < 0.75
    assert acc > 0.9 and acc > linear + 0.2


def test_sequence_classes_that_shift():
    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = waves(seed=0)
    Xt, yt = waves(n=200, seed=1)
    linear = LogisticRegression(max_iter=2000).fit(X, y).score(Xt, yt)
    cnn = CNNClassifier(kernel_size=5, **SMALL).fit(X, y)
    acc = float(np.mean(cnn.predict(Xt) == yt))
    assert acc > 0.9 and acc > linear + 0.2


def test_regression_on_images_beats_the_mean():
    from advisor_plugins.cnn.estimators import CNNRegressor

    rng = np.random.default_rng(0)
    X, _ = bars(n=300, seed=2)
    # Target: the row of the brightest stroke pixel, a spatial quantity.
    y = np.array([np.argmax(img.max(axis=1)) for img in X], dtype=float) + 0.1 * rng.normal(size=len(X))
    reg = CNNRegressor(image_shape=(10, 10), **SMALL).fit(X[:240], y[:240])
    pred = reg.predict(X[240:])
    r2 = 1 - np.mean((pred - y[240:]) ** 2) / np.var(y[240:])
    assert r2 > 0.6


def test_denoiser_removes_noise_and_keeps_the_input_form():
    from advisor_plugins.cnn.estimators import CNNDenoiser

    X, _ = bars(n=300, seed=3)
    den = CNNDenoiser(channels=16, n_blocks=2, max_epochs=15, random_state=0, device="cpu").fit(X[:240])
    clean = X[240:]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.2, clean.shape), 0, 1)
    out = den.transform(noisy)
    assert out.shape == noisy.shape  # (N, H, W) in, (N, H, W) out
    assert np.mean((out - clean) ** 2) < 0.6 * np.mean((noisy - clean) ** 2)
    frame = image_frame(noisy)
    den_frame = CNNDenoiser(image_shape=(10, 10), max_epochs=1, random_state=0, device="cpu").fit(image_frame(X[:240]))
    back = den_frame.transform(frame)
    assert isinstance(back, pd.DataFrame) and list(back.columns) == list(frame.columns)


def test_embedding_with_and_without_a_target():
    from advisor_plugins.cnn.estimators import CNNEmbedder

    X, y = bars(n=200, seed=4)
    frame = image_frame(X)
    unsup = CNNEmbedder(image_shape=(10, 10), embed_dim=12, max_epochs=2, random_state=0, device="cpu").fit(frame)
    # The bottleneck next to the average- and max-pooled maps of the last block.
    assert unsup.transform(frame).shape == (200, 12 + 2 * unsup.net_.trunk.out_channels) and unsup.supervised_ is None
    sup = CNNEmbedder(image_shape=(10, 10), embed_dim=16, **{k: v for k, v in SMALL.items() if k != "channels"}).fit(frame, y)
    Z = sup.transform(frame)
    assert Z.shape == (200, 16) and sup.supervised_ == "classify"
    probe = LogisticRegression(max_iter=2000).fit(Z[:150], y[:150]).score(Z[150:], y[150:])
    assert probe > 0.85


# -- seeding, deadlines, pruning --------------------------------------------------------------
def test_seeded_runs_repeat_and_seeds_differ():
    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = bars(n=120, seed=5)
    frame = image_frame(X)
    params = dict(image_shape=(10, 10), channels=8, max_epochs=3, dropout=0.3, augment=True, device="cpu")
    before = torch.random.get_rng_state()
    a = CNNClassifier(random_state=7, **params).fit(frame, y).predict_proba(frame)
    b = CNNClassifier(random_state=7, **params).fit(frame, y).predict_proba(frame)
    c = CNNClassifier(random_state=8, **params).fit(frame, y).predict_proba(frame)
    assert torch.equal(before, torch.random.get_rng_state()), "fit must leave torch's global generator alone"
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_deadline_stops_training():
    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = bars(n=2000, seed=6)
    est = CNNClassifier(image_shape=(10, 10), channels=32, max_epochs=500, patience=None, random_state=0, device="cpu")
    with budget.fit_scope(time.monotonic() + 1.0):
        start = time.monotonic()
        est.fit(image_frame(X), y)
        took = time.monotonic() - start
    assert took < 3.0
    assert est.history_["stopped_by"] == "deadline"
    assert est.predict(image_frame(X[:5])).shape == (5,)


def test_epochs_are_reported_to_the_trial():
    import optuna

    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = bars(n=120, seed=7)
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    with budget.fit_scope(None, trial):
        est = CNNClassifier(image_shape=(10, 10), channels=8, max_epochs=4, patience=None, random_state=0, device="cpu").fit(image_frame(X), y)
    reported = study.trials[0].intermediate_values
    assert sorted(reported) == list(range(est.n_epochs_)) and est.n_epochs_ == 4


# -- scikit-learn conventions -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["CNNClassifier", "CNNRegressor"])
def test_check_estimator(name):
    from sklearn.utils.estimator_checks import check_estimator

    from advisor_plugins.cnn import estimators

    check_estimator(getattr(estimators, name)(device="cpu"))


def test_the_run_scores_in_float32_and_the_returned_model_predicts_in_float64(monkeypatch):
    """float64 makes a row's answer independent of its batch, but convolutions in float64 on a
    CPU are several times slower: the run's own scoring uses float32, the user's model float64."""
    from advisor_plugins.cnn.estimators import CNNClassifier

    X, y = bars(n=60, seed=0)
    cnn = CNNClassifier(image_shape=(10, 10), **SMALL).fit(image_frame(X), y)
    seen = []
    original = torch.nn.Conv2d.forward
    monkeypatch.setattr(torch.nn.Conv2d, "forward", lambda self, x: (seen.append(x.dtype), original(self, x))[1])
    outside = cnn.predict_proba(image_frame(X))
    with budget.run_scoring():
        inside = cnn.predict_proba(image_frame(X))
    assert seen[0] == torch.float64 and seen[-1] == torch.float32
    np.testing.assert_allclose(inside, outside, atol=1e-4)
