"""From measurements to a recommendation: criteria, weights, the Pareto front and the rationale.

The four criteria, each in [0, 1], for every family whose best model was scored on test rows:

- fidelity and uncertainty: measured by `advisor.criteria` (uncertainty falls back to the
  family's declared kind where the task has nothing to measure);
- compute: cost = fit seconds extrapolated to all rows + predict seconds for all rows.
  Score = 1 / (1 + log10(cost / cheapest)), where costs below one second count as one second
  (nobody chooses a model to save half a second): equal cost scores 1, 10x scores 0.5,
  100x scores 0.33;
- interpretability: declared by the family, +0.1 (capped at 1) when the fitted model exposes
  `feature_importances_` or `coef_`.

The score is the weighted sum; the Pareto front is taken over the four criteria.
"""

from __future__ import annotations

import math

from advisor.families.contract import DECLARED_UNCERTAINTY
from advisor.judging.curves import converged
from advisor.judging.verdict import compare, from_evaluation
from advisor.judging.weights import CRITERIA, DEFAULT_WEIGHTS, PRESETS, parse_weights, pareto_front  # noqa: F401 - re-exported
from advisor.search import FamilyRun

FIDELITY_NAMES = {
    "classify": "balanced accuracy",
    "regress": "R²",
    "generate": "C2ST detection score",
    "detect": "ROC-AUC",
    "embed": "embedding score",  # the probe with labels, the label-free score without
    "denoise": "share of noise removed",
}
COST_FLOOR_S = 1.0
# With fidelity weighted at least this much (more than the other criteria together), a family
# clearly behind the fidelity leader ranks after every family tied with it, whatever its score.
FIDELITY_FIRST = 0.5


def _predict_per_1k(run: FamilyRun) -> float:
    scored = run.best_eval or run.test
    return scored.predict_seconds_per_1k if scored is not None else 0.0


def total_cost(run: FamilyRun, n_rows: int) -> float | None:
    if run.fit_seconds is None:
        return None
    fit_full = run.fit_seconds * (n_rows / max(run.fit_rows, 1)) ** (run.growth_exponent or 1.0)
    return fit_full + _predict_per_1k(run) * n_rows / 1000


