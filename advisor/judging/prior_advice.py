"""Advice before training: the prior ranking (`--budget 0`), and how a measured one compares.

The prior ranking weighs each family's prior criteria (advisor.priors) with the run's weights,
exactly as the measured ranking weighs measured ones, so the two can be compared family by
family. It needs the profile and the plugins only: no model is trained, torch is not loaded.
"""

from __future__ import annotations

import time

from advisor.data.preparation import check_task, prepare
from advisor.data.tables import read_table
from advisor.errors import InputError
from advisor.families.discovery import discover
from advisor.families.selection import parse_shape, select, supports
from advisor.judging.weights import parse_weights, pareto_front
from advisor.priors import prior_entries
from advisor.result import Recommendation, versions

GUIDANCE_ENV = "ADVISOR_PRIOR"  # "off": the search ignores the prior (benchmarks of the guidance)


def guidance_enabled() -> bool:
    from advisor.settings import settings

    return settings().prior_guidance


def prior_recommendation(data, task: str, *, target=None, weights=None, prefer=None, families=None, exclude=None,
                         image_shape=None, sequence: bool = False, seed: int = 0, start_time: float | None = None,
                         extra_plugins: tuple[str, ...] = ()) -> Recommendation:
    """The ranking the priors give, with their reasons; nothing is trained (`best_estimator_` is None)."""
    t0 = start_time if start_time is not None else time.monotonic()
    check_task(task)
    weight_map = parse_weights(weights, task, prefer)
    registry = discover(tuple(extra_plugins))
    names = select(registry, task, families, exclude)
    # The same reading and checks as a search (a missing or constant target is refused alike).
    table = read_table(data, target)
    dataset = prepare(table, task, target if isinstance(target, str) else table.target, image_shape=parse_shape(image_shape), sequence=sequence, seed=seed)
    prof = dataset.profile
    usable, unsupported = [], []
    for name in names:
        answer = supports(registry.get(name), task, prof)
        (usable if answer.ok else unsupported).append((name, answer.reason))
    if not usable:
        why = "; ".join(f"{n}: {r}" for n, r in unsupported[:6])
        raise InputError(f"no family can do {task} on this {prof.modality} data ({why})")
    ranked = prior_entries([registry.get(n) for n, _ in usable], task, prof, weight_map)
    entries = [_entry(e, registry.plugin_of[e["family"]].name) for e in ranked]
    for name, reason in sorted(unsupported):
        fam = registry.get(name)
        entries.append({**_entry({"family": name, "title": fam.title, "score": None, "criteria": None, "reasons": {}}, registry.plugin_of[name].name),
                        "status": "unsupported", "reason": reason})
    return Recommendation(
        task=task,
        target=prof.target,
        best_family=entries[0]["family"],
        best_estimator_=None,
        ranking_entries=entries,
        pareto=pareto_front(entries),
        rationale=_rationale(entries, prof),
        profile=prof,
        budget_s=0.0,
        elapsed_s=time.monotonic() - t0,
        seed=seed,
        weights=weight_map,
        warnings=list(registry.errors) + list(dataset.warnings),
        versions=versions({p.name: p.version for p in registry.plugins}),
        source="prior",
        search={"trials": 0, "note": "advice from the families' priors; nothing was trained"},
    )


def _entry(prior_entry: dict, plugin: str) -> dict:
    """A prior entry in the measured ranking's shape (no metrics, no trials)."""
    reasons = prior_entry.get("reasons") or {}
    return {
        "family": prior_entry["family"],
        "title": prior_entry["title"],
        "plugin": plugin,
        "score": prior_entry["score"],
        "criteria": prior_entry["criteria"],
        "metrics": {},
        "params": {},
        "trials": {"total": 0, "complete": 0, "pruned": 0, "failed": 0, "history": []},
        "status": "ok",
        "reason": reasons.get("fidelity"),
        "reasons": reasons,
    }


def _rationale(entries: list[dict], profile) -> list[str]:
    ok = [e for e in entries if e["criteria"]]
    best = ok[0]
    lines = [
        f"Advice without training (budget 0) for {profile.n_rows:,} rows, {profile.n_features} features ({profile.modality}): "
        "each family's prior combines what it measured on similar benchmark cases with the trade-offs its documentation states.",
        f"{best['family']} is expected first (prior score {best['score']:.3f}): fidelity: {best['reasons']['fidelity']}; compute: {best['reasons']['compute']}.",
    ]
    if len(ok) > 1:
        second = ok[1]
        lines.append(f"Runner-up {second['family']} ({second['score']:.3f}): fidelity: {second['reasons']['fidelity']}.")
    lines.append("Give the search a budget to measure these expectations on your data; it may disagree.")
    return lines


def prior_scores(families: list, task: str, profile, weights: dict) -> list[dict]:
    """The prior ranking of the families a search is about to try (never raises)."""
    try:
        return prior_entries(families, task, profile, weights)
    except Exception:  # noqa: BLE001 - advice is optional; the search goes on without it
        return []


def compare(measured: list[dict], prior: list[dict]) -> tuple[dict, str | None]:
    """The prior's summary for the JSON document and a sentence on where it and the measurement differ."""
    summary = {"ranking": [{"family": e["family"], "score": e["score"]} for e in prior]}
    ok = [e for e in measured if e["criteria"]]
    if not prior or not ok:
        return summary, None
    expected, found = prior[0], ok[0]
    summary["top"] = expected["family"]
    summary["agrees"] = expected["family"] == found["family"]
    if summary["agrees"]:
        return summary, f"The prior expected {expected['family']} first too ({expected['reasons']['fidelity']})."
    measured_expected = next((e for e in ok if e["family"] == expected["family"]), None)
    if measured_expected is None:
        return summary, f"The prior expected {expected['family']} first, but it finished no trial within the budget; {found['family']} won on measurement."
    gap = found["criteria"]["fidelity"] - measured_expected["criteria"]["fidelity"]
    why = f"fidelity {found['criteria']['fidelity']:.3f} vs {measured_expected['criteria']['fidelity']:.3f}" if abs(gap) > 1e-4 else "a better balance of the other criteria at equal fidelity"
    return summary, f"The prior expected {expected['family']} first ({expected['reasons']['fidelity']}); on this data {found['family']} measured better: {why}."
