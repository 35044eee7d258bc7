"""The deep belief network plugin: RBMs, greedy stacking, the six estimators and the family.

Fast tests use tiny data, few epochs and fixed seeds; the learning checks and scikit-learn's
full estimator checks are marked slow.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402

from advisor.data.profiling import profile_frame  # noqa: E402
from advisor.families.contract import validate_family  # noqa: E402
from advisor.nn.seeding import torch_generator, torch_seed  # noqa: E402
from advisor.runtime import budget  # noqa: E402
from advisor.runtime.measure import thread_limit  # noqa: E402
from advisor.testing import check_family, toy_images  # noqa: E402
from advisor_plugins.dbn.estimators import (  # noqa: E402
    DBNClassifier,
    DBNDenoiser,
    DBNDetector,
    DBNEmbedder,
    DBNGenerator,
    DBNRegressor,
)
from advisor_plugins.dbn.family import DeepBeliefNetwork  # noqa: E402
from advisor_plugins.dbn.nets import FineTuneNet, RBMStack  # noqa: E402
from advisor_plugins.dbn.rbm import RBM, init_visible_bias, train_rbm  # noqa: E402

FAST = {"pretrain_epochs": 5, "batch_size": 32, "device": "cpu"}


def binary_patterns(n: int, seed: int = 0) -> torch.Tensor:
    """Two 8-bit prototypes with 5 % of bits flipped: a toy binary distribution."""
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1, 0, 0]], dtype=np.float32)
    rows = protos[rng.integers(2, size=n)]
    flips = rng.random(rows.shape) < 0.05
    return torch.as_tensor(np.abs(rows - flips), dtype=torch.float32)


def parity_bits(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """8-bit rows from four prototypes with 10 % of bits flipped; class = which pair of
    prototypes a row comes from."""
    rng = np.random.default_rng(seed)
    protos = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1], [1, 1, 0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 0, 0, 1, 1]])
    k = rng.integers(4, size=n)
    bits = np.abs(protos[k] - (rng.random((n, 8)) < 0.1))
    return pd.DataFrame(bits, columns=[f"b{i}" for i in range(8)]), (k >= 2).astype(int)


def circles(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two concentric rings: no straight line separates them in the raw coordinates."""
    rng = np.random.default_rng(seed)
    label = rng.integers(2, size=n)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = np.where(label == 1, 2.0, 0.8) + 0.1 * rng.normal(size=n)
    return pd.DataFrame({"u": r * np.cos(angle), "v": r * np.sin(angle)}), label


# -- RBMs ---------------------------------------------------------------------------------------
def _measure(rbm, data):
    with torch.no_grad():
        return float(rbm.log_likelihood(data)), float(((data - rbm.reconstruct(data)) ** 2).mean())


def _fit_rbm(data, persistent, k, epochs=40):
    with torch_seed(0):
        rbm = RBM(8, 6, "bernoulli")
    init_visible_bias(rbm, data)
    before = _measure(rbm, data)
    with thread_limit(len(data)):
        history = train_rbm(rbm, data, max_epochs=epochs, learning_rate=0.02, batch_size=32, cd_k=k, persistent=persistent, generator_cpu=torch_generator(0), generator=torch_generator(1))
    return rbm, before, _measure(rbm, data), history


@pytest.mark.parametrize(("persistent", "k"), [(False, 1), (True, 3)], ids=["cd1", "pcd3"])
def test_an_rbm_learns_a_toy_binary_distribution(persistent, k):
    data = binary_patterns(400)
    rbm, (ll0, err0), (ll1, err1), history = _fit_rbm(data, persistent, k)
    # Exact log-likelihood (partition function by enumeration) rises from that of the visible
    # biases alone (the bits' marginals, -3.5 nats) towards the data's entropy (about -2.3).
    assert ll1 > ll0 + 0.75
    assert err1 < 0.5 * err0  # reconstructions improve
    assert history.losses[-1] < history.losses[0]
    # the learned model prefers the prototypes to patterns it never saw
    proto = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0]], dtype=torch.float32)
    unseen = torch.tensor([[0, 1, 0, 1, 0, 1, 0, 1]], dtype=torch.float32)
    with torch.no_grad():
        assert float(rbm.free_energy(proto)) < float(rbm.free_energy(unseen)) - 2.0


def test_pseudo_likelihood_rises_with_training():
    data = binary_patterns(400)
    with torch_seed(0):
        rbm = RBM(8, 6, "bernoulli")
    before = float(rbm.pseudo_log_likelihood(data, torch_generator(3)))
    with thread_limit(len(data)):
        train_rbm(rbm, data, max_epochs=30, learning_rate=0.02, batch_size=32, cd_k=2, generator_cpu=torch_generator(0), generator=torch_generator(1))
    assert float(rbm.pseudo_log_likelihood(data, torch_generator(3))) > before + 0.5