def score_runs(runs: list[FamilyRun], task: str, weights: dict, n_rows: int) -> list[dict]:
    """One ranking entry per family, best first (failed and unsupported ones at the end).

    Fidelity and uncertainty come from each family's selection estimate (advisor.judging.verdict):
    out-of-fold or validation rows, never the test rows, which only report. Families tied with
    the fidelity leader (behind it by less than one standard error of the difference) enter the score with the
    leader's fidelity, so that the other criteria decide among them.
    """
    scored = [r for r in runs if r.status == "ok" and (r.selection is not None or r.best_eval is not None)]
    selections = {r.name: r.selection if r.selection is not None else from_evaluation(task, r.best_eval, None) for r in scored}
    leader, ties = compare(selections)
    tied = {name for name, tie in ties.items() if tie.tied} | ({leader} if leader else set())
    costs = {r.name: total_cost(r, n_rows) for r in scored}
    cheapest = min((max(c, COST_FLOOR_S) for c in costs.values() if c is not None), default=COST_FLOOR_S)
    entries = []
    for r in scored:
        sel = selections[r.name]
        cost = max(costs[r.name] or COST_FLOOR_S, COST_FLOOR_S)
        declared_unc = DECLARED_UNCERTAINTY[r.family.uncertainty.kind]
        interp = r.family.interpretability.score
        if _exposes_attributions(r.best_estimator):
            interp = min(1.0, interp + 0.1)
        measured_unc = sel.uncertainty
        criteria = {
            "fidelity": sel.fidelity,
            "uncertainty": measured_unc if measured_unc is not None else declared_unc,
            "compute": 1 / (1 + math.log10(cost / cheapest)),
            "interpretability": interp,
        }
        criteria = {k: round(float(v), 4) for k, v in criteria.items()}
        metrics = dict(sel.metrics)
        metrics.update(
            fit_seconds=round(r.fit_seconds or 0.0, 4),
            fit_rows=r.fit_rows,
            est_full_fit_seconds=round((costs[r.name] or 0.0) - _predict_per_1k(r) * n_rows / 1000, 4),
            predict_seconds_per_1k=round(_predict_per_1k(r), 5),
            peak_memory_mb=None if r.peak_memory_mb is None else round(r.peak_memory_mb, 1),
            growth=r.growth_note or None,
            validation_fidelity=round(r.best_value, 4),
            uncertainty_source="measured" if measured_unc is not None else "declared",
        )
        entry = _entry(r, criteria, metrics, weights)
        ranked = round(float(selections[leader].fidelity), 4) if r.name in tied else criteria["fidelity"]
        entry["score"] = round(sum(weights[c] * (ranked if c == "fidelity" else criteria[c]) for c in CRITERIA), 4)
        ci = sel.ci
        entry["fidelity_ci"] = None if ci is None else [round(ci[0], 4), round(ci[1], 4)]
        entry["ranked_fidelity"] = ranked
        entry["selection"] = sel.source
        if r.name == leader:
            entry["tied_with"] = sorted(tied - {leader})
        else:
            entry["tied_with"] = [leader] if r.name in tied else []
            tie = ties[r.name]
            entry["difference_to_leader"] = {"value": round(tie.difference, 4), "interval": [round(tie.interval[0], 4), round(tie.interval[1], 4)]}
        entries.append(entry)
    fidelity_first = weights.get("fidelity", 0.0) >= FIDELITY_FIRST
    for e in entries:
        e["rank_group"] = "tied with the leader" if e["family"] in tied else "behind the leader"
    entries.sort(key=lambda e: (fidelity_first and e["family"] not in tied, -e["score"], -e["criteria"]["fidelity"], e["family"]))
    others = [r for r in runs if r.name not in {e["family"] for e in entries}]
    order = {"failed": 0, "skipped": 1, "unsupported": 2}
    for r in sorted(others, key=lambda r: (order.get(r.status, 3), r.name)):
        entries.append(_entry(r, None, {}, weights))
    return entries


def _entry(r: FamilyRun, criteria, metrics, weights) -> dict:
    score = None if criteria is None else round(sum(weights[c] * criteria[c] for c in CRITERIA), 4)
    return {
        "family": r.name,
        "title": r.family.title,
        "plugin": r.plugin,
        "score": score,
        "criteria": criteria,
        "metrics": metrics,
        "params": r.best_params or {},
        "trials": {
            "total": len(r.trials),
            "complete": sum(t.state == "complete" for t in r.trials),
            "pruned": sum(t.state == "pruned" for t in r.trials),
            "failed": sum(t.state == "failed" for t in r.trials),
            "promoted": r.promotions,  # promotions kept: the best configuration trained again with more epochs
            # [trial number, validation fidelity or None, state, seconds] for the search history
            "history": [[t.number, None if t.value is None else round(t.value, 5), t.state, round(t.seconds, 3)] for t in r.trials],
        },
        "status": r.status,
        "reason": r.reason or None,
        "fidelity_ci": None,
        "tied_with": [],
        "converged": converged(r.best_curve),
        "curve": None if r.best_curve is None else {k: v for k, v in r.best_curve.items() if k != "history"},
        "forecast": None if r.forecast is None else r.forecast.to_dict(),
    }


def _exposes_attributions(est) -> bool:
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    return hasattr(final, "feature_importances_") or hasattr(final, "coef_")


