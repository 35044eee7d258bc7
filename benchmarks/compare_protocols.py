"""Compare the advisor's public-suite runs of two protocols, job by job: the family it returned
and that model's test figure, so that a change meant to keep behaviour can show it did.

    python benchmarks/compare_protocols.py 8 9            # a Markdown table and a summary
    python benchmarks/compare_protocols.py 8 9 --budget 60

Points are the suite's own (benchmarks/suite_report.py `points`): 100x for scores in [0, 1], the
percentage of the better value for RMSE, 10x dB for PSNR; positive means the second protocol's
model is better.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite_report import fmt, metric_of, points, read_records  # noqa: E402


def advisor_runs(protocol: int, budget: float | None) -> dict[tuple, dict]:
    """Each advisor job of `protocol` under a key that leaves the protocol out."""
    runs = {}
    for record in read_records():
        job = record["job"]
        if job["kind"] != "advisor" or job.get("protocol") != protocol or "value" not in record:
            continue
        if budget is not None and job["budget"] != budget:
            continue
        runs[tuple(sorted((k, str(v)) for k, v in job.items() if k not in ("protocol", "bench_dir")))] = record
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=int)
    parser.add_argument("after", type=int)
    parser.add_argument("--budget", type=float, default=None)
    args = parser.parse_args(argv)
    before, after = advisor_runs(args.before, args.budget), advisor_runs(args.after, args.budget)
    shared = sorted(set(before) & set(after))
    if not shared:
        print(f"no job was run under both protocol {args.before} and {args.after}")
        return 1
    print(f"| job | protocol {args.before} | protocol {args.after} | change (points) |")
    print("| --- | --- | --- | ---: |")
    changes, same_family = [], 0
    for key in shared:
        job, old, new = dict(key), before[key], after[key]
        case = job["case"]
        lower_better = metric_of(case) == "rmse"
        change = points(case, new["value"], old["value"]) if not lower_better else -points(case, old["value"], new["value"])
        changes.append(change)
        same_family += old.get("family") == new.get("family")
        label = " ".join([case, f"{float(job['budget']):g} s"] + [f"{k}={v}" for k, v in sorted(job.items())
                                                                   if k in ("prefer", "target")])
        print(f"| {label} | {old.get('family')} {fmt(old['value'])} | {new.get('family')} {fmt(new['value'])} | {change:+.1f} |")
    print()
    print(f"{len(shared)} jobs; the same family returned in {same_family} ({100 * same_family / len(shared):.0f} %); "
          f"change in points: median {statistics.median(changes):+.2f}, mean {statistics.mean(changes):+.2f}, "
          f"mean absolute {statistics.mean(abs(c) for c in changes):.2f}; better in {sum(c > 0.05 for c in changes)}, "
          f"worse in {sum(c < -0.05 for c in changes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
