"""Measuring a fitted estimator on rows it did not train on.

`evaluate(task, estimator, fit_X, eval_part, context)` returns the fidelity and (where it can be
measured) the uncertainty score in [0, 1], plus the raw metrics behind them. The same function
scores a trial on the validation rows (the search objective is its fidelity) and each family's
best trial on the held-out test rows (the ranking). Outputs that are NaN, infinite or of the
wrong shape raise `FamilyError`, so a broken family is marked failed instead of ranked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors

from advisor.errors import FamilyError
from advisor.nn.encoding import TabularEncoder

from advisor.family import DECLARED_UNCERTAINTY  # noqa: F401 - re-exported for the ranking
Z90 = 1.6448536269514722


@dataclass
class EvalContext:
    """What the metrics need beyond the estimator: task options, and the data to compare with."""

    task: str
    seed: int = 0
    noise_std: float = 0.2
    image_shape: tuple | None = None
    labels: pd.Series | None = None  # detect / embed labels of the evaluated rows
    train_X: pd.DataFrame | None = None  # rows the estimator trained on (memorisation)
    _cache: dict = field(default_factory=dict)


@dataclass
class Evaluation:
    fidelity: float
    uncertainty: float | None  # None: not measurable, use the declared kind
    metrics: dict
    predict_seconds_per_1k: float


def evaluate(task: str, estimator, X: pd.DataFrame, y: pd.Series | None, ctx: EvalContext) -> Evaluation:
    """Score `estimator` on rows `X` (and target `y`) for `task`."""
    fn = {
        "classify": _classify,
        "regress": _regress,
        "generate": _generate,
        "detect": _detect,
        "embed": _embed,
        "denoise": _denoise,
    }[task]
    start = time.perf_counter()
    fidelity, uncertainty, metrics, n_pred = fn(estimator, X, y, ctx)
    seconds = time.perf_counter() - start
    metrics = {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in metrics.items()}
    per_1k = metrics.pop("_predict_seconds", seconds) / max(n_pred, 1) * 1000
    return Evaluation(float(np.clip(fidelity, 0, 1)), None if uncertainty is None else float(np.clip(uncertainty, 0, 1)), metrics, per_1k)


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _finite(a, what: str, shape0: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if shape0 is not None and (arr.ndim == 0 or arr.shape[0] != shape0):
        raise FamilyError(f"{what} returned shape {arr.shape}, expected {shape0} rows")
    if not np.all(np.isfinite(arr)):
        raise FamilyError(f"{what} returned NaN or infinite values")
    return arr


# -- classify ---------------------------------------------------------------------------------
def expected_calibration_error(y_true, proba, classes, n_bins: int = 15) -> float:
    """Top-label ECE with equal-width bins."""
    conf = proba.max(axis=1)
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    correct = (pred == np.asarray(y_true)).astype(float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def _classify(est, X, y, ctx):
    pred, t = _timed(est.predict, X)
    pred = np.asarray(pred)
    if pred.shape[0] != len(X):
        raise FamilyError(f"predict returned {pred.shape[0]} rows for {len(X)}")
    y = np.asarray(y)
    bal = balanced_accuracy_score(y.astype(str), pred.astype(str))
    metrics = {"balanced_accuracy": bal, "accuracy": float(np.mean(y.astype(str) == pred.astype(str))), "_predict_seconds": t}
    unc = 0.0
    if hasattr(est, "predict_proba"):
        proba = _finite(est.predict_proba(X), "predict_proba", len(X))
        classes = getattr(est, "classes_", None)
        if classes is None or proba.shape[1] != len(classes):
            raise FamilyError("predict_proba columns do not match classes_")
        if np.any(np.abs(proba.sum(axis=1) - 1) > 1e-3):
            raise FamilyError("predict_proba rows do not sum to 1")
        ece = expected_calibration_error(y.astype(str), proba, np.asarray(classes).astype(str))
        metrics["ece"] = ece
        idx = {str(c): i for i, c in enumerate(classes)}
        p_true = np.array([proba[i, idx[str(v)]] if str(v) in idx else 0.0 for i, v in enumerate(y)])
        metrics["log_loss"] = float(-np.mean(np.log(np.clip(p_true, 1e-15, 1))))
        unc = 1 - ece
    return bal, unc, metrics, len(X)


# -- regress ----------------------------------------------------------------------------------
def _regress(est, X, y, ctx):
    y = np.asarray(y, dtype=float)
    std = None
    t0 = time.perf_counter()
    try:
        out = est.predict(X, return_std=True)
        mean, std = out
    except TypeError:
        mean = est.predict(X)
    t = time.perf_counter() - t0
    mean = _finite(mean, "predict", len(X)).reshape(-1)
    r2 = r2_score(y, mean)
    metrics = {"r2": r2, "rmse": float(np.sqrt(np.mean((y - mean) ** 2))), "_predict_seconds": t}
    unc = 0.0
    if std is not None:
        std = _finite(std, "predict(return_std=True)", len(X)).reshape(-1)
        if np.all(std == 0):
            metrics["std_all_zero"] = True
        else:
            covered = np.abs(y - mean) <= Z90 * std
            cov = float(covered.mean())
            metrics.update(coverage90=cov, interval90_width=float(np.mean(2 * Z90 * std)))
            unc = 1 - abs(cov - 0.9) / 0.9
    return max(r2, 0.0), unc, metrics, len(X)


# -- shared numeric view for distances --------------------------------------------------------
def _numeric_view(ctx: EvalContext, reference: pd.DataFrame) -> TabularEncoder:
    key = ("encoder", id(reference))
    if key not in ctx._cache:
        ctx._cache[key] = TabularEncoder(numeric="standard", max_levels=50).fit(reference)
    return ctx._cache[key]


def _as_rows(samples, columns, image_shape) -> pd.DataFrame:
    if isinstance(samples, pd.DataFrame):
        return samples
    arr = np.asarray(samples)
    if arr.ndim > 2:
        arr = arr.reshape(len(arr), -1)
    if arr.ndim != 2 or arr.shape[1] != len(columns):
        raise FamilyError(f"sample returned shape {np.asarray(samples).shape}, expected {len(columns)} columns")
    return pd.DataFrame(arr, columns=columns)


# -- generate ---------------------------------------------------------------------------------
def c2st_score(real: np.ndarray, synthetic: np.ndarray, seed: int = 0, folds: int = 3) -> float:
    """Detection score 1 - 2|AUC - 0.5| of a classifier telling real rows from synthetic ones."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    n = min(len(real), len(synthetic))
    rng = np.random.default_rng(seed)
    real = real[rng.permutation(len(real))[:n]]
    synthetic = synthetic[rng.permutation(len(synthetic))[:n]]
    Xc = np.vstack([real, synthetic])
    yc = np.r_[np.zeros(n), np.ones(n)]
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    auc = float(np.mean(cross_val_score(clf, Xc, yc, cv=cv, scoring="roc_auc")))
    return 1 - 2 * abs(auc - 0.5), auc


