"""The energy-based plugin: its energy networks, its three estimators and its family.

Fast tests use tiny tables and images, few epochs and fixed seeds; the learning checks that need
thousands of optimiser steps are marked slow.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from advisor.criteria import c2st_score  # noqa: E402
from advisor.data.profiling import profile_frame  # noqa: E402
from advisor.families.contract import validate_family  # noqa: E402
from advisor.runtime import budget  # noqa: E402
from advisor.runtime.measure import thread_limit  # noqa: E402
from advisor.testing import check_family, toy_images  # noqa: E402
from advisor_plugins.ebm.estimators import EnergyDenoiser, EnergyDetector, EnergyGenerator  # noqa: E402
from advisor_plugins.ebm.family import EnergyBasedModel  # noqa: E402
from advisor_plugins.ebm.nets import ConvEnergy, MLPEnergy, geometric_sigmas  # noqa: E402

TINY = {"width": 32, "depth": 2, "n_sigmas": 6, "batch_size": 64, "device": "cpu"}


def blob(n: int, seed: int = 0, d: int = 3) -> pd.DataFrame:
    """Correlated Gaussian rows: x1 follows x0, x2 is noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    cols = {"x0": z, "x1": z + 0.2 * rng.normal(size=n)}
    for j in range(2, d):
        cols[f"x{j}"] = rng.normal(size=n)
    return pd.DataFrame(cols)


