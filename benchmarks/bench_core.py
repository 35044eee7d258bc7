"""The core end to end on the public cases: `advisor.recommend` under a budget, its winner
scored by the independent scorer on the held-out test rows, beside the scorer's references.

    python benchmarks/bench_core.py [--budget 30] [--families classic] [--cases clf_anes96 ...]

Writes benchmarks/results/core.md (and core.json).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _common import ROOT, bench_dir, import_scorer, machine, machine_line

REFERENCES = {  # the scorer's reference model per task, from public/baselines.json
    "classify": "hgb",
    "regress": "hgb",
    "generate": "independent_columns",
    "detect": "isolation_forest",
    "embed": "pca16",
    "denoise": "pca_recon",
}
CLASSIC = "hist_gradient_boosting,linear,gaussian_mixture,smote,isolation_forest,pca,kernel_features"


def fit_case(score, name: str, budget: float, families: str | None, seed: int):
    import advisor

    train, test, meta = score.load_case(name)
    task, target = meta["task"], meta.get("target")
    kwargs = dict(budget=budget, families=families, seed=seed)
    if meta.get("image_shape"):
        kwargs["image_shape"] = tuple(meta["image_shape"])
    if meta.get("sequence_length"):
        kwargs["sequence"] = True
    if task == "denoise":
        kwargs["noise_std"] = meta.get("noise_sigma") or 0.2
    data = train
    if task in ("classify", "regress"):
        kwargs["target"] = target
    start = time.monotonic()
    rec = advisor.recommend(data, task, **kwargs)
    wall = time.monotonic() - start
    result = score.evaluate(name, rec.best_estimator_)
    return rec, result, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench-dir")
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--families", default="all", help="'all' (every installed family), 'classic', or a comma list")
    parser.add_argument("--cases", nargs="*")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "core"))
    args = parser.parse_args()
    bdir = bench_dir(args.bench_dir)
    score = import_scorer(bdir)
    families = None if args.families == "all" else (CLASSIC if args.families == "classic" else args.families)
    baselines = json.loads((bdir / "public" / "baselines.json").read_text())
    rows = []
    cases = args.cases or [c["name"] for c in score.list_cases()]
    for name in cases:
        rec, result, wall = fit_case(score, name, args.budget, families, args.seed)
        meta = score.case_meta(name)
        ref_model = REFERENCES[meta["task"]]
        ref = next((b for b in baselines if b["case"] == name and b["model"] == ref_model), None)
        row = {
            "case": name,
            "task": meta["task"],
            "metric": result["metric"],
            "goal": result["metric_goal"],
            "advisor": result["value"],
            "family": rec.best_family,
            "reference_model": ref_model,
            "reference": ref["value"] if ref else None,
            "wall_s": round(wall, 1),
            "budget_s": args.budget,
            "metrics": result["metrics"],
            "ranking": [(e["family"], e["score"], e["status"]) for e in rec.ranking_entries if e["status"] != "unsupported"],
        }
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("case", "metric", "advisor", "family", "reference", "wall_s")}), flush=True)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"machine": machine(), "budget_s": args.budget, "families": args.families, "rows": rows}, indent=1, default=str))
    lines = [
        "# Core benchmark: advisor.recommend on the public cases",
        "",
        f"Command: `python benchmarks/bench_core.py --budget {args.budget:g} --families {args.families}`",
        f"Machine: {machine_line()}. Budget {args.budget:g} s per case for the whole call (search, scoring, refit).",
        "The recommended model (refit on all train rows) is scored by the shared scorer on the case's test rows.",
        "",
        "| case | task | metric | advisor | recommended family | reference | reference value | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        ref = "-" if r["reference"] is None else f"{r['reference']:.3f}"
        lines.append(f"| {r['case']} | {r['task']} | {r['metric']} | {r['advisor']:.3f} | {r['family']} | {r['reference_model']} | {ref} | {r['wall_s']} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.md')}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