def rationale(entries: list[dict], task: str, profile, weights: dict, pareto: list[str]) -> list[str]:
    """Short sentences citing the measured numbers and the profile."""
    scored = [e for e in entries if e["criteria"]]
    if not scored:
        return ["No family produced a usable model."]
    best = scored[0]
    fid = FIDELITY_NAMES[task]
    lines = []
    shape = f"{profile.n_rows:,} rows, {profile.n_features} features ({profile.modality}"
    if profile.modality == "image" and profile.image_shape:
        shape += " " + "x".join(map(str, profile.image_shape))
    cat = profile.kinds.get("categorical", 0)
    shape += f"{', %d categorical' % cat if cat else ''}{', %.0f%% missing' % (100 * profile.missing_share) if profile.missing_share else ''})"
    lines.append(f"Data: {shape}.")
    b = best["criteria"]
    lines.append(
        f"{best['family']} ranks first with score {best['score']:.3f}: {fid} {_metric_text(best, task)} "
        f"({_measured_on(best)})."
    )
    tie_line = _tie_sentence(best, scored, fid, weights)
    if tie_line:
        lines.append(tie_line)
    if task == "regress" and max(e["criteria"]["fidelity"] for e in scored) <= 0:
        lines.append("No family predicted better than the target's mean (R² at most 0 for every one): "
                     "the features may not carry the target, or a transform of it (log) may be needed.")
    if len(scored) > 1:
        second = scored[1]
        s = second["criteria"]
        lines.append(
            f"Runner-up {second['family']} ({second['score']:.3f}): {fid} {_metric_text(second, task)}; "
            f"fidelity {b['fidelity']:.3f} vs {s['fidelity']:.3f}."
        )
        cb, cs = best["metrics"].get("est_full_fit_seconds"), second["metrics"].get("est_full_fit_seconds")
        if cb and cs and cb > 0 and cs > 0:
            ratio = cb / cs
            if ratio >= 1.5:
                lines.append(f"{best['family']} costs {ratio:.1f}x the fit time of {second['family']} ({cb:.2f}s vs {cs:.2f}s on all rows).")
            elif ratio <= 1 / 1.5:
                lines.append(f"{best['family']} is also {1 / ratio:.1f}x cheaper to fit than {second['family']} ({cb:.2f}s vs {cs:.2f}s).")
    overtaken = [e for e in scored[1:] if e["score"] > best["score"] and e.get("rank_group") == "behind the leader"]
    if overtaken:
        e = max(overtaken, key=lambda e: e["score"])
        diff = e.get("difference_to_leader") or {}
        lo, hi = diff.get("interval") or [float("nan"), float("nan")]
        lines.append(
            f"{e['family']} scores higher on the weighted sum ({e['score']:.3f} against {best['score']:.3f}) but its {fid} is clearly "
            f"below the leader's (difference {diff.get('value', 0):+.3f}, 90% interval {lo:+.3f} to {hi:+.3f}); with fidelity "
            f"weighted {weights['fidelity']:g}, more than the other criteria together, a clear fidelity lead decides."
        )
    most_fid = max(scored, key=lambda e: e["criteria"]["fidelity"])
    if most_fid is not best and most_fid["family"] not in best.get("tied_with", []) and not overtaken:
        lines.append(
            f"{most_fid['family']} has the highest fidelity ({most_fid['criteria']['fidelity']:.3f}) but loses on the other criteria "
            f"at these weights ({', '.join(f'{k}={v:g}' for k, v in weights.items())})."
        )
    if "memorization_penalty" in best["metrics"] and best["metrics"]["memorization_penalty"] > 0:
        lines.append(
            f"{best['family']} generates rows close to training rows (memorisation {best['metrics']['memorization_share']:.2f} "
            f"vs {best['metrics']['memorization_share_heldout']:.2f} for held-out real rows); its fidelity is cut accordingly."
        )
    caveat = _judged_without_labels(task, best["metrics"])
    if caveat:
        lines.append(caveat)
    lines.extend(_forecast_sentences(best, scored, fid))
    if len(pareto) > 1:
        lines.append(f"Pareto front over the four criteria: {', '.join(pareto)}.")
    failed = [e for e in entries if e["status"] == "failed"]
    if failed:
        lines.append("Failed: " + "; ".join(f"{e['family']} ({e['reason']})" for e in failed) + ".")
    return lines


