"""Advice before training: each family's expected criteria, from evidence and from its trade-offs.

A family's prior has two sources. Its plugin states what the literature says of it (the
trade-offs the family's documentation cites: "high fidelity, computationally intensive") as a
fidelity hint and a sentence per criterion. The benchmark runs say what it measured on similar
data (advisor.priors.measured). Where there are measurements on data like this they count 19
times as much as the hint, less as the nearest measured case gets less similar (a table's
measurements say little about a sequence); where there are none the hint and the declared
traits answer alone. The scores are on the criteria's own 0..1 scales, fidelity relative to
the best family (1 = expected best).
"""

from __future__ import annotations

import math

from advisor.families.contract import DECLARED_UNCERTAINTY
from advisor.priors.features import meta_features
from advisor.priors.measured import evidence

CRITERIA = ("fidelity", "uncertainty", "compute", "interpretability")
MEASURED_WEIGHT = 0.95  # measurements on data like this decide; the documents' hint breaks near-ties
TRUST_DISTANCE = 2.0  # measurements this far away (a change of modality) count e^-1 as much
COST_SCORE = {"low": 1.0, "moderate": 0.6, "high": 0.4}  # before any measurement
COST_FLOOR_S = 1.0


def family_prior(family, task: str, profile, *, fidelity_hint: float = 0.6, notes: dict | None = None, exclude: tuple[str, ...] = ()) -> dict:
    """`{criterion: (score, reason)}` for `family` on `task` and data described by `profile`."""
    notes = notes or {}
    found = evidence(family.name, task, meta_features(profile), exclude)
    out = {}

    def said(criterion: str) -> str:
        return f"; {notes[criterion]}" if notes.get(criterion) else ""

    if found is not None:
        trust = MEASURED_WEIGHT * math.exp(-((found.distance / TRUST_DISTANCE) ** 2))
        fid = trust * found.rel_fidelity + (1 - trust) * fidelity_hint
        where = ", ".join(found.cases)
        out["fidelity"] = (fid, f"reached {found.rel_fidelity:.0%} of the best family's fidelity on the most similar benchmark cases ({where}){said('fidelity')}")
    else:
        out["fidelity"] = (fidelity_hint, f"no measurement on similar data{said('fidelity') or '; a neutral guess'}")

    declared = DECLARED_UNCERTAINTY[family.uncertainty.kind]
    if found is not None and found.uncertainty is not None:
        out["uncertainty"] = (found.uncertainty, f"measured {found.uncertainty:.2f} on similar cases ({family.uncertainty.kind} uncertainty){said('uncertainty')}")
    else:
        out["uncertainty"] = (declared, f"{family.uncertainty.kind} uncertainty: {family.uncertainty.reason}{said('uncertainty')}")

    if found is not None and found.seconds_per_1k_rows is not None:
        seconds = found.seconds_per_1k_rows * max(profile.n_rows, 1) / 1000
        score = 1 / (1 + math.log10(max(seconds, COST_FLOOR_S) / COST_FLOOR_S))
        out["compute"] = (score, f"about {seconds:.2g} s to fit {profile.n_rows:,} rows at the pace measured on similar cases{said('compute')}")
    else:
        out["compute"] = (COST_SCORE.get(family.cost, 0.6), f"declared {family.cost} cost{said('compute')}")

    out["interpretability"] = (family.interpretability.score, family.interpretability.reason + said("interpretability"))
    return {k: (round(float(min(max(v, 0.0), 1.0)), 4), reason) for k, (v, reason) in out.items()}


def prior_of(family, task: str, profile) -> dict:
    """The family's own prior, or the generic one when its plugin declares none (or a broken one)."""
    try:
        answer = family.prior(task, profile)
    except Exception:  # noqa: BLE001 - a plugin's prior must not stop the advice
        answer = None
    if not answer or not all(c in answer for c in CRITERIA):
        answer = family_prior(family, task, profile)
    return answer


def prior_entries(families: list, task: str, profile, weights: dict) -> list[dict]:
    """Ranking entries from the priors alone, best first (the `--budget 0` answer)."""
    entries = []
    for family in families:
        prior = prior_of(family, task, profile)
        criteria = {c: prior[c][0] for c in CRITERIA}
        entries.append({
            "family": family.name,
            "title": family.title,
            "score": round(sum(weights[c] * criteria[c] for c in CRITERIA), 4),
            "criteria": criteria,
            "reasons": {c: prior[c][1] for c in CRITERIA},
        })
    entries.sort(key=lambda e: (-e["score"], e["family"]))
    return entries
