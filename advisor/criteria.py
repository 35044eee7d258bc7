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

from advisor.decision import Z90, BalancedDecision, balanced_labels, implied_shares, interval_score
from advisor.errors import FamilyError
from advisor.family import DECLARED_UNCERTAINTY  # noqa: F401 - re-exported for the ranking
from advisor.nn.encoding import TabularEncoder


@dataclass
class EvalContext:
    """What the metrics need beyond the estimator: task options, and the data to compare with."""

    task: str
    seed: int = 0
    noise_std: float = 0.2
    image_shape: tuple | None = None
    labels: pd.Series | None = None  # detect / embed labels of the evaluated rows
    train_X: pd.DataFrame | None = None  # rows the estimator trained on (memorisation)
    train_y: pd.Series | None = None  # their target: the class-prior and marginal baselines
    c2st_chunks: int = 1  # generate: synthetic chunks of len(X) rows, each against all real rows
    modality: str = "tabular"  # embed: which perturbations keep a row's meaning
    _cache: dict = field(default_factory=dict)


@dataclass
class Evaluation:
    fidelity: float
    uncertainty: float | None  # None: not measurable, use the declared kind
    metrics: dict
    predict_seconds_per_1k: float
    # Per-row parts the fidelity is computed from (advisor.bootstrap redraws them), or the
    # standard error of the fidelity where it does not split into rows.
    parts: dict = field(default_factory=dict, repr=False)
    spread: float | None = None


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
    parts = metrics.pop("_parts", {})
    spread = metrics.pop("_spread", None)
    metrics = {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in metrics.items()}
    per_1k = metrics.pop("_predict_seconds", seconds) / max(n_pred, 1) * 1000
    return Evaluation(float(np.clip(fidelity, 0, 1)), None if uncertainty is None else float(np.clip(uncertainty, 0, 1)), metrics, per_1k,
                      parts, None if spread is None else float(spread))


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
    """Balanced accuracy of the decision rule the model ships with, and a proper score.

    Without a tuned rule (a trial, a fold), labels follow the balanced-accuracy Bayes rule on the
    probabilities (advisor.decision); a `BalancedDecision` applies its own tuned rule.
    """
    y = np.asarray(y).astype(str)
    metrics = {}
    proba = None
    if hasattr(est, "predict_proba"):
        proba, t = _timed(est.predict_proba, X)
        proba = _finite(proba, "predict_proba", len(X))
        classes = getattr(est, "classes_", None)
        if classes is None or proba.ndim != 2 or proba.shape[1] != len(classes):
            raise FamilyError("predict_proba columns do not match classes_")
        if np.any(np.abs(proba.sum(axis=1) - 1) > 1e-3):
            raise FamilyError("predict_proba rows do not sum to 1")
        classes = np.asarray(classes).astype(str)
        head = X.iloc[:5]
        if np.asarray(est.predict(head)).shape[0] != len(head):  # labels are drawn from the probabilities, but predict must work too
            raise FamilyError(f"predict returned {np.asarray(est.predict(head)).shape[0]} rows for {len(head)}")
        if _decides_itself(est):
            pred = np.asarray(est.predict(X)).astype(str)
        else:
            pred = balanced_labels(proba, classes, implied_shares(proba))
    else:
        pred, t = _timed(est.predict, X)
        pred = np.asarray(pred).astype(str)
    if pred.shape[0] != len(X):
        raise FamilyError(f"predict returned {pred.shape[0]} rows for {len(X)}")
    bal = balanced_accuracy_score(y, pred)
    parts = {"y": y, "pred": pred} if proba is None else {"y": y, "pred": pred, "proba": proba, "classes": classes}
    metrics.update(balanced_accuracy=bal, accuracy=float(np.mean(y == pred)), _predict_seconds=t, _parts=parts)
    unc = None
    if proba is not None:
        metrics["ece"] = expected_calibration_error(y, proba, classes)
        skill, loss, prior_loss = log_loss_skill(y, proba, classes, ctx.train_y)
        metrics.update(log_loss=loss, log_loss_prior=prior_loss)
        parts["row_loss"] = row_log_loss(y, proba, classes)
        unc = skill
    return bal, unc, metrics, len(X)


def _decides_itself(est) -> bool:
    """Whether the estimator carries a tuned decision rule (then its `predict` decides)."""
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    return isinstance(final, BalancedDecision)


def row_log_loss(y, proba, classes) -> np.ndarray:
    """Each row's log loss: minus the log of the probability given to its true class."""
    idx = {c: i for i, c in enumerate(np.asarray(classes).astype(str))}
    p_true = np.array([proba[i, idx[v]] if v in idx else 0.0 for i, v in enumerate(np.asarray(y).astype(str))])
    return -np.log(np.clip(p_true, 1e-15, 1))


