"""Meta-features of a dataset profile, and the distance between two of them.

The prior compares a new dataset with the benchmark cases it has measurements for. A handful
of numbers from the profile describe what makes families win or lose: how many rows (deep
families need them), how wide, which modality (convolutions need spatial structure), how much
is categorical or missing, how balanced the classes are, and how much of the width is
redundant (intrinsic dimension over width). The scales put one "unit" of distance on a change
that matters about as much as a change of modality.
"""

from __future__ import annotations

import math

from advisor.data.profiling import Profile

SCALES = {
    "log_rows": 1.0,  # a factor of 10 in rows
    "log_features": 1.0,  # a factor of 10 in columns
    "image": 0.5,
    "sequence": 0.5,
    "categorical_share": 0.5,
    "missing_share": 0.1,
    "class_balance": 0.5,
    "log_classes": 1.0,
    "intrinsic_ratio": 0.5,
}


def meta_features(profile: Profile) -> dict[str, float]:
    n_features = max(profile.n_features, 1)
    return {
        "log_rows": math.log10(max(profile.n_rows, 1)),
        "log_features": math.log10(n_features),
        "image": float(profile.modality == "image"),
        "sequence": float(profile.modality == "sequence"),
        "categorical_share": float(profile.categorical_share),
        "missing_share": float(profile.missing_share),
        "class_balance": float(profile.class_balance if profile.class_balance is not None else 1.0),
        "log_classes": math.log2((profile.n_classes or 1) + 1) / 4,
        "intrinsic_ratio": float(min(profile.intrinsic_dim or n_features, n_features) / n_features),
    }


def distance(a: dict[str, float], b: dict[str, float]) -> float:
    """Scaled Euclidean distance over the features both dicts have."""
    return math.sqrt(sum(((a[k] - b[k]) / s) ** 2 for k, s in SCALES.items() if k in a and k in b))