def _generate(est, X, y, ctx):
    n = max(len(X), 500)
    samples, t = _timed(est.sample, n, random_state=ctx.seed)
    synth = _as_rows(samples, list(X.columns), ctx.image_shape)
    if len(synth) != n:
        raise FamilyError(f"sample({n}) returned {len(synth)} rows")
    missing = [c for c in X.columns if c not in synth.columns]
    if missing:
        raise FamilyError(f"sample() lost columns {missing[:3]}")
    synth = synth[list(X.columns)]
    enc = _numeric_view(ctx, ctx.train_X if ctx.train_X is not None else X)
    try:
        S = enc.transform(synth)
    except Exception as exc:  # noqa: BLE001 - a wrong dtype in generated data is the family's fault
        raise FamilyError(f"sample() returned values that do not fit the columns: {exc}") from None
    if not np.all(np.isfinite(S)):
        raise FamilyError("sample() returned NaN or infinite values")
    R = enc.transform(X)
    score, auc = c2st_score(R, S, seed=ctx.seed)
    metrics = {"c2st_score": score, "c2st_auc": auc, "_predict_seconds": t}
    # Coverage (Naeem et al., 2020): share of real rows with a generated row inside their k-NN ball.
    k = 5
    real_nn = NearestNeighbors(n_neighbors=k + 1).fit(R)
    radius = real_nn.kneighbors(R)[0][:, -1]
    dist_to_syn = NearestNeighbors(n_neighbors=1).fit(S).kneighbors(R)[0][:, 0]
    coverage = float(np.mean(dist_to_syn <= radius))
    metrics["coverage"] = coverage
    if ctx.train_X is not None and len(ctx.train_X) > 1:
        mem, mem_ref, copies = _memorisation(enc, ctx, S, R)
        metrics.update(memorization_share=mem, memorization_share_heldout=mem_ref, exact_copy_share=copies)
        excess = max(0.0, mem - mem_ref - 0.05)
        # A generator that hands back its training rows is leaking them, not generalising:
        # the fidelity is cut in proportion to memorisation beyond that of held-out real rows.
        score = score * max(0.0, 1 - 2 * excess)
        metrics["memorization_penalty"] = round(1 - max(0.0, 1 - 2 * excess), 4)
    return score, coverage, metrics, n


