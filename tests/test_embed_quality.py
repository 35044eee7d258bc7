"""The label-free embedding score: shift-invariant features beat raw-pixel PCA where a linear probe
says they should, collapse scores 0, the score is repeatable, and estimators that cannot embed
perturbed rows still get one."""

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from advisor.judging.embed_quality import effective_rank, label_free_score, perturbed_views
from advisor.nn.encoding import TabularEncoder


def bars(n=160, size=8, seed=0):
    """Two classes of 8x8 images: a horizontal or a vertical bar of random length, brightness and
    place, away from the border (so a one-pixel shift keeps it whole)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size))
    labels = rng.integers(0, 2, n)
    for i, label in enumerate(labels):
        length = int(rng.integers(2, 6))
        r, c = int(rng.integers(1, size - length)), int(rng.integers(1, size - 1))
        bar = (slice(c, c + 1), slice(r, r + length)) if label == 0 else (slice(r, r + length), slice(c, c + 1))
        images[i][bar] = rng.uniform(0.5, 1.0)
    return pd.DataFrame(images.reshape(n, -1), columns=[f"p{i}" for i in range(size * size)]), labels


def pulses(n=120, length=64, seed=1):
    """Two classes of sequences: a Gaussian or a square pulse of random width, height and place."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    rows, labels = np.zeros((n, length)), rng.integers(0, 2, n)
    for i, label in enumerate(labels):
        width, place, height = rng.uniform(2, 6), rng.uniform(12, length - 12), rng.uniform(0.5, 1.5)
        rows[i] = height * (np.exp(-0.5 * ((t - place) / width) ** 2) if label == 0 else np.abs(t - place) < width)
    return pd.DataFrame(rows, columns=[f"x{i}" for i in range(length)]), labels


class LowFrequencyMagnitude:
    """|FFT| at the lowest `k` frequencies (per axis): the same for every shift of content that
    sits on a blank background, and smooth enough not to amplify pixel noise."""

    def __init__(self, shape, k):
        self.shape, self.k = shape, k

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        arr = np.asarray(X, dtype=float).reshape((len(X),) + self.shape)
        spectrum = np.abs(np.fft.fftn(arr, axes=tuple(range(1, arr.ndim))))
        low = spectrum[:, : self.k, : self.k] if arr.ndim == 3 else spectrum[:, : self.k]
        return low.reshape(len(X), -1)


def probe(Z, labels):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return cross_val_score(model, Z, labels, cv=5).mean()


class Constant:
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.ones((len(X), 6))


