"""The cost curve: each family's fit time and peak memory at 1k, 10k and 100k rows (1M where it
applies), and the growth exponent the `compute` criterion's extrapolation assumes.

Run through the suite (`python benchmarks/suite.py run --parts cost`): one job per family and
size, each in a fresh process with one thread. Every family fits its default parameters
(the search's first trial) on synthetic data of its kind: a 16-column table with a label that
depends on a few columns, or 8x8 images for the convolutional family. A fit is stopped at
DEADLINE_S; a stopped fit is recorded as such and left out of the exponent.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd

DEADLINE_S = 60.0
SIZES = (1_000, 10_000, 100_000)
MILLION = ("hist_gradient_boosting", "linear", "pca", "isolation_forest")  # cheap enough for 1M rows
TASK_OF = {
    "hist_gradient_boosting": "classify", "linear": "classify", "bnn": "classify", "resnet": "classify",
    "dbn": "classify", "cnn": "classify", "diffusion": "generate", "ebm": "generate",
    "gaussian_mixture": "generate", "smote": "generate", "isolation_forest": "detect",
    "pca": "embed", "kernel_features": "embed",
}


def jobs() -> list[dict]:
    out = []
    for family, task in TASK_OF.items():
        sizes = SIZES + ((1_000_000,) if family in MILLION else ())
        out += [{"kind": "cost", "family": family, "task": task, "rows": n, "budget": DEADLINE_S} for n in sizes]
    return out


def synthetic(family: str, rows: int, seed: int = 0) -> tuple[pd.DataFrame, str | None]:
    rng = np.random.default_rng(seed)
    if family == "cnn":
        pixels = rng.random((rows, 64)).astype(np.float32)
        frame = pd.DataFrame(pixels, columns=[f"p{i}" for i in range(64)])
        frame["label"] = np.where(pixels[:, :32].mean(axis=1) > 0.5, "top", "bottom")
        return frame, "label"
    X = rng.normal(size=(rows, 16)).astype(np.float32)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(16)])
    frame["label"] = np.where(X[:, 0] * X[:, 1] + X[:, 2] > 0, "a", "b")
    return frame, "label"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(job: dict) -> dict:
    """Fit one family's default estimator on `rows` rows; time it and its memory peak."""
    from advisor.data.preparation import prepare
    from advisor.data.tables import read_table
    from advisor.families.discovery import discover
    from advisor.runtime import budget as budget_ctx
    from advisor.search import configure_estimator, fit_estimator
    from sklearn.base import clone

    family = discover().get(job["family"])
    task = job["task"]
    frame, target = synthetic(job["family"], job["rows"])
    image = (8, 8) if job["family"] == "cnn" else None
    if task not in ("classify", "regress"):
        frame, target = frame.drop(columns=[target]), None
    dataset = prepare(read_table(frame, target), task, target, image_shape=image, sequence=False, seed=0)
    est = family.make_estimator(task, dataset.profile, **family.default_params(task, dataset.profile))
    configure_estimator(est, seed=0, device="cpu")
    # Warm-up on a small slice: lazy imports and first-call set-up are not part of the growth.
    warm = clone(est)
    rows = min(200, len(dataset.X))
    with budget_ctx.fit_scope(time.monotonic() + 10.0):
        fit_estimator(warm, task, dataset.X.iloc[:rows], None if dataset.y is None else dataset.y.iloc[:rows])
    before = rss_mb()
    start = time.monotonic()
    with budget_ctx.fit_scope(start + job["budget"]):
        fit_estimator(est, task, dataset.X, dataset.y)
    seconds = time.monotonic() - start
    return {"fit_s": round(seconds, 3), "stopped": seconds >= 0.95 * job["budget"],
            "peak_mb": round(max(rss_mb() - before, 0.0), 1), "rows": job["rows"]}


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(fit seconds) on log(rows) over the fits that finished."""
    pts = [(n, s) for n, s in points if s > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([n for n, _ in pts]), np.log([s for _, s in pts])
    return float(np.polyfit(x, y, 1)[0])
