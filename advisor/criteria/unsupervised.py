"""Fidelity of the tasks without a target: generate (C2ST, coverage, memorisation), detect (AUC on
labelled or injected anomalies), embed (a linear probe, or the label-free criterion) and denoise
(the share of the noise power removed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors

from advisor.criteria.base import EvalContext, finite, timed
from advisor.errors import FamilyError
from advisor.nn.encoding import TabularEncoder


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
def c2st_score(real: np.ndarray, synthetic: np.ndarray, seed: int = 0, folds: int = 3, chunks: int = 1):
    """Detection score 1 - 2|AUC - 0.5| of a classifier telling real rows from synthetic ones.

    The synthetic rows are split into up to `chunks` disjoint chunks of len(real) rows; each is
    told from all real rows in cross-fitted folds (every row scored by a model that did not
    train on it), and the AUCs are averaged. Returns (score, AUC, standard error of the score).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    real = real[rng.permutation(len(real))]
    synthetic = synthetic[rng.permutation(len(synthetic))]
    n = min(len(real), len(synthetic))
    aucs = []
    for c in range(max(1, min(chunks, len(synthetic) // max(n, 1)))):
        chunk = synthetic[c * n : (c + 1) * n]
        Xc = np.vstack([real[:n], chunk])
        yc = np.r_[np.zeros(n), np.ones(len(chunk))]
        clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + c)
        # error_score="raise": a deadline (advisor.runtime.watchdog) hit inside a fold must stop the scoring, not
        # turn into a NaN fold that reads as a failed model.
        aucs.extend(cross_val_score(clf, Xc, yc, cv=cv, scoring="roc_auc", error_score="raise"))
    auc = float(np.mean(aucs))
    spread = 2 * float(np.std(aucs, ddof=1)) / np.sqrt(len(aucs)) if len(aucs) > 1 else None
    return 1 - 2 * abs(auc - 0.5), auc, spread


def _draw(est, n: int, ctx):
    """`n` rows as the returned model draws them: a table with a target column draws the target
    from the training rows' values and the rest of the row given it (advisor.model.conditional)."""
    if ctx.target is None or ctx.train_X is None:
        return est.sample(n, random_state=ctx.seed)
    from advisor.model.conditional import draw_with_target

    return draw_with_target(est, ctx.target, ctx.train_X[ctx.target].dropna(), n, ctx.seed)


def generate(est, X, y, ctx):
    n = max(len(X) * max(ctx.c2st_chunks, 1), ctx.min_synthetic)
    samples, t = timed(_draw, est, n, ctx)
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
    score, auc, spread = c2st_score(R, S, seed=ctx.seed, folds=ctx.c2st_fold_count(), chunks=ctx.c2st_chunks)
    metrics = {"c2st_score": score, "c2st_auc": auc, "_predict_seconds": t, "_spread": spread}
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
        excess = memorisation_excess(mem, mem_ref, n_synthetic=len(S), n_heldout=len(R))
        metrics["memorization_excess_bound"] = round(excess, 4)
        # A generator that hands back its training rows is leaking them, not generalising:
        # the fidelity is cut in proportion to memorisation beyond that of held-out real rows.
        kept = max(0.0, 1 - 2 * max(0.0, excess))
        score = score * kept
        metrics["memorization_penalty"] = round(1 - kept, 4)
        if ctx.target is not None and ctx.ml_efficiency:
            metrics.update(ml_efficiency(synth, ctx.train_X, X, ctx.target, ctx.seed))
    return score, coverage, metrics, n


def ml_efficiency(synthetic: pd.DataFrame, train: pd.DataFrame, held_out: pd.DataFrame, target: str, seed: int = 0) -> dict:
    """Machine-learning efficiency (Xu et al., 2019; TabDDPM's main metric): a gradient-boosting
    model trained on the generated rows, and one on the real training rows, both predict the
    target of held-out real rows; the gap is how much the real rows' model does better
    (accuracy for a categorical target, R² for a numeric one; lower is better, about 0 is ideal)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score

    from advisor.model.conditional import numeric_target

    numeric = numeric_target(train[target].dropna())
    enc = TabularEncoder(numeric="standard", max_levels=50).fit(train.drop(columns=[target]))
    features = enc.transform(held_out.drop(columns=[target]))
    truth = held_out[target]
    kept = truth.notna().to_numpy()
    scores = {}
    for name, rows in (("synthetic", synthetic), ("real", train)):
        rows = rows[rows[target].notna()]
        if numeric:
            model = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
            model.fit(enc.transform(rows.drop(columns=[target])), rows[target].astype(float))
            scores[name] = float(r2_score(truth[kept].astype(float), model.predict(features[kept])))
        elif rows[target].astype(str).nunique() < 2:
            scores[name] = float(np.mean(truth[kept].astype(str) == str(rows[target].iloc[0]))) if len(rows) else 0.0
        else:
            model = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
            model.fit(enc.transform(rows.drop(columns=[target])), rows[target].astype(str))
            scores[name] = float(accuracy_score(truth[kept].astype(str), model.predict(features[kept])))
    kind = "r2" if numeric else "accuracy"
    return {f"mle_{kind}_synthetic": scores["synthetic"], f"mle_{kind}_real": scores["real"],
            "mle_gap": scores["real"] - scores["synthetic"]}


MEMORISATION_ALLOWANCE = 0.05  # a generator may sit this much closer to its training rows than fresh rows do
FRESH_SHARE, FRESH_SHARE_SE = 0.5, 0.02  # what fresh rows give by the threshold's construction, and how far data moves it
Z_ONE_SIDED_80 = 0.8416212335729143


def memorisation_excess(mem: float, heldout: float, *, n_synthetic: int, n_heldout: int) -> float:
    """How far a generator's memorisation share may lie past held-out real rows' share plus the
    allowance: a one-sided 80 % upper bound, so that a model the search tunes up to the line
    (its score rises until the cut starts) is not returned above it by the noise of the estimate.

    Fresh rows from the data's distribution fall under the threshold (the median distance between
    a training row and its nearest other training row) about half of the time, so the measured
    held-out share is pooled with 0.5 by precision: a few hundred held-out rows no longer move the
    line by several points, and many rows (or data whose duplicated rows raise the share) speak
    for themselves. Both shares are means of Bernoulli draws; their variances add.
    """
    var_heldout = max(heldout * (1 - heldout), 0.01) / max(n_heldout, 1)
    weight = (1 / var_heldout) / (1 / var_heldout + 1 / FRESH_SHARE_SE**2)
    reference = weight * heldout + (1 - weight) * FRESH_SHARE
    var_reference = 1 / (1 / var_heldout + 1 / FRESH_SHARE_SE**2)
    var_mem = max(mem * (1 - mem), 0.01) / max(n_synthetic, 1)
    return float(mem - reference - MEMORISATION_ALLOWANCE + Z_ONE_SIDED_80 * np.sqrt(var_mem + var_reference))


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
ANOMALY_SHARE = 0.5  # synthetic anomalies per held-out row
MAX_ANOMALIES = 2000


def inject_anomalies(X: pd.DataFrame, seed: int = 0, share: float = ANOMALY_SHARE) -> tuple[pd.DataFrame, np.ndarray]:
    """Held-out rows plus synthetic anomalies: half are 3-5 sd jumps in one numeric column,
    half break the dependencies between columns while keeping every marginal.

    ROC-AUC does not depend on how rare the anomalies are, but its noise falls with their
    number: one anomaly per two rows (at most `MAX_ANOMALIES`) halves the spread between
    injections that one per ten rows gave (det_latent8's validation rows: 0.022 to 0.009 for an
    isolation forest, 0.004 to 0.002 for a Gaussian mixture, over 20 injections)."""
    rng = np.random.default_rng(seed)
    n_anom = max(10, min(int(len(X) * share), MAX_ANOMALIES))
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


def detect(est, X, y, ctx):
    if ctx.labels is not None and ctx.labels.nunique() == 2:
        data, labels, source = X, ctx.labels.to_numpy(dtype=float), "labels"
    else:
        data, labels = inject_anomalies(X, seed=ctx.seed)
        source = "injected"
    scores, t = timed(est.score_samples, data)
    scores = finite(scores, "score_samples", len(data)).reshape(-1)
    auc = float(roc_auc_score(labels, -scores))
    parts = {"labels": np.asarray(labels, dtype=float), "scores": scores}
    return auc, None, {"roc_auc": auc, "anomalies": source, "_predict_seconds": t, "_parts": parts}, len(data)


# -- embed ------------------------------------------------------------------------------------
def probe_correct(Z: np.ndarray, labels, seed: int = 0) -> np.ndarray | None:
    """Per row, whether a cross-validated linear probe (scaled logistic regression) is right.

    The probe's accuracy is their mean; kept per row so that it can be bootstrapped.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels).astype(str)
    folds = int(min(5, pd.Series(labels).value_counts().min()))
    if folds < 2:
        return None
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return (cross_val_predict(probe, Z, labels, cv=cv) == labels).astype(float)


def probe_accuracy(Z: np.ndarray, labels, seed: int = 0) -> float:
    correct = probe_correct(Z, labels, seed)
    return float("nan") if correct is None else float(correct.mean())


def embed(est, X, y, ctx):
    Z, t = timed(est.transform, X)
    Z = finite(Z, "transform", len(X))
    Z = Z.reshape(len(X), -1)
    metrics = {"embedding_dim": int(Z.shape[1]), "_predict_seconds": t}
    if ctx.labels is not None and ctx.labels.notna().all():
        correct = probe_correct(Z, ctx.labels, ctx.seed)
        if correct is not None:
            acc = float(correct.mean())
            key = ("raw_probe", id(X))
            if key not in ctx._cache:
                raw = _numeric_view(ctx, X).transform(X)
                ctx._cache[key] = probe_accuracy(raw, ctx.labels, ctx.seed)
            metrics.update(probe_accuracy=acc, raw_probe_accuracy=ctx._cache[key], _parts={"correct": correct})
            return acc, None, metrics, len(X)
    # No labels: how well a perturbed copy of each row finds its own row in the embedding,
    # discounted for collapse (advisor.judging.embed_quality); it ranks families as a probe would.
    from advisor.judging.embed_quality import label_free_score

    score, parts = label_free_score(est, X, Z, modality=ctx.modality, image_shape=ctx.image_shape, seed=ctx.seed)
    metrics.update(label_free_score=score, **{k: v for k, v in parts.items() if isinstance(v, (int, float, str))})
    if "row_scores" in parts:  # the rows' shares of the score: bootstrapped by the verdict
        metrics["_parts"] = {"row_score": parts["row_scores"]}
    return score, None, metrics, len(X)


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


def denoise(est, X, y, ctx):
    image = ctx.image_shape is not None
    clean = X.astype(float)
    train = ctx.train_X.astype(float) if ctx.train_X is not None else clean
    low, high = (float(np.nanmin(train.to_numpy())), float(np.nanmax(train.to_numpy()))) if image else (None, None)
    noisy = add_noise(clean, ctx.noise_std, image, seed=ctx.seed, low=low, high=high)
    out, t = timed(est.transform, noisy)
    out = finite(np.asarray(out, dtype=float).reshape(len(X), -1), "transform", len(X))
    if out.shape[1] != clean.shape[1]:
        raise FamilyError(f"transform returned {out.shape[1]} columns, expected {clean.shape[1]}")
    ref = clean.to_numpy()
    mask = np.isfinite(ref)
    scale = np.ones(ref.shape[1]) if image else np.where(np.nanstd(train.to_numpy(), axis=0) > 0, np.nanstd(train.to_numpy(), axis=0), 1.0)
    err_noisy = np.where(mask, (noisy.to_numpy() - ref) / scale, 0.0) ** 2
    err = np.where(mask, (out - ref) / scale, 0.0) ** 2
    mse_noisy = float(err_noisy.sum() / max(mask.sum(), 1))
    mse = float(err.sum() / max(mask.sum(), 1))
    gain = 10 * np.log10(max(mse_noisy, 1e-12) / max(mse, 1e-12))
    peak = (high - low) if image else 1.0
    metrics = {
        "psnr": 10 * np.log10(peak**2 / max(mse, 1e-12)),
        "psnr_noisy": 10 * np.log10(peak**2 / max(mse_noisy, 1e-12)),
        "psnr_gain": gain,
        "noise_std": ctx.noise_std,
        "_predict_seconds": t,
        "_parts": {"mse": err.sum(axis=1), "mse_noisy": err_noisy.sum(axis=1)},
    }
    # Share of the noise power removed: 0 for no gain, 0.5 for 3 dB, 0.9 for 10 dB.
    return 1 - 10 ** (-gain / 10), None, metrics, len(X)
