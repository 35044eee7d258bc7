"""The oracle's test rows, one outcome each, so that the report can tell a real lead from noise.

An oracle run records, beside its scorer value, what each test row contributed to that value (a
right or wrong label, a squared error, an anomaly score, a denoising error, a probe's right or
wrong answer). The report resamples the rows (the same draw for every family: a paired
bootstrap) and calls a family tied with the oracle's best where the 90 % interval of their
difference reaches zero: on those test rows the oracle itself cannot tell them apart, so picking
either is a hit. Generation has no per-row outcome (C2ST trains a classifier on the whole sample),
so its hits stay exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

BOOTSTRAP_DRAWS = 2000
TIE_LEVEL = 0.90  # the interval of the difference; the advisor calls its own ties at the same level


def outcomes(score, case: str, estimator) -> dict | None:
    """Per-row outcomes of a fitted estimator on the case's test rows, computed as the scorer does."""
    train, test, meta = score.load_case(case)
    task, metric = meta["task"], meta["metric"]
    if task == "classify":
        target = meta["target"]
        y = score._norm_labels(test[target].to_numpy())
        predicted = score._norm_labels(estimator.predict(test.drop(columns=[target])))
        codes = {label: i for i, label in enumerate(sorted(set(y) | set(predicted)))}
        return {"metric": metric, "y": [codes[v] for v in y], "predicted": [codes[v] for v in predicted]}
    if task == "regress":
        target = meta["target"]
        y = test[target].to_numpy(dtype=float)
        predicted = np.asarray(estimator.predict(test.drop(columns=[target])), dtype=float).ravel()
        return {"metric": metric, "squared_error": np.round((y - predicted) ** 2, 8).tolist()}
    if task == "detect":
        label = meta["target"] or "is_anomaly"
        X = test.drop(columns=[label])
        normal = estimator.score_samples(X) if hasattr(estimator, "score_samples") else estimator.decision_function(X)
        anomaly = -np.asarray(normal, dtype=float).ravel()
        anomaly = np.nan_to_num(anomaly, nan=float(np.nanmedian(anomaly)))
        return {"metric": metric, "y": test[label].to_numpy().astype(int).tolist(), "anomaly": np.round(anomaly, 8).tolist()}
    if task == "denoise":
        clean = meta["extra"]["test_clean"].to_numpy(dtype=float)
        denoised = score._images_to_frame(estimator.transform(test), meta).to_numpy(dtype=float)
        return {"metric": metric, "row_mse": np.round(np.mean((denoised - clean) ** 2, axis=1), 10).tolist()}
    if task == "embed":
        return {"metric": metric, "correct": _probe_correct(score, meta, test, estimator)}
    if task == "generate":
        return _c2st_rows(score, meta, train, test, estimator)
    return None