def _memorisation(enc, ctx, S, R):
    key = ("train_nn", id(ctx.train_X))
    if key not in ctx._cache:
        T = enc.transform(ctx.train_X)
        rng = np.random.default_rng(ctx.seed)
        T = T[rng.permutation(len(T))[:5000]]
        nn = NearestNeighbors(n_neighbors=2).fit(T)
        threshold = float(np.median(nn.kneighbors(T)[0][:, 1]))
        ctx._cache[key] = (T, nn, threshold)
    T, nn, threshold = ctx._cache[key]
    d_syn = nn.kneighbors(S, n_neighbors=1)[0][:, 0]
    d_real = nn.kneighbors(R, n_neighbors=1)[0][:, 0]
    return float(np.mean(d_syn < threshold)), float(np.mean(d_real < threshold)), float(np.mean(d_syn < 1e-9))


# -- detect -----------------------------------------------------------------------------------
def inject_anomalies(X: pd.DataFrame, seed: int = 0, share: float = 0.1) -> tuple[pd.DataFrame, np.ndarray]:
    """Held-out rows plus synthetic anomalies: half are 3-5 sd jumps in one numeric column,
    half break the dependencies between columns while keeping every marginal."""
    rng = np.random.default_rng(seed)
    n_anom = max(10, int(len(X) * share))
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    rows = []
    for i in range(n_anom):
        row = X.iloc[int(rng.integers(len(X)))].copy()
        if numeric and i % 2 == 0:
            col = numeric[int(rng.integers(len(numeric)))]
            values = X[col].astype(float)
            sd = float(values.std()) or 1.0
            base = row[col] if pd.notna(row[col]) else float(values.mean())
            row[col] = base + rng.choice([-1, 1]) * rng.uniform(3, 5) * sd
        else:
            for col in X.columns:
                row[col] = X[col].iloc[int(rng.integers(len(X)))]
        rows.append(row)
    anomalies = pd.DataFrame(rows, columns=X.columns).astype(X.dtypes.to_dict(), errors="ignore")
    mixed = pd.concat([X, anomalies], ignore_index=True)
    labels = np.r_[np.zeros(len(X)), np.ones(n_anom)]
    return mixed, labels


def _detect(est, X, y, ctx):
    if ctx.labels is not None and ctx.labels.nunique() == 2:
        data, labels, source = X, ctx.labels.to_numpy(dtype=float), "labels"
    else:
        data, labels = inject_anomalies(X, seed=ctx.seed)
        source = "injected"
    scores, t = _timed(est.score_samples, data)
    scores = _finite(scores, "score_samples", len(data)).reshape(-1)
    auc = float(roc_auc_score(labels, -scores))
    return auc, None, {"roc_auc": auc, "anomalies": source, "_predict_seconds": t}, len(data)


