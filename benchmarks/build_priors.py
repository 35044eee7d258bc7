"""Rebuild the priors' evidence (advisor/priors/measured.json) from the suite's oracle runs.

    python benchmarks/build_priors.py [--records benchmarks/results/suite/records.jsonl]

For every public case, the oracle trained each family alone with ample budget
(`suite.py run --parts oracle`). This keeps, per case, the profile's meta-features and per
family: its fidelity relative to the best family there (the advisor's own held-out measure,
the one its ranking uses), its uncertainty score, and its fit + predict seconds per 1,000 rows.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from _common import ROOT
from suite import protocol_of

from advisor.priors.features import meta_features

OUT = ROOT / "advisor" / "priors" / "measured.json"


def load_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def family_row(record: dict) -> dict | None:
    entry = next((e for e in record.get("ranking", []) if e["family"] == record["job"]["family"] and e.get("criteria")), None)
    if entry is None:
        return None
    rows = max(record["profile"]["n_rows"], 1)
    metrics = entry["metrics"]
    fit = metrics.get("est_full_fit_seconds")
    predict = metrics.get("predict_seconds_per_1k")
    per_1k = None if fit is None else fit / rows * 1000 + (predict or 0.0)
    return {"fidelity": entry["criteria"]["fidelity"], "uncertainty": entry["criteria"]["uncertainty"],
            "seconds_per_1k_rows": None if per_1k is None else round(per_1k, 4), "scorer_value": record.get("value")}


def build(records: list[dict]) -> dict:
    by_case: dict[str, dict] = defaultdict(dict)
    profiles, budget_of = {}, {}
    # Only the oracle runs of the current protocol count: each task's own (benchmarks/suite.py
    # protocol_of), so that a task whose oracle was run again does not leave the others out.
    for r in records:
        if r["job"]["kind"] != "oracle" or "error" in r or r["job"].get("seed") or r["job"]["case"].startswith("bundled_"):
            continue
        if r["job"].get("protocol", 1) != protocol_of("oracle", _task_of(r["job"]["case"]), r["job"]["budget"]):
            continue
        row = family_row(r)
        if row is None:
            continue
        case, family = r["job"]["case"], r["job"]["family"]
        if r["job"]["budget"] < budget_of.get((case, family), 0):
            continue  # the longest oracle run of a family counts
        budget_of[(case, family)] = r["job"]["budget"]
        by_case[case][family] = row
        profiles[case] = r["profile"]
    cases = []
    for case, families in sorted(by_case.items()):
        best = max(f["fidelity"] for f in families.values()) or 1.0
        for f in families.values():
            f["rel_fidelity"] = round(f["fidelity"] / best, 4)
        cases.append({"case": case, "task": _task_of(case), "features": {k: round(v, 4) for k, v in meta_features(SimpleNamespace(**profiles[case])).items()},
                      "families": families})
    return {"built_by": "python benchmarks/build_priors.py", "source": "benchmarks/results/suite/records.jsonl (oracle runs)", "cases": cases}


def _task_of(case: str) -> str:
    return {"clf": "classify", "reg": "regress", "gen": "generate", "det": "detect", "emb": "embed", "dn": "denoise"}[case.split("_")[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", default=str(ROOT / "benchmarks" / "results" / "suite" / "records.jsonl"))
    args = parser.parse_args()
    doc = build(load_records(Path(args.records)))
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(doc['cases'])} cases)")


if __name__ == "__main__":
    main()
