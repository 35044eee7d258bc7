"""The diffusion plugin: its processes, its estimators and its family.

Fast tests use tiny tables and images, few epochs and fixed seeds; the learning checks that need
a few thousand optimiser steps are marked slow.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from advisor.criteria import c2st_score  # noqa: E402
from advisor.runtime import budget  # noqa: E402
from advisor.testing import check_family, toy_images  # noqa: E402
from advisor_plugins.diffusion.estimators import DiffusionDenoiser, DiffusionDetector, DiffusionGenerator  # noqa: E402
from advisor_plugins.diffusion.family import DiffusionFamily  # noqa: E402
from advisor_plugins.diffusion.process import Diffusion, Layout, alpha_bars, posterior  # noqa: E402
from advisor_plugins.diffusion.spaces import RankGauss  # noqa: E402

SMALL = {"width": 64, "depth": 2, "diffusion_steps": 100, "batch_size": 128, "device": "cpu"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """These networks are tiny: a second intra-op thread buys little, and on a busy machine
    its busy-waiting makes every step many times slower, which would blur the deadline test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def mixed_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Every kind of column the advisor hands over, with holes."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "height": 170 + 10 * z,
            "temperature": np.round(12 + 4 * rng.normal(size=n), 1),  # recorded to 0.1 degrees
            "children": rng.poisson(1.5, size=n).astype("int64"),
            "score": rng.integers(1, 6, size=n).astype("int32"),
            "member": rng.random(n) < 0.3,
            "city": rng.choice(["Oslo", "Lima", "Pune"], size=n, p=[0.5, 0.3, 0.2]).astype(object),
            "grade": pd.Categorical(rng.choice(["low", "high"], size=n), categories=["low", "mid", "high"]),
        }
    )
    frame.loc[rng.random(n) < 0.2, "height"] = np.nan
    frame.loc[rng.random(n) < 0.1, "city"] = np.nan
    return frame