# -- embed ------------------------------------------------------------------------------------
def probe_accuracy(Z: np.ndarray, labels, seed: int = 0) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels).astype(str)
    folds = int(min(5, pd.Series(labels).value_counts().min()))
    if folds < 2:
        return float("nan")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(probe, Z, labels, cv=cv)))


def _embed(est, X, y, ctx):
    Z, t = _timed(est.transform, X)
    Z = _finite(Z, "transform", len(X))
    Z = Z.reshape(len(X), -1)
    metrics = {"embedding_dim": int(Z.shape[1]), "_predict_seconds": t}
    if ctx.labels is not None and ctx.labels.notna().all():
        acc = probe_accuracy(Z, ctx.labels, ctx.seed)
        if np.isfinite(acc):
            key = ("raw_probe", id(X))
            if key not in ctx._cache:
                raw = _numeric_view(ctx, X).transform(X)
                ctx._cache[key] = probe_accuracy(raw, ctx.labels, ctx.seed)
            metrics.update(probe_accuracy=acc, raw_probe_accuracy=ctx._cache[key])
            return acc, None, metrics, len(X)
    from sklearn.manifold import trustworthiness

    raw = _numeric_view(ctx, X).transform(X)[:1000]
    k = min(5, len(raw) // 2 - 1)
    trust = float(trustworthiness(raw, Z[:1000], n_neighbors=max(k, 1)))
    metrics["trustworthiness"] = trust
    return trust, None, metrics, len(X)


# -- denoise ----------------------------------------------------------------------------------
def add_noise(X: pd.DataFrame, noise_std: float, image: bool, seed: int = 0, low=None, high=None):
    """Gaussian noise: in pixel-range units for images (clipped to the range), per-column sd units for tables."""
    rng = np.random.default_rng(seed)
    values = X.to_numpy(dtype=float)
    if image:
        lo = np.nanmin(values) if low is None else low
        hi = np.nanmax(values) if high is None else high
        noisy = np.clip(values + rng.normal(0, noise_std * (hi - lo), values.shape), lo, hi)
    else:
        sd = np.nanstd(values, axis=0)
        sd[sd == 0] = 1.0
        noisy = values + rng.normal(0, 1, values.shape) * noise_std * sd
    return pd.DataFrame(noisy, columns=X.columns)


def _denoise(est, X, y, ctx):
    image = ctx.image_shape is not None
    clean = X.astype(float)
    train = ctx.train_X.astype(float) if ctx.train_X is not None else clean
    low, high = (float(np.nanmin(train.to_numpy())), float(np.nanmax(train.to_numpy()))) if image else (None, None)
    noisy = add_noise(clean, ctx.noise_std, image, seed=ctx.seed, low=low, high=high)
    out, t = _timed(est.transform, noisy)
    out = _finite(np.asarray(out, dtype=float).reshape(len(X), -1), "transform", len(X))
    if out.shape[1] != clean.shape[1]:
        raise FamilyError(f"transform returned {out.shape[1]} columns, expected {clean.shape[1]}")
    ref = clean.to_numpy()
    mask = np.isfinite(ref)
    scale = np.ones(ref.shape[1]) if image else np.where(np.nanstd(train.to_numpy(), axis=0) > 0, np.nanstd(train.to_numpy(), axis=0), 1.0)
    mse_noisy = float(np.mean((((noisy.to_numpy() - ref) / scale)[mask]) ** 2))
    mse = float(np.mean((((out - ref) / scale)[mask]) ** 2))
    gain = 10 * np.log10(max(mse_noisy, 1e-12) / max(mse, 1e-12))
    peak = (high - low) if image else 1.0
    metrics = {
        "psnr": 10 * np.log10(peak**2 / max(mse, 1e-12)),
        "psnr_noisy": 10 * np.log10(peak**2 / max(mse_noisy, 1e-12)),
        "psnr_gain": gain,
        "noise_std": ctx.noise_std,
        "_predict_seconds": t,
    }
    # Share of the noise power removed: 0 for no gain, 0.5 for 3 dB, 0.9 for 10 dB.
    return 1 - 10 ** (-gain / 10), None, metrics, len(X)
