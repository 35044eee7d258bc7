"""Bootstrap draws of a fidelity, vectorised, so that families can be compared with intervals.

An evaluation keeps the per-row parts its fidelity is computed from (labels and predictions,
targets and means, anomaly labels and scores, squared errors). Each bootstrap draw reweights the
rows with multinomial counts; the fidelity is recomputed from weighted sums, all draws at once.
Families scored on the same rows share the draws, so their differences are paired (the
difference of two noisy estimates on the same rows is far less noisy than either).
"""

from __future__ import annotations

import numpy as np

DRAWS = 400


def row_weights(n: int, draws: int = DRAWS, seed: int = 0) -> np.ndarray:
    """(draws, n) multinomial counts: each row's multiplicity in one bootstrap resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)


def fidelity_draws(task: str, parts: dict, weights: np.ndarray) -> np.ndarray | None:
    """The fidelity recomputed under every row weighting (one value per draw), or None."""
    fn = _DRAWN.get(task)
    if fn is None or not parts:
        return None
    return np.clip(fn(parts, weights), 0.0, 1.0)


def _classify(parts, W):
    """Balanced accuracy: the mean over classes of the weighted recall."""
    y, pred = np.asarray(parts["y"]), np.asarray(parts["pred"])
    classes = np.unique(y)
    onehot = (y[:, None] == classes[None, :]).astype(float)
    correct = (y == pred).astype(float)
    per_class = W @ onehot
    hits = W @ (onehot * correct[:, None])
    present = per_class > 0
    recall = np.divide(hits, per_class, out=np.zeros_like(hits), where=present)
    return recall.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _regress(parts, W):
    """R² (clipped at 0 by the caller) from weighted sums of squares."""
    y, mean = np.asarray(parts["y"], dtype=float), np.asarray(parts["mean"], dtype=float)
    total = W.sum(axis=1)
    sse = W @ (y - mean) ** 2
    ybar = (W @ y) / total
    sst = W @ y**2 - total * ybar**2
    return 1 - sse / np.maximum(sst, 1e-12)


def _detect(parts, W):
    """ROC-AUC of `-scores` (higher score = more normal) against anomaly labels, weighted.

    Tied scores count half: the mean of the AUC with ties counted as wins and as losses.
    """
    labels, scores = np.asarray(parts["labels"], dtype=float), -np.asarray(parts["scores"], dtype=float)
    return 0.5 * (_weighted_auc(scores, labels, W, ties_win=True) + _weighted_auc(scores, labels, W, ties_win=False))


def _weighted_auc(scores, labels, W, ties_win: bool):
    order = np.lexsort((labels if ties_win else -labels, scores))
    lab, Wo = labels[order], W[:, order]
    neg, pos = Wo * (1 - lab), Wo * lab
    below = np.cumsum(neg, axis=1) - neg  # weighted negatives sorted before each row
    wins = (pos * below).sum(axis=1)
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    return np.divide(wins, pairs, out=np.full(len(W), 0.5), where=pairs > 0)


def _denoise(parts, W):
    """Share of the noise power removed: 1 - (weighted mse after) / (weighted mse before)."""
    after, before = W @ np.asarray(parts["mse"], dtype=float), W @ np.asarray(parts["mse_noisy"], dtype=float)
    return 1 - after / np.maximum(before, 1e-12)


def _embed(parts, W):
    """With labels, the linear probe's accuracy (the weighted share of rows it got right);
    without, the label-free score (the weighted mean of the rows' shares of it)."""
    per_row = parts["correct"] if "correct" in parts else parts["row_score"]
    return (W @ np.asarray(per_row, dtype=float)) / W.sum(axis=1)


_DRAWN = {"classify": _classify, "regress": _regress, "detect": _detect, "denoise": _denoise, "embed": _embed}


def interval(values: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap values."""
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def objective_draws(task: str, parts: dict, weights: np.ndarray) -> np.ndarray | None:
    """The search's objective (advisor.criteria.objective) under every row weighting: minus the
    weighted mean log loss where per-row losses were kept, else the fidelity."""
    if "row_loss" in parts:
        return -(weights @ np.asarray(parts["row_loss"], dtype=float)) / weights.sum(axis=1)
    return fidelity_draws(task, parts, weights)
