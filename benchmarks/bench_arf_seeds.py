"""How far one adversarial random forest's C2ST moves with its seed alone, on the public tables.

    python benchmarks/bench_arf_seeds.py [--bench-dir DIR] [--cases gen_fair gen_ring8 gen_weather] [--seeds 5]

The generation table compares one fit of each model. An ARF fit draws its first synthetic rows,
its trees and its samples at random, so two fits of the same settings on the same rows can score
points apart on the shared scorer's C2ST. This fits the advisor's `ARFGenerator` with its
family's default settings (50 trees, leaves of at least 5 rows, delta 0) and with leaves of at
least 8 rows, once per seed, on each case's training rows, and scores every fit on the test rows
with `score.evaluate`: C2ST and the memorisation share beside that of the held-out real rows.
A gap to a peer's single run smaller than this spread says nothing about which model is better.
Writes `benchmarks/results/arf_seeds.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from _common import ROOT, bench_dir, import_scorer, log, machine_line

RESULTS = ROOT / "benchmarks" / "results"
SETTINGS = {"family defaults": {}, "leaves of 8 rows or more": {"min_samples_leaf": 8}}


def run(cases, seeds: int, score) -> list[dict]:
    from advisor_plugins.arf.estimators import ARFGenerator

    rows = []
    for case in cases:
        train, _, _ = score.load_case(case)
        for label, params in SETTINGS.items():
            fits = []
            for seed in range(seeds):
                metrics = score.evaluate(case, ARFGenerator(random_state=seed, **params).fit(train))["metrics"]
                fits.append({"seed": seed, "c2st_score": metrics["c2st_score"], "memorization_share": metrics["memorization_share"],
                             "memorization_share_test": metrics["memorization_share_test"]})
                log(f"{case} {label} seed {seed}: C2ST {metrics['c2st_score']:.3f}, memorisation {metrics['memorization_share']:.3f}")
            rows.append({"case": case, "settings": label, "params": params, "fits": fits})
    return rows


def report(rows: list[dict], seeds: int) -> str:
    lines = [
        "# One adversarial random forest, several seeds",
        "",
        f"`python benchmarks/bench_arf_seeds.py --seeds {seeds}` ({machine_line()}).",
        "The advisor's ARFGenerator fitted on each case's training rows once per seed (the seed alone changes),",
        "scored on the test rows by the shared scorer. Memorisation: share of generated rows nearer a training row",
        "than training rows are to each other; the held-out real rows' share is what fresh rows give.",
        "",
        "| case | settings | C2ST mean | C2ST sd | C2ST range | memorisation mean (max) | held-out real rows |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        c2st = [f["c2st_score"] for f in r["fits"]]
        mem = [f["memorization_share"] for f in r["fits"]]
        lines.append(f"| {r['case']} | {r['settings']} | {statistics.mean(c2st):.3f} | {statistics.stdev(c2st):.3f} "
                     f"| {min(c2st):.3f}-{max(c2st):.3f} | {statistics.mean(mem):.3f} ({max(mem):.3f}) | {r['fits'][0]['memorization_share_test']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir")
    parser.add_argument("--cases", nargs="+", default=["gen_fair", "gen_ring8", "gen_weather"])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2: the spread needs two fits")
    folder = bench_dir(args.bench_dir)
    os.environ["BENCH_DIR"] = str(folder / "public")
    rows = run(args.cases, args.seeds, import_scorer(folder))
    (RESULTS / "arf_seeds.json").write_text(json.dumps({"seeds": args.seeds, "runs": rows}, indent=1) + "\n")
    (RESULTS / "arf_seeds.md").write_text(report(rows, args.seeds))
    log(f"wrote {RESULTS / 'arf_seeds.md'}")


if __name__ == "__main__":
    main()
