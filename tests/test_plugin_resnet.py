"""The `resnet` plugin: contract, learning on tables and images, seeding, deadlines."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from advisor.data.profiling import Profile
from advisor.families.contract import validate_family
from advisor.runtime import budget
from advisor.testing import check_family
from advisor_plugins.resnet.family import ResNetFamily
from toy_shapes import bars  # noqa: E402

torch = pytest.importorskip("torch")

FAST = dict(width=32, n_blocks=2, max_epochs=40, lr=5e-3, random_state=0, device="cpu")


def mixed_table(n=400, seed=0):
    """Numerics with holes, a categorical with holes, an integer and a boolean; the class is an
    XOR of two numerics flipped by the category -- out of reach of a linear model."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    frame = pd.DataFrame(
        {"a": a, "b": b, "colour": colour, "count": rng.poisson(3, size=n), "flag": rng.random(n) < 0.5}
    )
    label = (a * b > 0) ^ (colour == "red")
    value = np.sin(2 * a) + np.where(colour == "blue", 1.5, -0.5) * b + 0.1 * rng.normal(size=n)
    frame.loc[rng.choice(n, n // 20, replace=False), "a"] = np.nan
    frame.loc[rng.choice(n, n // 20, replace=False), "colour"] = np.nan
    return frame, np.where(label, "yes", "no"), value


def image_frame(X):
    return pd.DataFrame(X.reshape(len(X), -1), columns=[f"p{i}" for i in range(X[0].size)])


def linear_baseline(model, frame_train, y_train, frame_test, y_test):
    from sklearn.pipeline import make_pipeline

    from advisor_plugins.classic import preprocessing as prep

    return make_pipeline(prep.frame_step(), prep.onehot_numeric(scale=True), model).fit(frame_train, y_train).score(frame_test, y_test)


def profile_for(modality, shape=None, length=None):
    return Profile(n_rows=200, n_features=5, columns=[], modality=modality, modality_reason="test", image_shape=shape, sequence_length=length)


# -- contract ---------------------------------------------------------------------------------
def test_metadata_and_supports():
    fam = ResNetFamily()
    assert validate_family(fam) == []
    for modality, kw in (("tabular", {}), ("image", {"shape": (8, 8)}), ("sequence", {"length": 32})):
        for task in ("classify", "regress", "embed", "denoise"):
            ok, reason = fam.supports(task, profile_for(modality, **kw))
            assert ok and reason
    assert not fam.supports("generate", profile_for("tabular")).ok


def test_search_space_and_defaults_agree():
    import optuna

    fam = ResNetFamily()
    for modality, kw in (("tabular", {}), ("image", {"shape": (8, 8)}), ("sequence", {"length": 32})):
        prof = profile_for(modality, **kw)
        for task in sorted(fam.tasks):
            study = optuna.create_study(direction="maximize")
            defaults = fam.default_params(task, prof)
            study.enqueue_trial(defaults)
            params = fam.search_space(study.ask(), task, prof)
            # the epochs are the search's training resource, set by it rather than sampled
            assert params == {k: v for k, v in defaults.items() if k != fam.resource_param}
            fam.make_estimator(task, prof, **params)


def test_conformance_classify_tables():
    check_family(ResNetFamily(), tasks=["classify"], modalities=["tabular"])


@pytest.mark.slow
def test_conformance_every_task():
    check_family(ResNetFamily())


# -- learning ---------------------------------------------------------------------------------
def test_classifier_beats_a_linear_model_on_a_mixed_table():
    from advisor_plugins.resnet.estimators import ResNetClassifier

    frame, label, _ = mixed_table(seed=0)
    test, test_label, _ = mixed_table(n=300, seed=1)
    linear = linear_baseline(LogisticRegression(max_iter=2000), frame, label, test, test_label)
    clf = ResNetClassifier(**FAST).fit(frame, label)
    acc = float(np.mean(clf.predict(test) == test_label))
    assert set(clf.classes_) == {"no", "yes"}
    assert linear < 0.7
    assert acc > 0.8 and acc > linear + 0.15


def test_regressor_beats_a_linear_model_on_a_mixed_table():
    from advisor_plugins.resnet.estimators import ResNetRegressor

    frame, _, value = mixed_table(seed=2)
    test, _, test_value = mixed_table(n=300, seed=3)
    linear = linear_baseline(LinearRegression(), frame, value, test, test_value)
    reg = ResNetRegressor(**FAST).fit(frame, value)
    r2 = reg.score(test, test_value)
    assert r2 > 0.8 and r2 > linear + 0.15


def test_unseen_levels_and_missing_values_at_predict_time():
    from advisor_plugins.resnet.estimators import ResNetClassifier

    frame, label, _ = mixed_table(n=120, seed=4)
    clf = ResNetClassifier(max_epochs=2, random_state=0, device="cpu").fit(frame, label)
    new = frame.head(3).copy()
    new.loc[0, "colour"] = "purple"
    new.loc[1, ["a", "b"]] = np.nan
    proba = clf.predict_proba(new)
    assert proba.shape == (3, 2) and np.all(np.isfinite(proba))


def test_residual_cnn_learns_images():
    from advisor_plugins.resnet.estimators import ResNetClassifier

    X, y = bars(seed=0)
    Xt, yt = bars(n=200, seed=1)
    clf = ResNetClassifier(image_shape=(10, 10), width=8, n_blocks=2, max_epochs=15, lr=5e-3, random_state=0, device="cpu")
    clf.fit(image_frame(X), y)
    assert clf.layout_ == "image"
    assert float(np.mean(clf.predict(image_frame(Xt)) == yt)) > 0.9


def test_deep_stack_still_trains():
    """Skip connections: 8 residual blocks train as readily as 1 on the same budget."""
    from advisor_plugins.resnet.estimators import ResNetRegressor

    frame, _, value = mixed_table(seed=5)
    shallow = ResNetRegressor(width=32, n_blocks=1, max_epochs=25, validation_fraction=0.0, random_state=0, device="cpu").fit(frame, value)
    deep = ResNetRegressor(width=32, n_blocks=8, max_epochs=25, validation_fraction=0.0, random_state=0, device="cpu").fit(frame, value)
    assert deep.history_["losses"][-1] < 0.3 * deep.history_["losses"][0]
    assert deep.score(frame, value) > shallow.score(frame, value) - 0.05


def test_tabular_denoiser_learns_the_structure():
    from advisor_plugins.resnet.estimators import ResNetDenoiser

    rng = np.random.default_rng(6)
    z = rng.normal(size=(600, 2))
    clean = pd.DataFrame(z @ rng.normal(size=(2, 6)), columns=[f"c{i}" for i in range(6)])
    den = ResNetDenoiser(width=32, max_epochs=40, random_state=0, device="cpu").fit(clean.iloc[:500])
    held = clean.iloc[500:]
    sd = clean.std().to_numpy()
    noisy = held + rng.normal(size=held.shape) * 0.3 * sd
    out = den.transform(noisy)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(clean.columns)
    assert out.index.equals(noisy.index)
    gain = np.mean(((noisy - held) / sd) ** 2) / np.mean(((out - held) / sd) ** 2)
    assert gain > 2.0


def test_tabular_embedding_shapes():
    from advisor_plugins.resnet.estimators import ResNetEmbedder

    frame, label, _ = mixed_table(n=150, seed=7)
    emb = ResNetEmbedder(embed_dim=5, max_epochs=3, random_state=0, device="cpu").fit(frame)
    assert emb.transform(frame).shape == (150, 5)
    sup = ResNetEmbedder(width=16, max_epochs=3, random_state=0, device="cpu").fit(frame, label)
    assert sup.transform(frame).shape == (150, 16)


# -- seeding and deadlines --------------------------------------------------------------------
def test_seeded_runs_repeat():
    from advisor_plugins.resnet.estimators import ResNetRegressor

    frame, _, value = mixed_table(n=150, seed=8)
    params = dict(width=16, max_epochs=3, dropout=0.3, residual_dropout=0.2, device="cpu")
    a = ResNetRegressor(random_state=1, **params).fit(frame, value).predict(frame)
    b = ResNetRegressor(random_state=1, **params).fit(frame, value).predict(frame)
    c = ResNetRegressor(random_state=2, **params).fit(frame, value).predict(frame)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_deadline_stops_training():
    from advisor_plugins.resnet.estimators import ResNetClassifier

    frame, label, _ = mixed_table(n=3000, seed=9)
    est = ResNetClassifier(width=128, n_blocks=4, max_epochs=1000, patience=None, random_state=0, device="cpu")
    with budget.fit_scope(time.monotonic() + 1.0):
        start = time.monotonic()
        est.fit(frame, label)
        took = time.monotonic() - start
    assert took < 3.0 and est.history_["stopped_by"] == "deadline"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ResNetClassifier", "ResNetRegressor"])
def test_check_estimator(name):
    from sklearn.utils.estimator_checks import check_estimator

    from advisor_plugins.resnet import estimators

    check_estimator(getattr(estimators, name)(device="cpu"))