def _judged_without_labels(task: str, metrics: dict) -> str | None:
    """Where detect or embed ran without labels, what the families were judged on instead, how far
    that can be from the real thing, and how to judge them on labels."""
    if task == "detect" and metrics.get("anomalies") == "injected":
        return ("Without anomaly labels the detectors were judged on synthetic anomalies (one column moved 3-5 sd, or columns "
                "taken from different rows); real anomalies of another kind can rank them differently, so label some rows "
                "(a 0/1 column) and pass it as --target to judge on them.")
    if task == "embed" and "label_free_score" in metrics:
        return ("Without labels the embeddings were judged by how well a shifted or noisy copy of each row finds its own row "
                "in them, a score that ranks embeddings roughly as a linear probe does but can miss by several points; with a "
                "label column, pass it as --target to judge them by a probe.")
    return None


def _forecast_sentences(best: dict, scored: list[dict], fid: str) -> list[str]:
    """Families cut off by their deadline whose forecast at a larger budget clears the winner
    (the interval's lower end above the winner's fidelity), and those cut off while still
    speeding up, which no forecast can place; the recommendation stays the best model at this
    budget."""
    lines = []
    target = best["criteria"]["fidelity"]
    for e in scored:
        fc = e.get("forecast") or {}
        if e.get("converged") is False and fc.get("speeding_up"):
            lines.append(_speeding_up_sentence(e, fid, picked=e is best))
            continue
        if e is best or e.get("converged") is not False or "interval" not in fc:
            continue
        lo, hi = fc["interval"]
        if fc["fidelity"] <= target:
            continue
        ran_text = _time_ran_out(e)
        alone = f"run alone with {fc['budget_s']:.0f} s (--families {e['family']} --budget {fc['budget_s']:.0f})"
        if lo > target:
            lines.append(
                f"{e['family']} was still improving when {ran_text}; {alone} it is expected to reach "
                f"{fid} {fc['fidelity']:.2f} ({lo:.2f}-{hi:.2f}), above {best['family']}'s {target:.2f}."
            )
        else:  # the forecast leans towards overtaking but its interval does not rule out staying behind
            lines.append(
                f"{e['family']} was still improving when {ran_text}; {alone} it may overtake "
                f"{best['family']}: expected {fid} {fc['fidelity']:.2f} ({lo:.2f}-{hi:.2f}) against {target:.2f}, an interval "
                f"that does not rule out staying behind."
            )
    fc = best.get("forecast") or {}
    if best.get("converged") is False and "interval" in fc and fc["fidelity"] > target:
        lines.append(f"{best['family']} was still improving when its time ran out: run alone with {fc['budget_s']:.0f} s it is expected to "
                     f"reach {fid} {fc['fidelity']:.2f} ({fc['interval'][0]:.2f}-{fc['interval'][1]:.2f}).")
    return lines


def _time_ran_out(entry: dict) -> str:
    ran = ((entry.get("curve") or {}).get("seconds") or [None])[-1]
    if not ran:
        return "its time ran out"
    return f"its {ran:.1f} s ran out" if ran < 1 else f"its {ran:.0f} s ran out"


def _speeding_up_sentence(entry: dict, fid: str, picked: bool = False) -> str:
    """A family cut off while its curve still gained more with each doubling of training: no
    curve fitted to such a start says where it ends, so the advice is to run it longer, not a
    number (the pick with a larger budget as it is; another family alone)."""
    curve, fc = entry.get("curve") or {}, entry["forecast"]
    points = curve.get("checkpoints") or []
    text = f"{entry['family']} was still speeding up when {_time_ran_out(entry)}"
    if len(points) >= 2:
        text += f" ({fid} {points[-2][1]:.2f} at {points[-2][0]:.0f} s of training, {points[-1][1]:.2f} at {points[-1][0]:.0f} s)"
    command = f"--budget {fc['budget_s']:.0f}" if picked else f"--families {entry['family']} --budget {fc['budget_s']:.0f}"
    return (text + f"; a curve still in its warm-up says nothing yet of where it ends: run it {'again' if picked else 'alone'} "
            f"with a larger budget to see ({command}).")


def _measured_on(entry: dict) -> str:
    source = entry.get("selection") or "held-out rows"
    ci = entry.get("fidelity_ci")
    text = f"out of fold, {source}" if "cross-validation" in source else f"on the {source}"
    return text + (f"; 90% interval {ci[0]:.3f}-{ci[1]:.3f}" if ci else "")


