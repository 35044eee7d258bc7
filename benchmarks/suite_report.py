"""Tables, plots and verdicts from the suite's records: benchmarks/RESULTS.md and results.json.

Only reads benchmarks/results/suite/records.jsonl (and machine.json); nothing is measured here,
so the report can be rewritten at any time. Every verdict states its target and whether it was
met; parts with no records yet say so instead of inventing a figure.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

from _common import ROOT, machine

SUITE = ROOT / "benchmarks" / "results" / "suite"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results.json"
MINIMIZE = {"rmse"}
FAVOURITE = {  # the naive "fixed favourite" policy: the family a practitioner reaches for first
    "classify": "hist_gradient_boosting", "regress": "hist_gradient_boosting", "generate": "gaussian_mixture",
    "detect": "isolation_forest", "embed": "pca", "denoise": "pca",
}
GRACE = lambda budget: max(5.0, 0.1 * budget)  # noqa: E731 - the budget rule of DESIGN.md


def load() -> list[dict]:
    path = SUITE / "records.jsonl"
    if not path.exists():
        return []
    latest = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            latest[r["key"]] = r  # a rerun of a job replaces its earlier record
    return list(latest.values())


def task_of(case: str) -> str:
    prefix = case.split("_")[0]
    known = {"clf": "classify", "reg": "regress", "gen": "generate", "det": "detect", "emb": "embed", "dn": "denoise"}
    if prefix in known:
        return known[prefix]
    return {"bundled_iris": "classify", "bundled_cars_origin": "classify", "bundled_cars_mpg": "regress",
            "bundled_penguins": "classify", "bundled_penguins_gen": "generate", "bundled_sensors": "detect"}[case]


def metric_of(case: str) -> str:
    return {"classify": "accuracy", "regress": "rmse", "generate": "c2st_score", "detect": "roc_auc",
            "embed": "probe_accuracy", "denoise": "psnr"}[task_of(case)]


def points(case: str, better: float, worse: float) -> float:
    """How far `worse` is behind `better`, in points: 100x for scores in [0, 1], the percentage of
    the better value for RMSE, dB x 10 for PSNR (so that 0.1 dB counts as one point)."""
    metric = metric_of(case)
    if metric == "rmse":
        return 100 * (worse - better) / better
    if metric == "psnr":
        return 10 * (better - worse)
    return 100 * (better - worse)


def fmt(v, nd=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, (int, float)) else str(v)


def index(records: list[dict]) -> dict:
    """(kind, tool or family, case, budget, guidance) -> record."""
    out = {}
    for r in records:
        j = r["job"]
        who = j.get("tool") or j.get("family") or "advisor"
        out[(j["kind"], who, j.get("case"), j.get("budget"), j.get("guidance")) + ((j["prefer"],) if j.get("prefer") else ())] = r
    return out


# -- prediction ----------------------------------------------------------------------------------
def prediction(idx: dict, records: list[dict]) -> tuple[list[str], dict]:
    cases = sorted({r["job"]["case"] for r in records if r["job"]["kind"] == "peer" and r["job"].get("tool") == "flaml"})
    budgets = sorted({r["job"]["budget"] for r in records if r["job"]["kind"] == "peer" and r["job"].get("tool") == "flaml"})
    lines = ["## Prediction: classify and regress", ""]
    if not cases:
        return lines + ["No prediction runs recorded yet.", ""], {}
    lines += [
        "Primary metric on the case's test rows (accuracy, or RMSE for regression; lower is better there), then log loss",
        "and calibration error (ECE) for classifiers, and wall seconds against the budget. FLAML ran its default learners",
        "but CatBoost (see peers.py), AutoGluon the `medium_quality` preset; both with one CPU, as the advisor uses on data",
        "this small. The default HistGradientBoosting is the scorer's reference model (no budget).",
        "",
        "| case | budget s | advisor (family) | FLAML | AutoGluon | default HGB | log loss adv / FLAML / AG | ECE adv / FLAML / AG | wall s adv / FLAML / AG |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    gaps, over = defaultdict(list), []
    for case in cases:
        hgb = idx.get(("peer", "hgb_default", case, 0, None))
        for b in budgets:
            adv = idx.get(("advisor", "advisor", case, b, "none"))
            fl = idx.get(("peer", "flaml", case, b, None))
            ag = idx.get(("peer", "autogluon", case, b, None))
            if not (adv or fl or ag):
                continue

            def val(r, key="value"):
                if r is None or "error" in r or "skipped" in r:
                    return None
                return r.get(key) if key == "value" else (r.get("metrics") or {}).get(key)

            for r, name in ((adv, "advisor"), (fl, "flaml"), (ag, "autogluon")):
                if r is not None and "wall_s" in r and r["wall_s"] > b + GRACE(b):
                    over.append(f"{name} on {case} at {b:g} s: {r['wall_s']:.1f} s")
            if val(adv) is not None and val(fl) is not None:
                gaps[b].append(points(case, val(fl), val(adv)))
            family = adv.get("family") if adv and "error" not in adv else "-"
            lines.append(
                f"| {case} | {b:g} | {fmt(val(adv))} ({family}) | {fmt(val(fl))} | {fmt(val(ag))} | {fmt(val(hgb))} | "
                f"{fmt(val(adv, 'log_loss'))} / {fmt(val(fl, 'log_loss'))} / {fmt(val(ag, 'log_loss'))} | "
                f"{fmt(val(adv, 'ece'))} / {fmt(val(fl, 'ece'))} / {fmt(val(ag, 'ece'))} | "
                f"{fmt(adv and adv.get('wall_s'), 1)} / {fmt(fl and fl.get('wall_s'), 1)} / {fmt(ag and ag.get('wall_s'), 1)} |"
            )
    summary = {}
    lines.append("")
    for b, g in sorted(gaps.items()):
        mean = statistics.mean(g)
        summary[f"advisor_behind_flaml_points_{b:g}s"] = round(mean, 2)
        verdict = "met" if mean <= 1.0 else "MISSED"
        where = "ahead of" if mean < 0 else "behind"
        lines.append(f"- At {b:g} s the advisor is on average {abs(mean):.2f} points {where} FLAML over {len(g)} cases "
                     f"(the advisor's lead per case: median {-statistics.median(g):+.2f}, from {-max(g):+.2f} to {-min(g):+.2f}; "
                     f"points: 100x accuracy, % of RMSE; target: within 1 point behind) — **{verdict}**.")
    lines.append(f"- Runs beyond the budget rule (budget + max(5 s, 10 %)): {'; '.join(over) if over else 'none'}.")
    summary["over_budget"] = over
    return lines + [""], summary


# -- generation ----------------------------------------------------------------------------------
GEN_COLUMNS = ("c2st_score", "marginal_score", "corr_diff_mean", "mle_gap", "memorization_share", "exact_copy_share")


def generation(idx: dict, records: list[dict]) -> tuple[list[str], dict]:
    runs = [r for r in records if task_of(r["job"].get("case") or "clf_x") == "generate" and r["job"]["kind"] in ("peer", "advisor")
            and r["job"].get("budget") in (60.0,) and r["job"].get("guidance") in (None, "none")]
    lines = ["## Generation", ""]
    if not runs:
        return lines + ["No generation runs recorded yet.", ""], {}
    lines += [
        "Every model had 60 s of training: the advisor's whole call (search over its generative families, scoring and",
        "refit), and for SDV's CTGAN and TVAE as many epochs as fit in 60 s (timed on short fits first; those",
        "calibration fits are not counted). Scored on the test rows with the shared scorer; `mle_gap` is the drop in",
        "accuracy of a model trained on synthetic rather than real rows; memorisation near 0.5 is what fresh real rows give.",
        "",
        "| case | model | " + " | ".join(GEN_COLUMNS) + " | fit s | sample s |",
        "| --- | --- | " + " | ".join("---" for _ in GEN_COLUMNS) + " | --- | --- |",
    ]
    wins, losses, skipped = [], [], set()
    for case in sorted({r["job"]["case"] for r in runs}):
        rows = sorted((r for r in runs if r["job"]["case"] == case), key=lambda r: (r["job"]["kind"] != "advisor", r["job"].get("tool", "")))
        adv = next((r for r in rows if r["job"]["kind"] == "advisor"), None)
        for r in rows:
            name = "advisor (" + str(r.get("family")) + ")" if r["job"]["kind"] == "advisor" else r["job"]["tool"]
            if "skipped" in r:
                skipped.add(f"{r['job']['tool']}: {r['skipped']}")
                continue
            if "error" in r:
                lines.append(f"| {case} | {name} | failed: {r['error'][:80]} |" + " |" * (len(GEN_COLUMNS) + 1))
                continue
            m = r.get("metrics", {})
            lines.append(f"| {case} | {name} | " + " | ".join(fmt(m.get(c)) for c in GEN_COLUMNS) + f" | {fmt(r.get('wall_s'), 1)} | {fmt(m.get('sample_seconds'), 2)} |")
            if adv and r is not adv and r["job"]["tool"].startswith("sdv_") and "value" in r and adv.get("value") is not None:
                (wins if adv["value"] > r["value"] else losses).append(f"{case} vs {r['job']['tool']}")
    if plot_generation(runs, SUITE / "generation_c2st.png"):
        lines += ["", "![C2ST score per case and model](results/suite/generation_c2st.png)"]
    lines.append("")
    verdict = "met" if wins and not losses else "MISSED"
    lines.append(f"- Advisor ahead of every SDV synthesizer on C2ST: {len(wins)} of {len(wins) + len(losses)} comparisons on tabular cases "
                 f"— **{verdict}**" + (f" (behind: {', '.join(losses)})" if losses else "") + ".")
    for s in sorted(skipped):
        lines.append(f"- Not run: {s}.")
    return lines + [""], {"c2st_wins_vs_sdv": len(wins), "c2st_losses_vs_sdv": losses}


# -- detect / embed / denoise --------------------------------------------------------------------
def other_tasks(idx: dict, records: list[dict]) -> list[str]:
    cases = sorted({r["job"]["case"] for r in records if r["job"]["kind"] == "peer" and task_of(r["job"]["case"]) in ("detect", "embed", "denoise")})
    lines = ["## Detection, embedding, denoising", ""]
    if not cases:
        return lines + ["No runs recorded yet.", ""]
    lines += ["Advisor at 30 s against the classic answers (ROC-AUC, probe accuracy, PSNR in dB on the test rows).", "",
              "| case | metric | advisor (family) | peers |", "| --- | --- | --- | --- |"]
    for case in cases:
        adv = idx.get(("advisor", "advisor", case, 30.0, "none"))
        peers = [r for r in records if r["job"]["kind"] == "peer" and r["job"]["case"] == case]
        text = ", ".join(f"{r['job']['tool']} {fmt(r.get('value'))}" if "value" in r else f"{r['job']['tool']} ({r.get('skipped') or r.get('error', '')[:60]})" for r in peers)
        a = f"{fmt(adv.get('value'))} ({adv.get('family')})" if adv and "value" in adv else "-"
        lines.append(f"| {case} | {metric_of(case)} | {a} | {text} |")
    return lines + [""]


# -- advice regret -------------------------------------------------------------------------------
def oracle_table(records: list[dict]) -> dict:
    """case -> {family: scorer value} from the oracle runs; the longest run of a family counts."""
    out, budget_of = defaultdict(dict), {}
    for r in records:
        j = r["job"]
        if j["kind"] == "oracle" and "value" in r and r.get("value") is not None:
            if j["budget"] >= budget_of.get((j["case"], j["family"]), 0):
                budget_of[(j["case"], j["family"])] = j["budget"]
                out[j["case"]][j["family"]] = r["value"]
    return out


def best_of(case: str, values: dict) -> tuple[float, set]:
    goal_min = metric_of(case) in MINIMIZE
    best = min(values.values()) if goal_min else max(values.values())
    return best, {f for f, v in values.items() if abs(v - best) <= 1e-9}


def regret(case: str, values: dict, family: str | None) -> float | None:
    if family not in values:
        return None
    best, _ = best_of(case, values)
    return points(case, best, values[family])


def advice_regret(idx: dict, records: list[dict]) -> tuple[list[str], dict]:
    oracle = oracle_table(records)
    lines = ["## Advice regret against an oracle", ""]
    if not oracle:
        return lines + ["No oracle runs recorded yet.", ""], {}
    budgets = sorted({r["job"]["budget"] for r in records if r["job"]["kind"] == "oracle"})
    long_runs = sum(1 for r in records if r["job"]["kind"] == "oracle" and r["job"]["budget"] == budgets[-1]) if len(budgets) > 1 else 0
    factor = budgets[0] / 30
    lines += [
        f"The oracle trains every applicable family alone with {factor:g}x the advisor's 30 s budget and scores each on",
        "the test rows; its best family is the right answer."
        + (f" The {long_runs} family runs that used more than three quarters of that were run again with"
           f" {budgets[-1] / 30:g}x ({budgets[-1]:g} s), and the longer run counts: a family that stopped on its own"
           " well inside its budget (its trials stalled, or it has nothing to tune) would stop the same way with more."
           if long_runs else ""),
        "The advisor's regret is the oracle's best value minus the",
        "oracle's value for the family the advisor recommended at 30 s (so it measures the choice, not the shorter",
        "training), in points (100x for scores in [0, 1], percent of the best RMSE, 0.1 dB of PSNR). Two naive",
        "policies beside it: a fixed favourite per task (" + ", ".join(f"{t}: {f}" for t, f in FAVOURITE.items()) + ")",
        "and a family drawn at random (its expected regret and hit rate). Ties count as hits.",
        ("Deviation from the issue's protocol: 5x the budget only where the shorter run was cut short — 78 family runs"
         " at 150 s would take over three hours on this 2-core machine." if long_runs else
         f"Deviation from the issue's protocol: {factor:g}x rather than 5x the budget per family (compute)."),
        "",
        "| case | oracle best (family) | advisor 30 s pick | advisor regret | `--prefer quality` pick | its regret | favourite regret | random regret | oracle values |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    adv_regrets, fav_regrets, rnd_regrets, hits, fav_hits, rnd_hits = [], [], [], [], [], []
    q_regrets, q_hits = [], []
    for case, values in sorted(oracle.items()):
        best, winners = best_of(case, values)
        adv = idx.get(("advisor", "advisor", case, 30.0, "none"))
        pick = adv.get("family") if adv and "error" not in adv else None
        r_adv = regret(case, values, pick)
        quality = idx.get(("advisor", "advisor", case, 30.0, "none", "quality"))
        q_pick = quality.get("family") if quality and "error" not in quality else None
        r_q = regret(case, values, q_pick)
        if r_q is not None:
            q_regrets.append(r_q)
            q_hits.append(q_pick in winners)
        fav = FAVOURITE[task_of(case)]
        r_fav = regret(case, values, fav)
        r_rnd = statistics.mean(regret(case, values, f) for f in values)
        if r_adv is not None:
            adv_regrets.append(r_adv)
            hits.append(pick in winners)
        if r_fav is not None:
            fav_regrets.append(r_fav)
            fav_hits.append(fav in winners)
        rnd_regrets.append(r_rnd)
        rnd_hits.append(len(winners) / len(values))
        vals = ", ".join(f"{f} {v:.3f}" for f, v in sorted(values.items(), key=lambda kv: kv[1], reverse=metric_of(case) not in MINIMIZE))
        lines.append(f"| {case} | {best:.3f} ({', '.join(sorted(winners))}) | {pick or '-'} | {fmt(r_adv, 2)} | {q_pick or '-'} | {fmt(r_q, 2)} | {fmt(r_fav, 2)} | {r_rnd:.2f} | {vals} |")
    summary = {
        "advisor_median_regret": round(statistics.median(adv_regrets), 2) if adv_regrets else None,
        "advisor_hit_rate": round(sum(hits) / len(hits), 3) if hits else None,
        "favourite_median_regret": round(statistics.median(fav_regrets), 2) if fav_regrets else None,
        "favourite_hit_rate": round(sum(fav_hits) / len(fav_hits), 3) if fav_hits else None,
        "random_median_regret": round(statistics.median(rnd_regrets), 2) if rnd_regrets else None,
        "random_hit_rate": round(statistics.mean(rnd_hits), 3) if rnd_hits else None,
        "quality_median_regret": round(statistics.median(q_regrets), 2) if q_regrets else None,
        "quality_hit_rate": round(sum(q_hits) / len(q_hits), 3) if q_hits else None,
        "cases": len(oracle),
    }
    lines.append("")
    if adv_regrets:
        ok_regret = summary["advisor_median_regret"] < 2
        ok_hits = summary["advisor_hit_rate"] >= 0.7
        lines += [
            f"- Advisor: median regret {summary['advisor_median_regret']:.2f} points (target < 2: **{'met' if ok_regret else 'MISSED'}**), "
            f"oracle's best picked in {summary['advisor_hit_rate']:.0%} of {len(hits)} cases (target 70 %: **{'met' if ok_hits else 'MISSED'}**); "
            f"mean regret {statistics.mean(adv_regrets):.2f}.",
            (f"- With `--prefer quality` (fidelity weighted 0.9): median regret {summary['quality_median_regret']:.2f}, "
             f"oracle's best picked in {summary['quality_hit_rate']:.0%} of {len(q_hits)} cases." if q_hits else "- `--prefer quality` runs: none recorded."),
            f"- Fixed favourite: median regret {summary['favourite_median_regret']:.2f}, hit rate {summary['favourite_hit_rate']:.0%}. "
            f"Random family: median regret {summary['random_median_regret']:.2f}, hit rate {summary['random_hit_rate']:.0%}.",
            "- The misses are misjudgements at 30 s more than the weights' trade-offs (`--prefer quality` picks no better):",
            "  the advisor's verdict rests on its own held-out split of the training rows (28-480 rows here) and on families",
            "  that had a few seconds each, while the oracle gave every family 60-150 s. The oracle is noisy too: the test sets",
            "  hold 36-600 rows, so one row moves accuracy by 0.2-2.8 points.",
        ]
    return lines + [""], summary


# -- priors --------------------------------------------------------------------------------------
def priors(idx: dict, records: list[dict]) -> tuple[list[str], dict]:
    oracle = oracle_table(records)
    prior_runs = {r["job"]["case"]: r for r in records if r["job"]["kind"] == "prior" and "error" not in r}
    lines = ["## Advice before training: the priors, left one dataset out", ""]
    if not prior_runs:
        return lines + ["No prior runs recorded yet.", ""], {}
    lines += [
        "For each public case the prior is built without that case's own measurements (`ADVISOR_PRIOR_EXCLUDE`), from",
        "the oracle runs of the other cases (`benchmarks/build_priors.py`), and asked through the command line with",
        "`--budget 0`. The measured top is the oracle's best family; regret as above. The guided search runs with the",
        "same leave-one-out prior; it reaches the unguided answer when its recommended family is the one the unguided",
        "search recommended at 30 s.",
        "",
        "| case | `--budget 0` s | prior's top | oracle best | prior regret | unguided 30 s | guided 30 s | guided 15 s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    top_hits, prior_regrets, walls, same_half, same_full = [], [], [], [], []
    guided_regrets, unguided_regrets = [], []
    for case, p in sorted(prior_runs.items()):
        values = oracle.get(case, {})
        walls.append(p["wall_s"])
        unguided = idx.get(("advisor", "advisor", case, 30.0, "none"))
        g30 = idx.get(("advisor", "advisor", case, 30.0, "prior"))
        g15 = idx.get(("advisor", "advisor", case, 15.0, "prior"))
        fam = lambda r: r.get("family") if r and "error" not in r else None  # noqa: E731
        best_text = "-"
        r_prior = None
        if values:
            best, winners = best_of(case, values)
            best_text = ", ".join(sorted(winners))
            top_hits.append(p["family"] in winners)
            r_prior = regret(case, values, p["family"])
            if r_prior is not None:
                prior_regrets.append(r_prior)
        if values and fam(g30) in values and fam(unguided) in values:
            guided_regrets.append(regret(case, values, fam(g30)))
            unguided_regrets.append(regret(case, values, fam(unguided)))
        if fam(unguided) and fam(g15):
            same_half.append(fam(g15) == fam(unguided))
        if fam(unguided) and fam(g30):
            same_full.append(fam(g30) == fam(unguided))
        lines.append(f"| {case} | {p['wall_s']:.2f} | {p['family']} | {best_text} | {fmt(r_prior, 2)} | {fam(unguided) or '-'} | {fam(g30) or '-'} | {fam(g15) or '-'} |")
    summary = {
        "budget0_max_s": round(max(walls), 2),
        "prior_top_hit_rate": round(sum(top_hits) / len(top_hits), 3) if top_hits else None,
        "prior_median_regret": round(statistics.median(prior_regrets), 2) if prior_regrets else None,
        "guided_half_budget_same_answer": round(sum(same_half) / len(same_half), 3) if same_half else None,
        "guided_full_budget_same_answer": round(sum(same_full) / len(same_full), 3) if same_full else None,
    }
    lines.append("")
    lines.append(f"- `--budget 0` answered in at most {summary['budget0_max_s']:.2f} s on every case (target 2 s: "
                 f"**{'met' if summary['budget0_max_s'] < 2 else 'MISSED'}**).")
    if top_hits:
        lines.append(f"- The prior's top family was the oracle's best in {summary['prior_top_hit_rate']:.0%} of {len(top_hits)} cases; "
                     f"following the prior alone has a median regret of {summary['prior_median_regret']:.2f} points "
                     f"(mean {statistics.mean(prior_regrets):.2f}).")
    if same_half:
        ok = summary["guided_half_budget_same_answer"] >= 2 / 3
        lines.append(f"- With half the budget (15 s) the guided search reached the unguided 30 s answer in {sum(same_half)} of {len(same_half)} "
                     f"cases ({summary['guided_half_budget_same_answer']:.0%}; target two thirds: **{'met' if ok else 'MISSED'}**); "
                     f"at the full 30 s it agreed in {summary['guided_full_budget_same_answer']:.0%}.")
    if guided_regrets:
        summary["guided_30s_median_regret"] = round(statistics.median(guided_regrets), 2)
        lines.append(f"- Advice regret at 30 s, guided against unguided: median {statistics.median(guided_regrets):.2f} against "
                     f"{statistics.median(unguided_regrets):.2f} points, mean {statistics.mean(guided_regrets):.2f} against "
                     f"{statistics.mean(unguided_regrets):.2f}.")
    return lines + [""], summary


# -- cost curve ----------------------------------------------------------------------------------
def cost(records: list[dict]) -> tuple[list[str], dict]:
    import bench_cost

    runs = [r for r in records if r["job"]["kind"] == "cost"]
    lines = ["## Cost curve", ""]
    if not runs:
        return lines + ["No cost runs recorded yet.", ""], {}
    sizes = sorted({r["job"]["rows"] for r in runs})
    lines += [
        f"Each family's default parameters (its first trial) fitted on synthetic data of its kind, one thread, stopped at "
        f"{bench_cost.DEADLINE_S:g} s (marked ≥), after a warm-up fit on 200 rows. Fit seconds and the rise in peak memory (MB); the exponent is the",
        "least-squares slope of log(fit s) on log(rows) over the fits that finished — the `compute` criterion",
        "extrapolates with an exponent measured the same way (fits at n/4 and n rows).",
        "",
        "| family | task | " + " | ".join(f"{n:,} rows s (MB)" for n in sizes) + " | exponent |",
        "| --- | --- | " + " | ".join("---" for _ in sizes) + " | --- |",
    ]
    exps = {}
    for family, task in bench_cost.TASK_OF.items():
        mine = {r["job"]["rows"]: r for r in runs if r["job"]["family"] == family}
        if not mine:
            continue
        cells, points_ = [], []
        for n in sizes:
            r = mine.get(n)
            if r is None:
                cells.append("")
            elif "error" in r:
                cells.append("failed" if "killed" not in r["error"] else "killed")
            else:
                cells.append(("≥" if r["stopped"] else "") + f"{r['fit_s']:.2f} ({r['peak_mb']:.0f})")
                if not r["stopped"]:
                    points_.append((n, r["fit_s"]))
        e = bench_cost.growth_exponent(points_)
        exps[family] = None if e is None else round(e, 2)
        lines.append(f"| {family} | {task} | " + " | ".join(cells) + f" | {fmt(e, 2)} |")
    plot_cost(runs, SUITE / "cost_curve.png")
    lines += ["", "![fit time against rows](results/suite/cost_curve.png)", ""]
    overhead = next((r for r in records if r["job"]["kind"] == "overhead" and "error" not in r), None)
    adv = [r for r in records if r["job"]["kind"] == "advisor" and "ranking" in r]
    if overhead or adv:
        lines.append("### The advisor's own overhead")
        lines.append("")
        if overhead:
            prof = overhead["profile_s"]
            imports = ", ".join(f"{k} {v:.2f} s" for k, v in overhead["import_s"].items())
            lines.append(f"- Starting Python and importing (cold process): {imports}. Profiling a public case: median "
                         f"{statistics.median(prof.values()):.3f} s, at most {max(prof.values()):.3f} s ({max(prof, key=prof.get)}).")
        shares = []
        for r in adv:
            trial_s = sum(e.get("trial_seconds") or 0 for e in r["ranking"])
            if trial_s and r.get("wall_s"):
                shares.append(max(r["wall_s"] - trial_s, 0) / r["wall_s"])
        if shares:
            lines.append(f"- Over {len(shares)} advisor runs, the time outside trials (reading, profiling, growth probes, test scoring, "
                         f"the final refit, bookkeeping) was a median {statistics.median(shares):.0%} of the wall time.")
        lines.append("- The search's own bookkeeping per trial (storage, TPE, family choice) measured about 12 ms "
                     "(`results/workers.md`).")
        lines.append("")
    return lines, {"growth_exponents": exps}


def plot_generation(runs: list[dict], path: Path) -> bool:
    """Grouped bars: C2ST score (1 = indistinguishable from real rows) per case and model."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    scored = [r for r in runs if "value" in r and r.get("value") is not None]
    cases = sorted({r["job"]["case"] for r in scored})
    models = sorted({"advisor" if r["job"]["kind"] == "advisor" else r["job"]["tool"] for r in scored}, key=lambda m: (m != "advisor", m))
    if not cases:
        return False
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        heights = [next((r["value"] for r in scored if r["job"]["case"] == c and ("advisor" if r["job"]["kind"] == "advisor" else r["job"]["tool"]) == model), 0.0) for c in cases]
        ax.bar([k + i * width for k in range(len(cases))], heights, width, label=model)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(cases))], cases, fontsize=8)
    ax.set_ylabel("C2ST score (1 = indistinguishable)")
    ax.set_ylim(0, 1.15)
    ax.legend(fontsize=7, ncol=len(models), loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_cost(runs: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = plt.get_cmap("tab20").colors
    for i, family in enumerate(sorted({r["job"]["family"] for r in runs})):
        pts = sorted((r["job"]["rows"], r["fit_s"]) for r in runs if r["job"]["family"] == family and "fit_s" in r)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="os^Dv"[i % 5], color=colours[(2 * i) % 20 + (i // 10)], label=family)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows")
    ax.set_ylabel("fit seconds (default parameters, one thread)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write() -> None:
    records = load()
    idx = index(records)
    mach = json.loads((SUITE / "machine.json").read_text()) if (SUITE / "machine.json").exists() else machine()
    parts, summary = [], {}
    for fn in (prediction, generation, advice_regret, priors):
        lines, s = fn(idx, records)
        parts += lines
        summary.update(s)
    parts += other_tasks(idx, records)
    lines, s = cost(records)
    parts += lines
    summary.update(s)
    head = [
        "# Benchmark results",
        "",
        "Written by `python benchmarks/suite.py report` from `results/suite/records.jsonl`; rerun everything with",
        "`bash scripts/bench` (resumable; about two hours on 2 cores). Every model is scored by the shared scorer",
        "(`score.py`) on the case's held-out test rows; nothing here is measured on training rows.",
        "",
        f"Machine: {mach['cores']} cores, {mach['memory_gb']} GB RAM, Python {mach['python']}, torch {mach['torch']}, "
        f"scikit-learn {mach['scikit-learn']}, optuna {mach['optuna']}. Two jobs ran at a time, each in its own process",
        "with one thread (so each had one core); timings are of a shared machine and move by 10-20 % between runs.",
        f"Records: {len(records)} jobs.",
        "",
    ]
    timed = [r for r in records if r["job"]["kind"] in ("advisor", "oracle") and r["job"].get("budget") and "wall_s" in r]
    late = [f"{r['job'].get('family') or 'advisor'} on {r['job']['case']}: {r['wall_s']:.1f} s of {r['job']['budget']:g}"
            for r in timed if r["wall_s"] > r["job"]["budget"] + GRACE(r["job"]["budget"])]
    summary["advisor_runs_over_budget_rule"] = late
    head += [f"Budget rule (wall time ≤ budget + max(5 s, 10 %)): {len(timed) - len(late)} of {len(timed)} advisor and oracle runs kept it"
             + (f"; over: {'; '.join(late)}." if late else "."), ""]
    RESULTS_MD.write_text("\n".join(head + parts) + "\n")
    RESULTS_JSON.write_text(json.dumps({"machine": mach, "summary": summary, "records": len(records)}, indent=1, default=str) + "\n")
    print(f"wrote {RESULTS_MD} and {RESULTS_JSON}")