def test_exact_log_partition_matches_brute_force():
    with torch_seed(1):
        rbm = RBM(3, 2, "bernoulli")
        with torch.no_grad():
            rbm.W.normal_()
            rbm.b.normal_()
            rbm.c.normal_()
    states = [(v, h) for v in np.ndindex(2, 2, 2) for h in np.ndindex(2, 2)]
    W, b, c = rbm.W.detach().numpy(), rbm.b.detach().numpy(), rbm.c.detach().numpy()
    z = sum(np.exp(np.dot(b, v) + np.dot(c, h) + np.array(v) @ W @ np.array(h)) for v, h in states)
    assert rbm.log_partition() == pytest.approx(np.log(z), rel=1e-5)


def test_gaussian_free_energy_matches_its_definition():
    with torch_seed(0):
        rbm = RBM(2, 3, "gaussian")
    v = torch.randn(4, 2)
    expected = 0.5 * ((v - rbm.b) ** 2).sum(1) - torch.nn.functional.softplus(v @ rbm.W + rbm.c).sum(1)
    torch.testing.assert_close(rbm.free_energy(v), expected)


def test_fine_tune_net_starts_from_the_stack():
    with torch_seed(0):
        stack = RBMStack(5, [4, 3], "gaussian")
        net = FineTuneNet(5, [4, 3], 2)
    net.load_stack(stack)
    x = torch.randn(6, 5)
    with torch.no_grad():
        torch.testing.assert_close(torch.sigmoid(net.hidden[1](torch.sigmoid(net.hidden[0](x)))), stack.up(x))


# -- plugin and family --------------------------------------------------------------------------
def test_family_metadata_and_refusals():
    fam = DeepBeliefNetwork()
    assert validate_family(fam) == []
    assert fam.uncertainty.kind == "implicit" and 0.3 <= fam.interpretability.score <= 0.6
    seq = profile_frame(pd.DataFrame(np.random.default_rng(0).normal(size=(40, 16)), columns=[f"x{i}" for i in range(16)]), None, sequence=True)
    assert fam.supports("classify", seq).ok
    ok, reason = fam.supports("generate", seq)
    assert not ok and "sequence" in reason


def test_layer_sizes_shrink_with_depth_and_small_data():
    fam = DeepBeliefNetwork()
    small = profile_frame(circles(30)[0], None)
    est = fam.make_estimator("embed", small, n_layers=3, n_hidden=512)
    assert est.hidden_layer_sizes == (60, 30, 15)


def test_family_passes_the_conformance_check_on_tables():
    check_family(DeepBeliefNetwork(), modalities=["tabular"])


@pytest.mark.slow
def test_family_passes_the_conformance_check_on_images_and_sequences():
    check_family(DeepBeliefNetwork(), modalities=["image", "sequence"])


# -- estimators ---------------------------------------------------------------------------------
def test_dbn_features_separate_classes_that_raw_features_do_not():
    """Four binary prototypes, labelled so that the two classes have the same mean bit by bit
    (A1 + A2 = B1 + B2): no hyperplane separates them, but hidden units that each answer one
    prototype do."""
    X, y = parity_bits(400)
    raw = cross_val_score(LogisticRegression(max_iter=1000), X, y, cv=3).mean()
    emb = DBNEmbedder(hidden_layer_sizes=(32,), pretrain_epochs=40, batch_size=32, random_state=0, device="cpu").fit(X)
    assert emb.visible_ == "bernoulli"  # a 0/1 table feeds Bernoulli units
    feats = emb.transform(X)
    assert feats.shape == (400, 32) and feats.min() >= 0 and feats.max() <= 1
    learned = cross_val_score(LogisticRegression(max_iter=2000), feats, y, cv=3).mean()
    assert raw < 0.62
    assert learned > 0.8


def test_stacked_layers_embed_with_the_top_layer():
    X, _ = circles(120)
    emb = DBNEmbedder(hidden_layer_sizes=(32, 16, 8), random_state=0, **FAST).fit(X)
    assert emb.transform(X).shape == (120, 8)
    assert [h["layer"] for h in emb.history_] == [0, 1, 2]


def test_seeded_runs_repeat_exactly_and_seeds_matter():
    X, y = circles(150)
    kw = dict(hidden_layer_sizes=(16, 8), finetune_epochs=10, **FAST)
    a = DBNClassifier(random_state=3, **kw).fit(X, y).predict_proba(X)
    b = DBNClassifier(random_state=3, **kw).fit(X, y).predict_proba(X)
    c = DBNClassifier(random_state=4, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    gen = DBNGenerator(hidden_layer_sizes=(16,), gibbs_steps=5, random_state=0, **FAST).fit(X)
    pd.testing.assert_frame_equal(gen.sample(20, random_state=1), gen.sample(20, random_state=1))


def test_the_deadline_stops_pretraining_and_fine_tuning():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3000, 20)))
    y = (X[0] > 0).astype(int)
    est = DBNClassifier(hidden_layer_sizes=(64, 64), pretrain_epochs=1000, finetune_epochs=1000, patience=None, random_state=0, device="cpu")
    start = time.monotonic()
    with budget.fit_scope(time.monotonic() + 1.5):
        est.fit(X, y)
    assert time.monotonic() - start < 3.5
    assert est.history_["finetune"]["stopped_by"] == "deadline"
    assert all(h["stopped_by"] == "deadline" for h in est.history_["pretrain"])
    assert len(est.history_["pretrain"]) == 2  # every layer got its share


