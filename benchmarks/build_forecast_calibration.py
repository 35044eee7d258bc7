"""Rebuild the forecasts' conformal margin (advisor/judging/forecast_calibration.json) from the
suite's records.

    python benchmarks/build_forecast_calibration.py

A forecast's curve models see one short training run; the value it forecasts is measured by
another run (the family alone with 5x the budget: other trials, longer training, its own
measurement). For every forecast the advisor made at 30 s (default weights) whose family the
oracle also ran alone at 150 s, this makes the forecast again from the run's recorded learning
curve with the forecast code as it is now (replay_forecasts.py, so that the margin fits the
method shipped), takes how far the measured value fell outside the curve models' interval (0
inside), and keeps the split-conformal quantile of those distances at the interval's level
(advisor.judging.forecast.conformal_widening). The report checks the margin
left one case out (suite.py report, "Forecasts at a larger budget").
"""

from __future__ import annotations

import json

import replay_forecasts
import suite_report
from suite import REGRET_BUDGET

from advisor.judging.forecast import CALIBRATION_FILE, LEVEL, conformal_widening, outside_distance


def build(records: list[dict]) -> dict:
    records = [r for r in records if not r["job"].get("seed")]
    pairs = [p for p in replay_forecasts.replayed(records) if p["replay"].model_interval is not None]
    distances = [outside_distance(p["replay"].model_interval, p["measured"]) for p in pairs]
    idx = suite_report.index(records)
    protocols = sorted({suite_report.advisor_run(idx, p["case"], REGRET_BUDGET)["job"]["protocol"] for p in pairs})
    return {
        "built_by": "python benchmarks/build_forecast_calibration.py",
        "source": (f"benchmarks/results/suite/records.jsonl: the advisor's {REGRET_BUDGET:g} s runs "
                   f"(protocol {', '.join(map(str, protocols))}), their curves' forecasts made again, against the oracle's {5 * REGRET_BUDGET:g} s runs"),
        "level": LEVEL,
        "widen": round(conformal_widening(distances, LEVEL), 4),
        "pairs": len(pairs),
        "cases": len({p["case"] for p in pairs}),
        "outside": sum(d > 0 for d in distances),
    }


def main() -> None:
    doc = build(suite_report.load())
    CALIBRATION_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {CALIBRATION_FILE}: margin {doc['widen']} from {doc['pairs']} forecasts over {doc['cases']} cases")


if __name__ == "__main__":
    main()
