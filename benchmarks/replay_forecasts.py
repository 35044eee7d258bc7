"""Replay the forecasts of the suite's records with the forecast code as it is now.

    python benchmarks/replay_forecasts.py

Each forecast the advisor made at 30 s for a family cut off by its budget kept the learning
curve it was made from (`checkpoints`: training seconds and validation fidelity) and the
training time it forecast for (`training_s`). This makes those forecasts again with
`advisor.judging.forecast.forecast` and checks them against the value the oracle's 150 s run of
the family measured, as the report does: the mean absolute error in points, and how often the
80 % interval held the measured value with the conformal margin learned from the other cases
only. A change to the forecast method can so be judged on the benchmark's curves without
running the suite again; the figures in RESULTS.md stay those of the runs as made.
"""

from __future__ import annotations

import statistics

import suite_report
from suite import REGRET_BUDGET

from advisor.judging.forecast import conformal_widening, forecast, outside_distance


def replayed(records: list[dict]) -> list[dict]:
    """The benchmark's forecast pairs, each forecast made again from its recorded curve."""
    idx = suite_report.index(records)
    out = []
    for p in suite_report.forecast_pairs(idx, records):
        run = suite_report.advisor_run(idx, p["case"], REGRET_BUDGET)
        entry = next(e for e in run["ranking"] if e["family"] == p["family"])
        points = entry.get("checkpoints") or []
        if p["measured"] is None or not points or "training_s" not in p["forecast"]:
            continue
        noise = p["forecast"].get("noise")
        if noise is None:  # records made before forecasts kept it: the standard error from the 90 % interval
            lo, hi = entry.get("fidelity_ci") or (None, None)
            noise = (hi - lo) / (2 * 1.645) if lo is not None else 0.0
        fc = forecast([t for t, _ in points], [f for _, f in points], noise=noise, budget_s=REGRET_BUDGET,
                      training_s=p["forecast"]["training_s"])
        out.append({**p, "replay": fc})
    return out


def main() -> None:
    records = [r for r in suite_report.load() if not r["job"].get("seed")]  # the report's runs, not the repeats
    pairs = [p for p in replayed(records) if p["replay"].fidelity is not None]
    checked = [(p, p["replay"].model_interval) for p in pairs]
    errors, inside = [], []
    print(f"{'case':<18} {'family':<10} {'recorded':>8} {'replayed':>8} {'measured':>8} {'error':>6}  interval (other cases' margin)")
    for p, (lo, hi) in checked:
        margin = conformal_widening(outside_distance(q_int, q["measured"]) for q, q_int in checked if q["case"] != p["case"])
        lo, hi = max(lo - margin, 0.0), min(hi + margin, 1.0)
        err = suite_report.forecast_error(p["case"], p["replay"].fidelity, p["measured"])
        errors.append(err)
        inside.append(lo <= p["measured"] <= hi)
        print(f"{p['case']:<18} {p['family']:<10} {p['forecast']['fidelity']:>8.3f} {p['replay'].fidelity:>8.3f} "
              f"{p['measured']:>8.3f} {err:>6.2f}  {lo:.3f}-{hi:.3f} {'inside' if inside[-1] else 'OUTSIDE'}")
    if errors:
        width = statistics.mean(hi - lo for _, (lo, hi) in checked)
        print(f"\nmean absolute error {statistics.mean(errors):.2f} points over {len(errors)} forecasts; "
              f"80 % interval (margin from the other cases) held {sum(inside) / len(inside):.0%}; "
              f"mean width of the models' interval {width:.3f}")


if __name__ == "__main__":
    main()