def ring(n: int, seed: int = 0) -> pd.DataFrame:
    """Points on a circle of radius 2 (plus a little noise): a shape no Gaussian fakes."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = 2 + 0.1 * rng.normal(size=n)
    return pd.DataFrame({"x": r * np.cos(angle), "y": r * np.sin(angle)})


# -- networks -----------------------------------------------------------------------------------
def test_score_is_minus_the_energy_gradient():
    net = MLPEnergy(3, width=16, depth=2).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    sigma = torch.tensor([0.3], dtype=torch.float64)
    score = net.score(x, sigma)
    eps = 1e-6
    for j in range(3):
        step = torch.zeros_like(x)
        step[:, j] = eps
        numeric = -(net.energy(x + step, sigma) - net.energy(x - step, sigma)) / (2 * eps)
        torch.testing.assert_close(score[:, j], numeric.detach(), rtol=1e-5, atol=1e-6)


def test_energies_grow_far_from_the_origin_before_training():
    """The Gaussian base energy bounds E below and makes far points unlikely from the start."""
    net = MLPEnergy(2, width=16, depth=2)
    near, far = torch.zeros(1, 2), torch.full((1, 2), 50.0)
    sigma = torch.tensor([1.0])
    with torch.no_grad():
        assert float(net.energy(far, sigma)) > float(net.energy(near, sigma)) + 100


def test_conv_energy_takes_flat_pixels_of_any_channel_count():
    for shape in [(8, 8), (8, 8, 3), (12, 10)]:
        net = ConvEnergy(shape, width=8)
        x = torch.randn(4, int(np.prod(shape)))
        assert net.energy(x, torch.tensor([0.5])).shape == (4,)


def test_noise_ladder_is_geometric_and_decreasing():
    sig = geometric_sigmas(10.0, 0.01, 7)
    assert sig[0] == pytest.approx(10.0) and sig[-1] == pytest.approx(0.01)
    ratios = np.array(sig[1:]) / np.array(sig[:-1])
    assert np.allclose(ratios, ratios[0])


# -- plugin and family --------------------------------------------------------------------------
def test_family_metadata_and_refusals():
    fam = EnergyBasedModel()
    assert validate_family(fam) == []
    assert fam.uncertainty.kind == "implicit" and 0.2 <= fam.interpretability.score <= 0.5
    prof = profile_frame(blob(40), None)
    ok, reason = fam.supports("classify", prof)
    assert not ok and "joint energy model" in reason
    seq = profile_frame(pd.DataFrame(np.random.default_rng(0).normal(size=(40, 16)), columns=[f"x{i}" for i in range(16)]), None, sequence=True)
    assert not fam.supports("detect", seq).ok
    assert fam.supports("detect", prof).ok


def test_search_space_suggests_the_keys_of_the_defaults():
    import optuna

    fam = EnergyBasedModel()
    prof = profile_frame(blob(40), None)
    for task in sorted(fam.tasks):
        study = optuna.create_study(direction="maximize")
        study.enqueue_trial(fam.default_params(task, prof))
        trial = study.ask()
        params = fam.search_space(trial, task, prof)
        assert params == fam.default_params(task, prof)
        fam.make_estimator(task, prof, **params)  # every suggested combination builds


def test_family_passes_the_conformance_check_on_tables():
    check_family(EnergyBasedModel(), modalities=["tabular"])


@pytest.mark.slow
def test_family_passes_the_conformance_check_on_images():
    check_family(EnergyBasedModel(), modalities=["image"])


# -- estimators ---------------------------------------------------------------------------------
def test_energies_are_lower_on_training_like_points_than_on_far_outliers():
    X = blob(200)
    det = EnergyDetector(max_epochs=15, random_state=0, **TINY).fit(X)
    inliers = blob(50, seed=1)
    outliers = pd.DataFrame(np.random.default_rng(2).normal(size=(50, 3)) * 0.5 + 6.0, columns=X.columns)
    s_in, s_out = det.score_samples(inliers), det.score_samples(outliers)
    assert s_in.min() > s_out.max()
    assert (det.predict(outliers) == -1).all()
    assert (det.predict(inliers) == 1).mean() > 0.8


def test_contrastive_divergence_also_orders_energies():
    X = blob(200)
    det = EnergyDetector(training="cd", spectral_norm=True, sgld_steps=10, max_epochs=10, random_state=0, **TINY).fit(X)
    outliers = pd.DataFrame(np.full((20, 3), 6.0), columns=X.columns)
    assert np.median(det.score_samples(blob(50, seed=1))) > det.score_samples(outliers).max()
    assert det.history_["epochs"] == 10


def test_seeded_runs_repeat_exactly_and_seeds_matter():
    X = blob(120)
    a = EnergyGenerator(max_epochs=3, langevin_steps=3, random_state=7, **TINY).fit(X)
    b = EnergyGenerator(max_epochs=3, langevin_steps=3, random_state=7, **TINY).fit(X)
    c = EnergyGenerator(max_epochs=3, langevin_steps=3, random_state=8, **TINY).fit(X)
    pd.testing.assert_frame_equal(a.sample(30), b.sample(30))
    pd.testing.assert_frame_equal(a.sample(30, random_state=1), b.sample(30, random_state=1))
    assert not np.allclose(a.sample(30).to_numpy(), c.sample(30).to_numpy())
    assert not np.allclose(a.sample(30, random_state=1).to_numpy(), a.sample(30, random_state=2).to_numpy())


def test_the_deadline_stops_training():
    X = blob(2000, d=8)
    est = EnergyDetector(max_epochs=10_000, patience=None, random_state=0, **TINY)
    start = time.monotonic()
    with budget.fit_scope(time.monotonic() + 1.0):
        est.fit(X)
    assert time.monotonic() - start < 3.0
    assert est.history_["stopped_by"] == "deadline"


def test_generated_tables_keep_columns_dtypes_and_levels():
    rng = np.random.default_rng(0)
    n = 150
    X = pd.DataFrame(
        {
            "size": rng.normal(10, 2, n),
            "count": rng.poisson(4, n).astype("int64"),
            "kind": rng.choice(["a", "b", "c"], n).astype(object),
            "flag": rng.random(n) < 0.4,
        }
    )
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    gen = EnergyGenerator(max_epochs=3, langevin_steps=3, random_state=0, **TINY).fit(X)
    out = gen.sample(40)
    assert list(out.columns) == list(X.columns) and len(out) == 40
    assert set(out["kind"].dropna()) <= {"a", "b", "c"}
    assert pd.api.types.is_integer_dtype(out["count"])
    assert out["size"].dropna().between(X["size"].min(), X["size"].max()).all()


def test_image_arrays_come_back_as_image_arrays():
    frame = toy_images(60)
    arr = frame.to_numpy().reshape(60, 8, 8)
    gen = EnergyGenerator(image_shape=(8, 8), max_epochs=1, langevin_steps=2, random_state=0, **TINY).fit(arr)
    samples = gen.sample(5)
    assert samples.shape == (5, 8, 8) and samples.min() >= arr.min() and samples.max() <= arr.max()
    den = EnergyDenoiser(image_shape=(8, 8), max_epochs=1, random_state=0, **TINY).fit(frame)
    assert den.transform(arr[:4]).shape == (4, 8, 8)
    out = den.transform(frame.iloc[:4])
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(frame.columns)


def test_no_torch_state_is_left_outside_the_network():
    est = EnergyDenoiser(max_epochs=2, random_state=0, **TINY).fit(blob(80))
    for name, value in vars(est).items():
        if name == "net_":
            continue
        assert not isinstance(value, (torch.Tensor, torch.Generator, torch.device, torch.nn.Module)), name
    assert est.device_ == "cpu"


def test_unknown_training_is_refused():
    with pytest.raises(ValueError, match="training"):
        EnergyDetector(training="magic", **TINY).fit(blob(30))


# -- learning checks ----------------------------------------------------------------------------
@pytest.mark.slow
def test_detection_sees_broken_dependencies_that_marginals_hide():
    """Anomalies whose x1 is flipped in sign: every column keeps its (symmetric) marginal, but
    x1 no longer follows x0. A density model catches them; a per-column check cannot."""
    from sklearn.metrics import roc_auc_score

    X = blob(1500, d=4)
    test = blob(300, seed=3, d=4)
    broken = test.iloc[:30].copy()
    broken["x1"] = -broken["x1"]
    broken = broken[np.abs(broken["x0"]) > 0.5]  # where x1 = -x0 would sit on the data anyway
    mixed = pd.concat([test, broken], ignore_index=True)
    labels = np.r_[np.zeros(len(test)), np.ones(len(broken))]
    det = EnergyDetector(width=64, depth=3, max_epochs=150, random_state=0, device="cpu").fit(X)
    auc = roc_auc_score(labels, -det.score_samples(mixed))
    per_column = roc_auc_score(labels, np.abs((mixed - X.mean()) / X.std()).max(axis=1))
    assert auc > 0.9
    assert auc > per_column + 0.2


@pytest.mark.slow
def test_generated_ring_beats_independent_columns():
    X = ring(1000)
    real = ring(400, seed=1).to_numpy()
    gen = EnergyGenerator(width=64, depth=3, max_epochs=60, langevin_steps=30, numeric="standard", random_state=0, device="cpu").fit(X)
    fake = gen.sample(400).to_numpy()
    rng = np.random.default_rng(0)
    independent = np.column_stack([rng.choice(X[c].to_numpy(), 400) for c in X.columns])
    with thread_limit(len(real)):
        score_model = c2st_score(real, fake)[0]
        score_indep = c2st_score(real, independent)[0]
    assert score_model > score_indep + 0.2
    radius = np.hypot(fake[:, 0], fake[:, 1])
    assert abs(np.median(radius) - 2.0) < 0.3


@pytest.mark.slow
def test_denoising_removes_noise_and_estimates_its_level():
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, size=(1500, 1))
    clean = pd.DataFrame(np.hstack([t, 0.5 * t, -t, np.sin(t)]), columns=list("abcd"))
    den = EnergyDenoiser(width=64, depth=3, max_epochs=150, random_state=0, device="cpu").fit(clean)
    test = clean.iloc[:300]
    sd = clean.std().to_numpy()
    noisy = test + rng.normal(size=test.shape) * 0.3 * sd
    out = den.transform(noisy)
    mse_noisy = np.mean(((noisy - test) / sd).to_numpy() ** 2)
    mse_out = np.mean(((out - test) / sd).to_numpy() ** 2)
    assert mse_out < 0.5 * mse_noisy
    sigma = den.estimate_noise(den._encode(noisy))
    assert 0.15 < sigma < 0.6