def objective(task: str, evaluation: Evaluation) -> float:
    """What the search maximises within a family: the fidelity, except for classifiers with
    probabilities, where it is minus the log loss. A proper score selects hyperparameters on
    far less noise than balanced accuracy on a few rare-class rows, and rewards probabilities
    the tuned decision rule can use; families are still compared on fidelity."""
    if task == "classify" and "log_loss" in evaluation.metrics:
        return -float(evaluation.metrics["log_loss"])
    return evaluation.fidelity


def log_loss_skill(y, proba, classes, train_y=None) -> tuple[float, float, float]:
    """(skill, log loss, baseline log loss): 1 - log loss / that of predicting the class shares.

    The baseline predicts the training rows' class shares for every row; a skill of 0 means the
    probabilities say no more than the class balance, and worse is clipped to 0.
    """
    y = np.asarray(y).astype(str)
    loss = float(np.mean(row_log_loss(y, proba, classes)))
    reference = np.asarray(train_y).astype(str) if train_y is not None else y
    shares = pd.Series(reference).value_counts(normalize=True)
    prior = np.array([shares.get(v, 0.0) for v in y])
    prior_loss = float(-np.mean(np.log(np.clip(prior, 1e-15, 1))))
    skill = 1 - loss / prior_loss if prior_loss > 0 else 0.0
    return float(np.clip(skill, 0, 1)), loss, prior_loss


# -- regress ----------------------------------------------------------------------------------
def _regress(est, X, y, ctx):
    """R² and, where the model gives a predictive std, the 90 % interval score as a skill."""
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
    metrics = {"r2": r2, "rmse": float(np.sqrt(np.mean((y - mean) ** 2))), "_predict_seconds": t, "_parts": {"y": y, "mean": mean}}
    unc = None
    if std is not None:
        std = _finite(std, "predict(return_std=True)", len(X)).reshape(-1)
        if np.all(std == 0):
            metrics["std_all_zero"] = True
        else:
            lower, upper = mean - Z90 * std, mean + Z90 * std
            covered = (y >= lower) & (y <= upper)
            skill, score, base = interval_skill(y, lower, upper, ctx.train_y)
            metrics.update(coverage90=float(covered.mean()), interval90_width=float(np.mean(upper - lower)),
                           interval_score=score, interval_score_baseline=base)
            unc = skill
            metrics["_parts"]["std"] = std
    return max(r2, 0.0), unc, metrics, len(X)


def interval_skill(y, lower, upper, train_y=None) -> tuple[float, float, float]:
    """(skill, interval score, baseline score) of 90 % intervals (Gneiting & Raftery, 2007).

    The interval score adds the width and 20 times any miss, so it rewards coverage and
    narrowness together. The baseline is the same interval for every row: the 5 % and 95 %
    quantiles of the training target. Skill 1 - score / baseline is 0 for no better than that.
    """
    reference = np.asarray(train_y if train_y is not None else y, dtype=float)
    lo, hi = np.quantile(reference, [0.05, 0.95])
    score = float(np.mean(interval_score(y, lower, upper)))
    base = float(np.mean(interval_score(y, np.full(len(y), lo), np.full(len(y), hi))))
    skill = 1 - score / base if base > 0 else 0.0
    return float(np.clip(skill, 0, 1)), score, base


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
        aucs.extend(cross_val_score(clf, Xc, yc, cv=cv, scoring="roc_auc"))
    auc = float(np.mean(aucs))
    spread = 2 * float(np.std(aucs, ddof=1)) / np.sqrt(len(aucs)) if len(aucs) > 1 else None
    return 1 - 2 * abs(auc - 0.5), auc, spread


def _generate(est, X, y, ctx):
    n = max(len(X) * max(ctx.c2st_chunks, 1), 500)
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
    score, auc, spread = c2st_score(R, S, seed=ctx.seed, folds=5 if ctx.c2st_chunks > 1 else 3, chunks=ctx.c2st_chunks)
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


def _embed(est, X, y, ctx):
    Z, t = _timed(est.transform, X)
    Z = _finite(Z, "transform", len(X))
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
    # discounted for collapse (advisor.embed_quality); it ranks families as a probe would.
    from advisor.embed_quality import label_free_score

    score, parts = label_free_score(est, X, Z, modality=ctx.modality, image_shape=ctx.image_shape, seed=ctx.seed)
    metrics.update(label_free_score=score, **{k: v for k, v in parts.items() if isinstance(v, (int, float, str))})
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