def gaussian_mixture(n: int, seed: int) -> np.ndarray:
    """Four tight clusters at (±2, ±2): one Gaussian cannot fake them."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]])
    return centres[rng.integers(4, size=n)] + 0.3 * rng.normal(size=(n, 2))


def psnr(a, b) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


# -- processes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["cosine", "linear"])
@pytest.mark.parametrize("steps", [10, 100, 1000])
def test_schedules_fall_from_clean_to_noise(schedule, steps):
    ab = alpha_bars(schedule, steps)
    assert ab[0] == 1.0 and len(ab) == steps + 1
    assert np.all(np.diff(ab) < 0)
    assert ab[-1] < 0.01


def test_multinomial_posterior_matches_bayes_rule():
    k = 4
    rng = np.random.default_rng(0)
    x0 = torch.as_tensor(rng.dirichlet(np.ones(k), size=3), dtype=torch.float32)
    xt = torch.tensor([0, 2, 3])
    ab_t, ab_s = torch.full((3,), 0.3), torch.full((3,), 0.7)
    got = posterior(torch.log(torch.nn.functional.one_hot(xt, k).float().clamp_min(1e-30)), torch.log(x0), ab_t, ab_s, k).exp()
    a = 0.3 / 0.7
    for row in range(3):
        like = np.array([a * (xt[row].item() == j) + (1 - a) / k for j in range(k)])  # q(x_t | x_s = j)
        prior = 0.7 * x0[row].numpy() + 0.3 / k  # q(x_s = j | x_0)
        want = like * prior / np.sum(like * prior)
        np.testing.assert_allclose(got[row].numpy(), want, rtol=1e-5)


def test_noise_level_and_step_map_back_and_forth():
    diff = Diffusion("cosine", 1000, None)
    for sigma in (0.003, 0.05, 0.6, 4.0):
        t = diff.t_of_sigma(sigma)
        assert 0 < t <= 1000
        ab = diff.ab_at(np.array([t]))[0]
        assert np.sqrt((1 - ab) / ab) == pytest.approx(sigma, rel=1e-6)
    assert diff.ab_at(np.array([0.0]))[0] == 1.0


def test_rank_gauss_keeps_ties_and_interpolates():
    rng = np.random.default_rng(0)
    V = np.c_[rng.integers(0, 4, 500).astype(float), np.where(rng.random(500) < 0.5, 0.0, rng.exponential(size=500))]
    rg = RankGauss().fit(V)
    Z = rg.transform(V, rng)
    assert abs(Z.mean()) < 0.1 and abs(Z.std() - 1) < 0.1  # spread over the bands, not spikes
    np.testing.assert_allclose(rg.inverse(Z)[:, 0], V[:, 0])  # every tie maps back to its value
    assert np.mean(rg.inverse(Z)[:, 1] == 0) == pytest.approx(np.mean(V[:, 1] == 0))
    fresh = rg.inverse(rng.normal(size=(1000, 2)))
    assert len(np.unique(fresh[:, 1])) > 400  # continuous values are new values, not copies


# -- the estimators -----------------------------------------------------------------------------
def test_generated_table_keeps_columns_dtypes_levels_and_ranges():
    X = mixed_table()
    gen = DiffusionGenerator(epochs=40, random_state=0, **SMALL).fit(X)
    out = gen.sample(400, random_state=1)
    assert list(out.columns) == list(X.columns)
    assert out.dtypes.to_dict() == X.dtypes.to_dict()
    assert set(out["city"].dropna()) <= set(X["city"].dropna())
    assert list(out["grade"].cat.categories) == ["low", "mid", "high"]
    assert out["grade"].dropna().isin(["low", "high"]).all()
    for col in ("height", "children", "score"):
        assert out[col].min() >= X[col].min() and out[col].max() <= X[col].max()
    assert out["height"].isna().mean() == pytest.approx(X["height"].isna().mean(), abs=0.1)
    assert (out["temperature"] == out["temperature"].round(1)).all()  # same precision as recorded
    assert out["height"].nunique() > 250  # continuous values stay continuous
    assert out["city"].isna().any() and out["member"].any() and not out["member"].all()


def test_seeded_fits_repeat_exactly_on_cpu():
    X = mixed_table(150)
    a = DiffusionGenerator(epochs=5, random_state=3, **SMALL).fit(X).sample(100, random_state=0)
    b = DiffusionGenerator(epochs=5, random_state=3, **SMALL).fit(X).sample(100, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    c = DiffusionGenerator(epochs=5, random_state=4, **SMALL).fit(X).sample(100, random_state=0)
    assert not a.equals(c)


def test_a_two_second_deadline_is_honoured():
    X = mixed_table(2000)
    gen = DiffusionGenerator(epochs=100_000, random_state=0, **SMALL)
    start = time.monotonic()
    with budget.fit_scope(time.monotonic() + 2.0):
        gen.fit(X)
    assert time.monotonic() - start < 3.5
    assert gen.history_["stopped_by"] == "deadline"


def test_save_and_reload_give_the_same_answers(tmp_path):
    import skops.io as sio

    X = mixed_table(150)
    images = toy_images(60).to_numpy().reshape(60, 8, 8)
    fitted = [
        DiffusionGenerator(epochs=3, random_state=0, **SMALL).fit(X),
        DiffusionDenoiser(epochs=3, image_shape=(8, 8), random_state=0, **SMALL).fit(images),
        DiffusionDetector(epochs=3, random_state=0, **SMALL).fit(X),
    ]
    for est in fitted:
        path = tmp_path / f"{type(est).__name__}.skops"
        sio.dump(est, path)
        loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        if hasattr(est, "sample"):
            pd.testing.assert_frame_equal(est.sample(50, random_state=7), loaded.sample(50, random_state=7))
        elif hasattr(est, "score_samples"):
            np.testing.assert_array_equal(est.score_samples(X), loaded.score_samples(X))
        else:
            np.testing.assert_array_equal(est.transform(images), loaded.transform(images))
        assert not any(isinstance(v, torch.Tensor) for v in vars(loaded).values())


def test_images_come_back_in_the_form_they_were_given():
    frame = toy_images(40)
    array = frame.to_numpy().reshape(40, 8, 8)
    gen = DiffusionGenerator(image_shape=(8, 8), epochs=2, random_state=0, **SMALL).fit(array)
    assert gen.sample(5, random_state=0).shape == (5, 8, 8)
    gen.fit(frame)
    out = gen.sample(5, random_state=0)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(frame.columns)
    assert out.to_numpy().min() >= 0 and out.to_numpy().max() <= 1
    den = DiffusionDenoiser(image_shape=(8, 8), epochs=2, noise_std=0.2, random_state=0, **SMALL).fit(frame)
    assert den.transform(array).shape == (40, 8, 8)
    assert den.transform(frame.iloc[:7]).index.equals(frame.index[:7])
    assert den.transform(array.reshape(40, 64)).shape == (40, 64)


@pytest.mark.parametrize("shape", [(8, 8), (16, 16), (32, 32, 3), (28, 28)])
def test_the_unet_takes_images_from_8x8_to_32x32(shape):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(20,) + shape)
    gen = DiffusionGenerator(image_shape=shape, architecture="unet", epochs=1, random_state=0, **{**SMALL, "width": 8, "depth": 1})
    assert gen.fit(images).architecture_ == "unet"
    assert gen.sample(3, random_state=0).shape == (3,) + shape
    den = DiffusionDenoiser(image_shape=shape, architecture="unet", epochs=1, random_state=0, **{**SMALL, "width": 8, "depth": 1})
    assert den.fit(images).transform(images[:4]).shape == (4,) + shape


@pytest.mark.parametrize("cls", [DiffusionGenerator, DiffusionDenoiser, DiffusionDetector])
def test_unfitted_estimators_refuse_and_clone(cls):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    est = cls(epochs=2, random_state=0)
    assert clone(est).get_params() == est.get_params()
    method = {"DiffusionGenerator": "sample", "DiffusionDenoiser": "transform", "DiffusionDetector": "score_samples"}[cls.__name__]
    with pytest.raises(NotFittedError):
        getattr(est, method)(10 if method == "sample" else np.zeros((10, 3)))
    assert est.__sklearn_tags__().input_tags.allow_nan


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="schedule"):
        DiffusionGenerator(schedule="quadratic", epochs=1).fit(mixed_table(50))
    with pytest.raises(ValueError, match="diffusion_steps"):
        DiffusionGenerator(diffusion_steps=1, epochs=1).fit(mixed_table(50))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_runs_on_cuda():
    X = mixed_table(200)
    gen = DiffusionGenerator(epochs=3, random_state=0, **{**SMALL, "device": "cuda"}).fit(X)
    assert gen.device_ == "cuda" and gen._device().startswith("cuda")
    assert gen.sample(100, random_state=0).shape == (100, X.shape[1])


# -- the family ---------------------------------------------------------------------------------
def test_supports_says_where_it_applies():
    from advisor.data.profiling import profile_frame

    family = DiffusionFamily()
    mixed = profile_frame(mixed_table(100), None, task="denoise")
    assert not family.supports("denoise", mixed).ok
    assert family.supports("generate", mixed).ok and family.supports("detect", mixed).ok
    numeric = profile_frame(mixed_table(100)[["height", "children"]], None, task="denoise")
    assert family.supports("denoise", numeric).ok
    assert not family.supports("classify", numeric).ok
    tiny = profile_frame(mixed_table(100).iloc[:10], None, task="generate")
    assert "rows" in family.supports("generate", tiny).reason


@pytest.mark.parametrize("task", ["generate", "denoise", "detect"])
def test_family_passes_the_conformance_check(task):
    check_family(DiffusionFamily(), tasks=[task])


# -- learning -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_learns_a_mixture_of_gaussians():
    from sklearn.mixture import GaussianMixture

    train = pd.DataFrame(gaussian_mixture(1000, 0), columns=["x", "y"])
    fresh = gaussian_mixture(1000, 1)
    gen = DiffusionGenerator(epochs=250, random_state=0, **{**SMALL, "width": 128}).fit(train)
    diffusion = c2st_score(fresh, gen.sample(1000, random_state=2).to_numpy(), seed=0)[0]
    single = GaussianMixture(1, random_state=0).fit(train.to_numpy()).sample(1000)[0]
    gaussian = c2st_score(fresh, single, seed=0)[0]
    assert diffusion > 0.6 and diffusion > gaussian + 0.3, (diffusion, gaussian)


def _noisy_bars():
    clean = toy_images(400, seed=0).to_numpy().reshape(400, 8, 8)
    test = toy_images(100, seed=1).to_numpy().reshape(100, 8, 8)
    noisy = np.clip(test + np.random.default_rng(0).normal(0, 0.2, test.shape), 0, 1)
    return clean, test, noisy


@pytest.mark.slow
def test_denoises_images_better_than_the_noisy_input_and_estimates_the_noise():
    clean, test, noisy = _noisy_bars()
    den = DiffusionDenoiser(image_shape=(8, 8), epochs=60, random_state=0, **{**SMALL, "width": 128}).fit(clean)
    assert den.architecture_ == "mlp"
    assert den.estimate_noise_std(noisy) == pytest.approx(0.2, rel=0.3)
    assert psnr(den.transform(noisy), test) > psnr(noisy, test) + 3


@pytest.mark.slow
def test_the_unet_denoises_too():
    clean, test, noisy = _noisy_bars()
    den = DiffusionDenoiser(image_shape=(8, 8), architecture="unet", noise_std=0.2, epochs=12, random_state=0, **{**SMALL, "width": 16, "depth": 1})
    den.fit(clean)
    assert psnr(den.transform(noisy), test) > psnr(noisy, test) + 3


@pytest.mark.slow
def test_detects_rows_off_the_training_distribution():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    normal = pd.DataFrame(gaussian_mixture(800, 0), columns=["x", "y"])
    normal["side"] = np.where(normal["x"] > 0, "east", "west")
    test = pd.DataFrame(gaussian_mixture(200, 1), columns=["x", "y"])
    test["side"] = np.where(test["x"] > 0, "east", "west")
    odd = pd.DataFrame(rng.uniform(-1, 1, size=(20, 2)), columns=["x", "y"])  # between the clusters
    odd["side"] = np.where(rng.random(20) < 0.5, "east", "west")
    swapped = test.iloc[:20].copy()
    swapped["side"] = np.where(swapped["x"] > 0, "west", "east")  # usual values, broken dependency
    data = pd.concat([test, odd, swapped], ignore_index=True)
    labels = np.r_[np.zeros(len(test)), np.ones(40)]
    det = DiffusionDetector(epochs=150, random_state=0, **SMALL).fit(normal)
    scores = det.score_samples(data)
    assert roc_auc_score(labels, -scores) > 0.9
    assert roc_auc_score(np.r_[np.zeros(len(test)), np.ones(20)], -np.r_[scores[: len(test)], scores[-20:]]) > 0.8
    assert set(np.unique(det.predict(data))) <= {-1, 1}
