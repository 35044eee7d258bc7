"""Small samples of what the winner does, kept in the result document for the report:
real against generated rows (or images) for generate, noisy / denoised / clean for denoise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.criteria import add_noise

PREVIEW_ROWS = 300
PREVIEW_IMAGES = 8


def make_previews(task: str, estimator, X_test: pd.DataFrame, image_shape, noise_std: float, seed: int) -> dict:
    """JSON-ready previews; empty when the task has nothing to show. Never raises."""
    try:
        if task == "generate":
            return _generate(estimator, X_test, image_shape, seed)
        if task == "denoise":
            return _denoise(estimator, X_test, image_shape, noise_std, seed)
    except Exception as exc:  # noqa: BLE001 - a preview is a nicety; the result stands without it
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return {}


def _images(frame_or_array, shape, n) -> list:
    arr = np.asarray(frame_or_array, dtype=float).reshape(-1, *shape)[:n]
    return np.round(arr, 3).tolist()


def _generate(est, X_test, image_shape, seed):
    n = min(PREVIEW_ROWS, max(len(X_test), 50))
    samples = est.sample(n, random_state=seed)
    if image_shape is not None:
        return {"kind": "images", "shape": list(image_shape), "real": _images(X_test, image_shape, PREVIEW_IMAGES), "generated": _images(samples, image_shape, PREVIEW_IMAGES)}
    samples = samples if isinstance(samples, pd.DataFrame) else pd.DataFrame(np.asarray(samples), columns=X_test.columns)
    columns = list(X_test.columns[:6])
    real = X_test[columns].head(PREVIEW_ROWS)
    return {
        "kind": "table",
        "columns": columns,
        "real": {c: _values(real[c]) for c in columns},
        "generated": {c: _values(samples[c]) for c in columns},
    }


def _values(s: pd.Series) -> list:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return [None if pd.isna(v) else round(float(v), 6) for v in s]
    return [None if pd.isna(v) else str(v) for v in s]


def _denoise(est, X_test, image_shape, noise_std, seed):
    if image_shape is None:
        return {}
    clean = X_test.head(PREVIEW_IMAGES).astype(float)
    values = X_test.to_numpy(dtype=float)
    noisy = add_noise(clean, noise_std, True, seed=seed, low=float(np.nanmin(values)), high=float(np.nanmax(values)))
    denoised = est.transform(noisy)
    return {
        "kind": "images",
        "shape": list(image_shape),
        "noisy": _images(noisy, image_shape, PREVIEW_IMAGES),
        "denoised": _images(denoised, image_shape, PREVIEW_IMAGES),
        "clean": _images(clean, image_shape, PREVIEW_IMAGES),
    }