def _plus_minus(entry: dict) -> str:
    ci = entry.get("fidelity_ci")
    value = entry["criteria"]["fidelity"]
    return f"{value:.3f} ± {(ci[1] - ci[0]) / 2:.3f}" if ci else f"{value:.3f}"


def _tie_sentence(best: dict, scored: list[dict], fid: str, weights: dict) -> str | None:
    """Say in words and numbers which families are within noise of the fidelity leader, and what
    decided among them."""
    leader = max(scored, key=lambda e: (e["criteria"]["fidelity"], e["family"]))
    tied = [e for e in scored if e is not leader and leader["family"] in e.get("tied_with", [])]
    if not tied:
        return None
    if best is leader:
        others = ", ".join(f"{e['family']} ({_plus_minus(e)})" for e in tied[:3])
        return (f"{leader['family']} leads on {fid} ({_plus_minus(leader)}); {others} "
                f"{'is' if len(tied) == 1 else 'are'} tied with it (behind by less than one standard error of the difference), "
                f"and {leader['family']} also leads on the other criteria at these weights.")
    diff = best.get("difference_to_leader") or {}
    reason = _decided_by(best, leader, weights)
    lo, hi = (diff.get("interval") or [float("nan"), float("nan")])
    return (f"{best['family']} and {leader['family']} are tied on {fid}, {_plus_minus(best)} against {_plus_minus(leader)} "
            f"(difference {diff.get('value', 0):+.3f}, 90% interval {lo:+.3f} to {hi:+.3f}); among tied families the other "
            f"criteria decide: {reason}.")


def _decided_by(best: dict, leader: dict, weights: dict) -> str:
    cb, cl = best["metrics"].get("est_full_fit_seconds"), leader["metrics"].get("est_full_fit_seconds")
    gains = {c: weights[c] * (best["criteria"][c] - leader["criteria"][c]) for c in ("uncertainty", "compute", "interpretability")}
    top = max(gains, key=gains.get)
    if top == "compute" and cb and cl and cb > 0:
        return f"{best['family']} is {cl / cb:.0f}x cheaper to fit ({cb:.2f}s against {cl:.2f}s on all rows)"
    return f"{best['family']} scores higher on {top} ({best['criteria'][top]:.2f} against {leader['criteria'][top]:.2f})"


def _metric_text(entry: dict, task: str) -> str:
    m = entry["metrics"]
    if task == "classify":
        extra = f", ECE {m['ece']:.3f}" if "ece" in m else ""
        return f"{m.get('balanced_accuracy', 0):.3f}{extra}"
    if task == "regress":
        extra = f", 90% interval coverage {m['coverage90']:.2f}" if "coverage90" in m else ""
        return f"{m.get('r2', 0):.3f} (RMSE {m.get('rmse', 0):.4g}){extra}"
    if task == "generate":
        penalty = m.get("memorization_penalty") or 0.0
        score = f"{m.get('c2st_score', 0):.3f}"
        if penalty > 0:  # the fidelity is the C2ST cut for memorisation: say both, as the ranking used the first
            score = f"{entry['criteria']['fidelity']:.3f} ({score} cut by {penalty:.0%} for memorisation)"
        return f"{score}, coverage {m.get('coverage', 0):.2f}"
    if task == "detect":
        return f"{m.get('roc_auc', 0):.3f} ({m.get('anomalies')} anomalies)"
    if task == "embed":
        if "probe_accuracy" in m:
            return f"{m['probe_accuracy']:.3f} (linear-probe accuracy; raw features {m.get('raw_probe_accuracy', float('nan')):.3f})"
        return f"{m.get('label_free_score', 0):.3f} (label-free: view retrieval {m.get('retrieval', float('nan')):.3f}, effective rank {m.get('effective_rank', float('nan')):.1f})"
    return (f"{entry['criteria']['fidelity']:.3f} ({m.get('psnr_gain', 0):.2f} dB PSNR gain, "
            f"{m.get('psnr_noisy', 0):.2f} -> {m.get('psnr', 0):.2f} dB)")
