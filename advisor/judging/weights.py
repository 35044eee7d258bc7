"""Criterion weights (`--weights`, `--prefer`, the task defaults) and the Pareto front.

Kept apart from the ranking so that advice without training can weigh and compare families
without loading the measuring machinery.
"""

from __future__ import annotations

import math

from advisor.errors import InputError

CRITERIA = ("fidelity", "uncertainty", "compute", "interpretability")

DEFAULT_WEIGHTS = {
    "classify": {"fidelity": 0.75, "uncertainty": 0.1, "compute": 0.1, "interpretability": 0.05},
    "regress": {"fidelity": 0.75, "uncertainty": 0.1, "compute": 0.1, "interpretability": 0.05},
    "generate": {"fidelity": 0.7, "uncertainty": 0.15, "compute": 0.1, "interpretability": 0.05},
    "detect": {"fidelity": 0.75, "uncertainty": 0.05, "compute": 0.15, "interpretability": 0.05},
    "embed": {"fidelity": 0.75, "uncertainty": 0.05, "compute": 0.15, "interpretability": 0.05},
    "denoise": {"fidelity": 0.75, "uncertainty": 0.05, "compute": 0.15, "interpretability": 0.05},
}
PRESETS = {
    "quality": {"fidelity": 0.9, "uncertainty": 0.05, "compute": 0.03, "interpretability": 0.02},
    "speed": {"fidelity": 0.45, "uncertainty": 0.05, "compute": 0.45, "interpretability": 0.05},
    "uncertainty": {"fidelity": 0.45, "uncertainty": 0.45, "compute": 0.05, "interpretability": 0.05},
    "interpretability": {"fidelity": 0.45, "uncertainty": 0.05, "compute": 0.05, "interpretability": 0.45},
}

def parse_weights(text: str | dict | None, task: str, prefer: str | None = None) -> dict:
    """Weights from `--weights fidelity=.6,compute=.2` and/or `--prefer`, normalised to sum 1."""
    weights = dict(DEFAULT_WEIGHTS[task])
    if prefer is not None and text:
        raise InputError("give --weights or --prefer, not both (--prefer is a preset of weights)")
    if prefer is not None:
        if prefer not in PRESETS:
            raise InputError(f"unknown --prefer {prefer!r}; choose one of: {', '.join(PRESETS)}")
        weights = dict(PRESETS[prefer])
    if text:
        given = text if isinstance(text, dict) else _parse_pairs(text)
        for key, value in given.items():
            if key not in CRITERIA:
                raise InputError(f"unknown criterion {key!r} in --weights; use {', '.join(CRITERIA)}")
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InputError(f"weight for {key} must be a number >= 0, got {value!r}")
        weights = {c: float(given.get(c, 0.0)) for c in CRITERIA}
    total = sum(weights.values())
    if total <= 0:
        raise InputError("--weights must give at least one criterion a positive weight")
    return {c: round(weights[c] / total, 6) for c in CRITERIA}


def _parse_pairs(text: str) -> dict:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError(f"--weights must look like fidelity=0.6,compute=0.2; cannot read {part.strip()!r}")
        key, _, value = part.partition("=")
        if key.strip() in out:
            raise InputError(f"--weights gives {key.strip()} twice")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"--weights: {value.strip()!r} is not a number (in {part.strip()!r})") from None
    if not out:
        raise InputError("--weights is empty")
    return out


def pareto_front(entries: list[dict]) -> list[str]:
    """Families no other family beats on every criterion (and strictly on one)."""
    scored = [e for e in entries if e["criteria"]]
    front = []
    for e in scored:
        dominated = any(
            all(o["criteria"][c] >= e["criteria"][c] for c in CRITERIA)
            and any(o["criteria"][c] > e["criteria"][c] for c in CRITERIA)
            for o in scored
            if o is not e
        )
        if not dominated:
            front.append(e["family"])
    return front
