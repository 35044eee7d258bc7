"""What the benchmark runs measured, looked up by similarity of the dataset.

`measured.json` (rebuilt by `python benchmarks/build_priors.py` from the suite's records) holds,
for every benchmark case, its meta-features and each family's measured criteria when trained
alone with ample budget. A new dataset borrows from its nearest cases of the same task (the
other prediction task counts too, at a distance): how close each family came to the best one
there, its uncertainty score, and its fit seconds per 1,000 rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from advisor.priors.features import distance

DATA_FILE = Path(__file__).with_name("measured.json")
NEIGHBOURS = 3
OTHER_TASK_PENALTY = 1.0  # classify borrows from regress cases (and back) as if one unit further
EXCLUDE_ENV = "ADVISOR_PRIOR_EXCLUDE"  # comma list of cases to leave out (leave-one-out evaluation)


@dataclass
class Evidence:
    rel_fidelity: float  # family's fidelity over the best family's on the neighbours, weighted
    uncertainty: float | None
    seconds_per_1k_rows: float | None
    cases: list[str]
    distance: float  # to the nearest of those cases, in meta-feature units


@lru_cache(maxsize=1)
def _load(path: str) -> tuple:
    try:
        return tuple(json.loads(Path(path).read_text())["cases"])
    except (OSError, ValueError, KeyError):
        return ()


def cases() -> tuple:
    return _load(str(DATA_FILE))


def _excluded(extra: tuple[str, ...]) -> set[str]:
    from advisor.settings import settings

    return set(settings().prior_exclude) | set(extra)


def _related(task: str, case_task: str) -> float | None:
    if task == case_task:
        return 0.0
    if {task, case_task} == {"classify", "regress"}:
        return OTHER_TASK_PENALTY
    return None


def evidence(family: str, task: str, features: dict, exclude: tuple[str, ...] = ()) -> Evidence | None:
    """Weighted measurements of `family` on the nearest benchmark cases, or None if it has none."""
    skip = _excluded(exclude)
    near = []
    for case in cases():
        penalty = _related(task, case["task"])
        if penalty is None or case["case"] in skip or family not in case["families"]:
            continue
        near.append((distance(features, case["features"]) + penalty, case))
    if not near:
        return None
    near.sort(key=lambda pair: pair[0])
    near = near[:NEIGHBOURS]
    weights = [1.0 / (0.25 + d) for d, _ in near]
    total = sum(weights)

    def mean(values):
        pairs = [(w, v) for w, v in zip(weights, values) if v is not None]
        if not pairs:
            return None
        return sum(w * v for w, v in pairs) / sum(w for w, _ in pairs)

    rows = [c["families"][family] for _, c in near]
    return Evidence(
        rel_fidelity=sum(w * r["rel_fidelity"] for w, r in zip(weights, rows)) / total,
        uncertainty=mean([r.get("uncertainty") for r in rows]),
        seconds_per_1k_rows=mean([r.get("seconds_per_1k_rows") for r in rows]),
        cases=[c["case"] for _, c in near],
        distance=near[0][0],
    )
