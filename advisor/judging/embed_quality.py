"""How useful an embedding is likely to be, judged without labels.

A linear probe (standardise, then logistic regression) is the usual test of an embedding, but it
needs labels. Without them the advisor used to fall back on trustworthiness (Venna & Kaski,
2001), which asks how well the embedding keeps the raw rows' neighbourhoods: raw features and
PCA keep them best by construction, so that criterion picks PCA even where a convolutional
embedding is worth tens of points more to a probe.

`label_free_score` asks instead what contrastive self-supervised learning asks of a
representation: that two views of a row which differ only by a nuisance (a one-pixel shift, a
short delay, a little noise) land closer to each other than to any other row (instance
discrimination; Wu et al., 2018; Chen et al., 2020). That rewards invariance to the nuisance
(alignment) and spread between rows (uniformity) at once (Wang & Isola, 2020); a linear
projection of raw pixels is not invariant to a shift, so nothing here favours PCA by construction.
Distances are taken after scaling each dimension to unit spread, as the probe's StandardScaler
does. An embedding with few effective dimensions
gives a linear probe little room to separate classes (Cover, 1965), and collapse shows up as a
low effective rank of the features (RankMe; Garrido et al., 2023), so the retrieval score is
discounted where that rank is small.

The score uses only the rows, the fitted estimator and the data's modality; it is deterministic
for a seed. It is a mean over rows (each row's reciprocal rank, times the discount), and the
per-row values come with it, so the verdict can bootstrap it over the rows and call two
embeddings tied as it does for every other fidelity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_ROWS = 1000  # the retrieval compares every pair of rows: bounded cost
NOISE = 0.1  # noise sd: share of the pixel range (images), of the signal's sd (sequences), of each column's sd (tables)
RANK_SCALE = 4.0  # effective dimensions at which the rank discount is 1 - 1/e


def label_free_score(estimator, X: pd.DataFrame, Z=None, *, modality: str = "tabular", image_shape=None, seed: int = 0,
                     max_rows: int = MAX_ROWS) -> tuple[float, dict]:
    """Score in [0, 1] (higher is better) that ranks embeddings as a linear probe would, with the
    component metrics behind it.

    `X` are held-out rows as the estimator takes them, `Z` their embedding (computed when not
    given). The score is the view-retrieval score (mean reciprocal rank of each row among all
    rows, found from a perturbed copy of it; averaged over the kinds of perturbation) times the
    rank discount `1 - exp(-effective_rank / 4)`. Where the estimator cannot embed perturbed rows,
    the score is the rank discount alone, an upper bound of what retrieval would have given, and
    `metrics["basis"]` says so. With retrieval, `metrics["row_scores"]` holds each row's share
    (its reciprocal rank averaged over the views, times the discount): the score is their mean.
    """
    X = X.reset_index(drop=True)
    Z = _as_matrix(estimator.transform(X) if Z is None else Z, len(X))
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        keep = np.sort(rng.choice(len(X), max_rows, replace=False))
        X, Z = X.iloc[keep].reset_index(drop=True), Z[keep]
    metrics: dict = {"n_rows": len(X), "embedding_dim": int(Z.shape[1])}
    scale = _Standardiser(Z)
    Zs = scale(Z)
    if Zs.shape[1] == 0 or len(X) < 3:
        metrics.update(effective_rank=0.0, rank_factor=0.0, basis="collapsed" if len(X) >= 3 else "too few rows")
        return 0.0, metrics
    erank = effective_rank(Zs)
    factor = float(1 - np.exp(-erank / RANK_SCALE))
    metrics.update(effective_rank=round(erank, 3), rank_factor=round(factor, 4))

    by_kind: dict[str, list[np.ndarray]] = {}
    failures = []
    for kind, view in perturbed_views(X, modality, image_shape, rng):
        try:
            V = _as_matrix(estimator.transform(view), len(X))
            if V.shape[1] != Z.shape[1] or not np.all(np.isfinite(V)):
                raise ValueError("non-finite or reshaped output")
        except Exception as exc:  # noqa: BLE001 - any failure only loses this view
            failures.append(f"{kind}: {type(exc).__name__}")
            continue
        by_kind.setdefault(kind, []).append(reciprocal_ranks(Zs, scale(V)))
    if failures:
        metrics["views_failed"] = "; ".join(sorted(set(failures)))
    if not by_kind:
        metrics["basis"] = "effective rank only (no perturbed view could be embedded)"
        return factor, metrics
    per_kind = {kind: np.mean(values, axis=0) for kind, values in by_kind.items()}  # per row
    for kind, rows in per_kind.items():
        metrics[f"retrieval_{kind}"] = round(float(rows.mean()), 4)
    row_retrieval = np.mean(list(per_kind.values()), axis=0)
    retrieval = float(row_retrieval.mean())
    metrics.update(retrieval=round(retrieval, 4), basis="view retrieval x rank discount", row_scores=row_retrieval * factor)
    return float(np.clip(retrieval * factor, 0.0, 1.0)), metrics


# -- perturbations that keep a row's meaning --------------------------------------------------
def perturbed_views(X: pd.DataFrame, modality: str, image_shape=None, rng=None):
    """Yield (kind, perturbed copy of X): small shifts for images and sequences, and a little
    Gaussian noise on numeric values for every modality.

    Content moved by a few positions is the same content (the premise of convolutions; LeCun et
    al., 1998). Images move one pixel up, down, left and right, and where an eighth of their side
    is more, that far too (the pad-and-crop augmentation of He et al., 2016); sequences move by 1
    to a sixteenth of their length (at most four sizes), both ways.
    Tables have no such symmetry: only their numeric columns get noise."""
    rng = np.random.default_rng(0) if rng is None else rng
    shape = _grid(X, modality, image_shape)
    if shape is not None:
        values = X.to_numpy(dtype=float)
        low, high = np.nanmin(values), np.nanmax(values)
        if len(shape) == 1:
            largest = max(1, shape[0] // 16)
            sizes = np.unique(np.linspace(1, largest, min(largest, 4)).round().astype(int))
            steps = [(0, sign * int(s)) for s in sizes for sign in (1, -1)]
            sd = np.nanstd(values) or 1.0
            noisy = values + rng.normal(0.0, NOISE * sd, values.shape)
        else:
            sizes = sorted({1, max(1, min(shape[:2]) // 8)})
            steps = [(dy * s, dx * s) for s in sizes for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))]
            noisy = np.clip(values + rng.normal(0.0, NOISE * (high - low or 1.0), values.shape), low, high)
        for dy, dx in steps:
            yield "shift", pd.DataFrame(_shift(values, shape, dy, dx), columns=X.columns)
        yield "noise", pd.DataFrame(noisy, columns=X.columns)
        return
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    if not numeric:
        return
    view = X.copy()
    for col in numeric:
        v = X[col].to_numpy(dtype=float)
        sd = float(np.nanstd(v)) if np.isfinite(v).any() else 0.0
        if sd > 0:  # a column that never varies has no scale to perturb on
            view[col] = v + rng.normal(0.0, NOISE * sd, len(v))
    yield "noise", view


def _grid(X: pd.DataFrame, modality: str, image_shape):
    """The spatial layout to shift over: (H, W[, C]) for images, (L,) for sequences, else None."""
    if not all(pd.api.types.is_numeric_dtype(X[c]) for c in X.columns):
        return None
    if modality == "image" and image_shape is not None and int(np.prod(image_shape)) == X.shape[1] and min(image_shape[:2]) >= 3:
        return tuple(int(s) for s in image_shape)
    if modality == "sequence" and X.shape[1] >= 4:
        return (X.shape[1],)
    return None


def _shift(values: np.ndarray, shape: tuple, dy: int, dx: int) -> np.ndarray:
    """Move every row by (dy, dx) positions, repeating the edge into the gap."""
    n = len(values)
    if len(shape) == 1:
        idx = np.clip(np.arange(shape[0]) - dx, 0, shape[0] - 1)
        return values[:, idx]
    grid = values.reshape((n,) + tuple(shape))
    rows = np.clip(np.arange(shape[0]) - dy, 0, shape[0] - 1)
    cols = np.clip(np.arange(shape[1]) - dx, 0, shape[1] - 1)
    return grid[:, rows][:, :, cols].reshape(n, -1)


# -- the measures -----------------------------------------------------------------------------
def reciprocal_ranks(Zs: np.ndarray, Vs: np.ndarray) -> np.ndarray:
    """Per row i, 1 / (1 + the number of rows' embeddings closer to its perturbed view `Vs[i]`
    than its own `Zs[i]`): 1 where the view finds its own row first; their mean is about log(n)/n
    by chance. Ties count half, so a constant embedding scores like chance, not perfectly."""
    d = _sq_distances(Vs, Zs)
    own = np.diag(d)[:, None]
    closer = (d < own).sum(1) + 0.5 * ((d == own).sum(1) - 1)
    return 1.0 / (1.0 + closer)


def effective_rank(Zs: np.ndarray) -> float:
    """RankMe (Garrido et al., 2023; Roy & Vetterli, 2007): exp of the entropy of the normalised
    singular values of the centred features; 1 for a line, d for d equally used dimensions."""
    C = Zs - Zs.mean(0)
    gram = C.T @ C if C.shape[1] <= C.shape[0] else C @ C.T  # the smaller side: same singular values
    s = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0.0, None))
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


class _Standardiser:
    """Scale each embedding dimension by its spread on the clean rows, as the probe's
    StandardScaler does; dimensions that do not vary there carry nothing and are dropped."""

    def __init__(self, Z: np.ndarray):
        self.mean = Z.mean(0)
        sd = Z.std(0)
        self.keep = sd > 1e-9 * max(float(np.abs(Z).max(initial=0.0)), 1e-12)
        self.sd = np.where(self.keep, sd, 1.0)

    def __call__(self, A: np.ndarray) -> np.ndarray:
        return ((A - self.mean) / self.sd)[:, self.keep]


def _sq_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


def _as_matrix(Z, n: int) -> np.ndarray:
    arr = np.asarray(Z.to_numpy() if isinstance(Z, pd.DataFrame) else Z, dtype=float)
    return arr.reshape(n, -1)