class OneNumber:
    """Total brightness, four times over: shift-invariant, but a single dimension."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.repeat(np.asarray(X, dtype=float).sum(1, keepdims=True), 4, axis=1)


class OnlyKnownRows:
    """Embeds the rows it was fitted on and refuses any other (as a lookup table would)."""

    def fit(self, X, y=None):
        self.rows_ = {tuple(r): i for i, r in enumerate(np.asarray(X, dtype=float))}
        self.Z_ = np.random.default_rng(0).normal(size=(len(X), 5))
        return self

    def transform(self, X):
        return self.Z_[[self.rows_[tuple(r)] for r in np.asarray(X, dtype=float)]]


def test_shift_invariant_features_beat_pixel_pca_on_shifted_patterns():
    X, labels = bars()
    invariant = LowFrequencyMagnitude((8, 8), 5)
    pca = PCA(8, random_state=0).fit(X)
    good, good_m = label_free_score(invariant, X, modality="image", image_shape=(8, 8))
    bad, bad_m = label_free_score(pca, X, modality="image", image_shape=(8, 8))
    assert probe(invariant.transform(X), labels) > probe(pca.transform(X), labels) + 0.2  # what the score should see
    assert 0 <= bad < good - 0.05 and good <= 1
    assert good_m["retrieval_shift"] > bad_m["retrieval_shift"] + 0.3


def test_sequences_are_shifted_along_their_length():
    X, labels = pulses()
    invariant = LowFrequencyMagnitude((64,), 12)
    pca = PCA(8, random_state=0).fit(X)
    good, metrics = label_free_score(invariant, X, modality="sequence")
    bad, _ = label_free_score(pca, X, modality="sequence")
    assert {"retrieval_shift", "retrieval_noise"} <= set(metrics)
    assert probe(invariant.transform(X), labels) > probe(pca.transform(X), labels) + 0.2
    assert good > bad + 0.05


def test_a_collapsed_embedding_scores_near_zero():
    X, _ = bars(60)
    score, metrics = label_free_score(Constant(), X, modality="image", image_shape=(8, 8))
    assert score == 0.0 and metrics["basis"] == "collapsed"
    one_dim = np.repeat(X.to_numpy().sum(1, keepdims=True), 4, axis=1)  # four copies of one number
    assert effective_rank(one_dim - one_dim.mean(0)) == pytest.approx(1.0, abs=1e-6)
    score, metrics = label_free_score(OneNumber(), X, modality="image", image_shape=(8, 8))
    assert metrics["effective_rank"] == pytest.approx(1.0, abs=1e-3) and score < 0.25


def test_the_score_is_repeatable_for_a_seed():
    X, _ = bars(80)
    est = PCA(6, random_state=0).fit(X)
    (score, metrics), (score_again, metrics_again) = (label_free_score(est, X, modality="image", image_shape=(8, 8), seed=3)
                                                      for _ in range(2))
    rows, rows_again = metrics.pop("row_scores"), metrics_again.pop("row_scores")
    assert score == score_again and metrics == metrics_again and np.array_equal(rows, rows_again)


def test_the_score_is_the_mean_of_the_rows_shares_so_it_can_be_bootstrapped():
    from advisor.judging.bootstrap import fidelity_draws, interval, row_weights

    X, _ = bars(120)
    score, metrics = label_free_score(LowFrequencyMagnitude((8, 8), 5), X, modality="image", image_shape=(8, 8))
    rows = metrics["row_scores"]
    assert rows.shape == (120,) and score == pytest.approx(rows.mean(), abs=1e-12)
    draws = fidelity_draws("embed", {"row_score": rows}, row_weights(120, seed=0))
    lo, hi = interval(draws)
    assert lo < score < hi and hi - lo < 0.5


def test_an_estimator_that_cannot_embed_perturbed_rows_falls_back_to_the_rank():
    X, _ = bars(50)
    est = OnlyKnownRows().fit(X)
    score, metrics = label_free_score(est, X, modality="image", image_shape=(8, 8))
    assert metrics["basis"].startswith("effective rank only")
    assert "views_failed" in metrics
    assert score == pytest.approx(metrics["rank_factor"], abs=1e-4) and 0 < score < 1


def test_tables_perturb_numeric_columns_only_and_large_inputs_are_subsampled():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=90), "b": rng.integers(0, 5, 90), "kind": rng.choice(["x", "y", "z"], 90),
                      "flag": rng.integers(0, 2, 90).astype(bool)})
    views = list(perturbed_views(X, "tabular"))
    assert [kind for kind, _ in views] == ["noise"]
    view = views[0][1]
    assert (view["kind"] == X["kind"]).all() and (view["flag"] == X["flag"]).all()
    assert not np.allclose(view["a"], X["a"])
    est = TabularEncoder().fit(X)
    score, metrics = label_free_score(est, X, modality="tabular", max_rows=40)
    assert metrics["n_rows"] == 40 and 0 < score <= 1 and "retrieval_noise" in metrics


def test_image_shift_moves_content_by_one_pixel():
    X, _ = bars(5)
    shifted = dict()
    for kind, view in perturbed_views(X, "image", (8, 8)):
        shifted.setdefault(kind, []).append(view)
    first = shifted["shift"][0].to_numpy().reshape(5, 8, 8)
    original = X.to_numpy().reshape(5, 8, 8)
    assert np.allclose(first[:, 1:], original[:, :-1])  # moved down one row