def _c2st_rows(score, meta, train, test, estimator) -> dict:
    """The scorer's C2ST, row by row: its sample and preparation are taken from its own
    generation scoring (its `c2st` is observed, not reimplemented), then its classifier is rerun
    with the same folds and seed, keeping each row's out-of-fold probability."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    seen = {}
    original = score.c2st

    def observe(real, syn, cat_cols, **kwargs):
        seen.update(real=real, syn=syn, cats=cat_cols)
        result = original(real, syn, cat_cols, **kwargs)
        seen["auc"] = result["c2st_auc"]
        return result

    score.c2st = observe
    try:
        score._eval_generate(estimator, train, test, meta)
    finally:
        score.c2st = original
    real, syn = seen["real"], seen["syn"]
    n = min(len(real), len(syn))
    real = real.iloc[:n]
    prep = score.TabPrep(cat_cols=seen["cats"]).fit(pd.concat([real, syn], ignore_index=True))
    R, S_all = prep.transform(real), prep.transform(syn)
    labels = np.r_[np.zeros(n), np.ones(n)]
    fold = np.zeros(2 * n, dtype=int)
    p_real, p_syn, aucs = [], [], []
    for j in range(max(1, min(5, len(syn) // n))):
        X = np.vstack([R, S_all[j * n:(j + 1) * n]])
        p = np.zeros(2 * n)
        for f, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=score.SEED).split(X, labels)):
            clf = HistGradientBoostingClassifier(random_state=score.SEED).fit(X[tr], labels[tr])
            p[te] = clf.predict_proba(X[te])[:, 1]
            fold[te] = f
            aucs.append(roc_auc_score(labels[te], p[te]))
        p_real.append(np.round(p[:n], 6).tolist())
        p_syn.append(np.round(p[n:], 6).tolist())
    if not np.isclose(np.mean(aucs), seen["auc"], atol=1e-9):
        raise RuntimeError(f"the rerun C2ST gave AUC {np.mean(aucs):.6f}, the scorer {seen['auc']:.6f}")
    return {"metric": "c2st_score", "fold_real": fold[:n].tolist(), "fold_synthetic": fold[n:].tolist(),
            "p_real": p_real, "p_synthetic": p_syn}


def _probe_correct(score, meta, test, estimator) -> list[int]:
    """The scorer's linear probe (same pipeline, same folds), answer by answer instead of averaged."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    label = meta["target"]
    y = score._norm_labels(test[label].to_numpy())
    Z = estimator.transform(test.drop(columns=[label]))
    Z = Z.to_numpy(dtype=float) if isinstance(Z, pd.DataFrame) else np.asarray(Z, dtype=float)
    probe = Pipeline([("sc", StandardScaler()), ("lr", LogisticRegression(max_iter=3000))])
    folds = StratifiedKFold(5, shuffle=True, random_state=score.SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answers = cross_val_predict(probe, Z.reshape(len(Z), -1), y, cv=folds)
    return (answers == y).astype(int).tolist()


def value(rows: dict, pick: np.ndarray) -> float:
    """The case's metric over the rows `pick` (indices, repeats allowed)."""
    metric = rows["metric"]
    if metric in ("accuracy", "balanced_accuracy"):
        y, predicted = np.asarray(rows["y"])[pick], np.asarray(rows["predicted"])[pick]
        if metric == "accuracy":
            return float(np.mean(y == predicted))
        return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))
    if metric == "rmse":
        return float(np.sqrt(np.mean(np.asarray(rows["squared_error"])[pick])))
    if metric == "roc_auc":
        from sklearn.metrics import roc_auc_score

        y = np.asarray(rows["y"])[pick]
        return float(roc_auc_score(y, np.asarray(rows["anomaly"])[pick])) if 0 < y.sum() < len(y) else float("nan")
    if metric == "psnr":
        return float(10 * np.log10(1.0 / max(float(np.mean(np.asarray(rows["row_mse"])[pick])), 1e-12)))
    if metric == "probe_accuracy":
        return float(np.mean(np.asarray(rows["correct"])[pick]))
    if metric == "c2st_score":
        return _c2st_value(rows, pick)
    raise ValueError(f"no per-row form for the metric {metric!r}")


def _c2st_value(rows: dict, pick: np.ndarray) -> float:
    """1 - 2|AUC - 0.5| with the AUC of each chunk and fold over the drawn rows, averaged."""
    from scipy.stats import rankdata

    fold_real, fold_syn = np.asarray(rows["fold_real"])[pick], np.asarray(rows["fold_synthetic"])[pick]
    aucs = []
    for p_real, p_syn in zip(rows["p_real"], rows["p_synthetic"]):
        real, syn = np.asarray(p_real)[pick], np.asarray(p_syn)[pick]
        for f in np.unique(fold_real):
            a, b = real[fold_real == f], syn[fold_syn == f]
            if len(a) and len(b):
                ranks = rankdata(np.r_[a, b])  # Mann-Whitney: the AUC from the generated rows' ranks
                aucs.append((ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2) / (len(a) * len(b)))
    return float(np.clip(1 - 2 * abs(np.mean(aucs) - 0.5), 0.0, 1.0)) if aucs else float("nan")


def tied_with_best(best_rows: dict, other_rows: dict, behind, seed: int = 0) -> tuple[bool, tuple[float, float]]:
    """Whether the paired bootstrap's interval of (best - other), in points by `behind(best, other)`,
    reaches zero; and that interval."""
    n = len(next(v for k, v in best_rows.items() if k != "metric"))
    draws = np.random.default_rng(seed).integers(0, n, size=(BOOTSTRAP_DRAWS, n))
    gaps = np.array([behind(value(best_rows, d), value(other_rows, d)) for d in draws])
    gaps = gaps[np.isfinite(gaps)]
    tail = (1 - TIE_LEVEL) / 2
    low, high = np.quantile(gaps, [tail, 1 - tail])
    return bool(low <= 0.0), (float(low), float(high))