def test_detector_scores_outliers_below_training_like_rows():
    X, _ = circles(300)
    det = DBNDetector(hidden_layer_sizes=(32,), pretrain_epochs=30, batch_size=32, random_state=0, device="cpu").fit(X)
    far = pd.DataFrame({"u": [8.0, -9.0, 7.0], "v": [8.0, 6.0, -9.0]})
    assert det.score_samples(X).min() > det.score_samples(far).max()
    assert (det.predict(far) == -1).all()


def test_regressor_gives_a_held_out_error_bar():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    y = 3 * X["a"] - X["b"] + 0.3 * rng.normal(size=300)
    reg = DBNRegressor(hidden_layer_sizes=(32,), finetune_epochs=200, random_state=0, **FAST).fit(X, y)
    mean, std = reg.predict(X, return_std=True)
    assert np.all(std == std[0]) and 0.05 < std[0] < 2.0
    assert np.corrcoef(mean, y)[0, 1] > 0.9


def test_generated_tables_and_images_keep_their_form():
    rng = np.random.default_rng(0)
    n = 120
    table = pd.DataFrame({"a": rng.normal(size=n), "k": rng.choice(["x", "y"], n).astype(object), "c": rng.poisson(3, n)})
    out = DBNGenerator(hidden_layer_sizes=(16,), gibbs_steps=5, random_state=0, **FAST).fit(table).sample(30)
    assert list(out.columns) == ["a", "k", "c"] and set(out["k"]) <= {"x", "y"} and pd.api.types.is_integer_dtype(out["c"])
    arr = toy_images(60).to_numpy().reshape(60, 8, 8)
    gen = DBNGenerator(image_shape=(8, 8), hidden_layer_sizes=(32, 16), gibbs_steps=5, random_state=0, **FAST).fit(arr)
    imgs = gen.sample(7)
    assert imgs.shape == (7, 8, 8) and imgs.min() >= arr.min() and imgs.max() <= arr.max()
    den = DBNDenoiser(image_shape=(8, 8), hidden_layer_sizes=(32,), random_state=0, **FAST).fit(arr)
    assert den.transform(arr[:3]).shape == (3, 8, 8)


def test_no_torch_state_is_left_outside_the_modules():
    X, y = circles(80)
    for est in (DBNClassifier(hidden_layer_sizes=(8,), finetune_epochs=3, random_state=0, **FAST).fit(X, y), DBNGenerator(hidden_layer_sizes=(8,), random_state=0, **FAST).fit(X)):
        for name, value in vars(est).items():
            if name in est._torch_modules:
                continue
            assert not isinstance(value, (torch.Tensor, torch.Generator, torch.device, torch.nn.Module)), name
        assert est.device_ == "cpu"


def test_single_class_and_missing_target_are_refused():
    X, _ = circles(40)
    with pytest.raises(ValueError, match="class"):
        DBNClassifier(**FAST).fit(X, np.zeros(40))
    with pytest.raises(ValueError, match="requires y"):
        DBNClassifier(**FAST).fit(X, None)


# -- scikit-learn conformance and learning checks -----------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("estimator", [DBNClassifier(), DBNRegressor()], ids=["classifier", "regressor"])
def test_scikit_learn_estimator_checks(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed


@pytest.mark.slow
def test_fine_tuned_classifier_learns_digits():
    from sklearn.datasets import load_digits
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    clf = DBNClassifier(image_shape=(8, 8), hidden_layer_sizes=(128, 64), pretrain_epochs=20, finetune_epochs=200, patience=20, batch_size=64, random_state=0, device="cpu")
    clf.fit(X_tr, y_tr)
    assert balanced_accuracy_score(y_te, clf.predict(X_te)) > 0.93


@pytest.mark.slow
def test_denoiser_removes_noise_from_digits():
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    rng = np.random.default_rng(0)
    train, test = X[:1400], X[1400:]
    noisy = np.clip(test + rng.normal(0, 0.3, test.shape), 0, 1)
    den = DBNDenoiser(image_shape=(8, 8), hidden_layer_sizes=(256,), pretrain_epochs=60, batch_size=64, random_state=0, device="cpu").fit(train)
    out = den.transform(noisy)
    assert np.mean((out - test) ** 2) < 0.6 * np.mean((noisy - test) ** 2)
