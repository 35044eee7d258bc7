"""The answer: a `Recommendation` with its JSON document, and saving / loading it safely.

Models are saved with skops, which rebuilds objects from their recorded state and refuses
types it was not told to trust, instead of unpickling (which runs whatever code the file
names). `load` trusts only the exact types advisor's own models contain (`advisor.model.safe_load`);
anything else is refused unless the caller passes `trust=True`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.data.profiling import Profile
from advisor.errors import InputError

SCHEMA_VERSION = "1.0"


def jsonable(value):
    """Plain JSON types only: NaN and infinities become null, numpy scalars become numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    return value


def versions(plugins: dict | None = None) -> dict:
    out = {}
    for dist in ("advisor", "scikit-learn", "torch", "optuna", "pandas", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    import platform

    out["python"] = platform.python_version()
    if plugins:
        out["plugins"] = plugins
    return out


@dataclass
class Recommendation:
    task: str
    target: str | None
    best_family: str
    best_estimator_: object
    ranking_entries: list[dict]
    pareto: list[str]
    rationale: list[str]
    profile: Profile
    budget_s: float
    elapsed_s: float
    seed: int
    weights: dict
    warnings: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    source: str = "search"
    search: dict = field(default_factory=dict)
    interrupted: BaseException | None = field(default=None, repr=False, compare=False)
    previews: dict = field(default_factory=dict, repr=False)
    # The prior ranking and whether the measurement agreed (advisor.judging.prior_advice); empty for advice-only results.
    prior: dict = field(default_factory=dict)
    # How the families were compared (advisor.judging.judge.selection_protocol).
    selection: dict = field(default_factory=dict)
    # The budget at which the ranking is expected to settle (advisor.judging.forecast.settle_budget).
    budget_advice: dict | None = None

    @property
    def ranking(self) -> pd.DataFrame:
        """One row per family, best first: score, the four criteria, status and reason."""
        rows = []
        for e in self.ranking_entries:
            row = {"family": e["family"], "score": e["score"]}
            row.update(e["criteria"] or dict.fromkeys(("fidelity", "uncertainty", "compute", "interpretability")))
            row.update(status=e["status"], trials=e["trials"]["total"], reason=e["reason"])
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return jsonable(
            {
                "schema_version": SCHEMA_VERSION,
                "source": self.source,
                "task": self.task,
                "target": self.target,
                "budget_s": self.budget_s,
                "elapsed_s": round(self.elapsed_s, 3),
                "seed": self.seed,
                "weights": self.weights,
                "recommendation": self.best_family,
                "ranking": self.ranking_entries,
                "pareto": self.pareto,
                "rationale": self.rationale,
                "profile": self.profile.to_dict(),
                "warnings": self.warnings,
                "search": self.search,
                "versions": self.versions,
                "previews": self.previews,
                "prior": self.prior,
                "selection": self.selection,
                "budget_advice": self.budget_advice,
            }
        )

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def save(self, path: str | Path) -> Path:
        """Save the fitted winner and the document (skops format, no pickle)."""
        import skops.io as sio

        path = Path(path)
        sio.dump({"document": self.to_json(), "estimator": self.best_estimator_}, path)
        return path

    def __repr__(self) -> str:
        return f"<Recommendation {self.task}: {self.best_family} ({len(self.ranking_entries)} families ranked)>"


def load(path: str | Path, *, trust: bool = False) -> Recommendation:
    """Load a recommendation saved by `Recommendation.save`.

    Only the exact types advisor's own models contain are rebuilt (see `advisor.model.safe_load`); a
    file naming anything else is refused with an InputError unless `trust=True`, which rebuilds
    whatever the file names and so can run code from it.
    """
    from advisor.model.safe_load import load_saved

    data = load_saved(Path(path), trust=trust)
    doc = _document(data)
    if doc is None:
        raise InputError(f"{path}: not a model saved by advisor (advisor recommend --save-model, or Recommendation.save)")
    return Recommendation(
        task=doc["task"],
        target=doc.get("target"),
        best_family=doc["recommendation"],
        best_estimator_=data["estimator"],
        ranking_entries=doc["ranking"],
        pareto=doc["pareto"],
        rationale=doc["rationale"],
        profile=Profile.from_dict(doc["profile"]),
        budget_s=doc["budget_s"],
        elapsed_s=doc["elapsed_s"],
        seed=doc.get("seed", 0),
        weights=doc.get("weights", {}),
        warnings=doc.get("warnings", []),
        versions=doc.get("versions", {}),
        source=doc.get("source", "search"),
        search=doc.get("search", {}),
        previews=doc.get("previews", {}),
        prior=doc.get("prior", {}),
        selection=doc.get("selection", {}),
        budget_advice=doc.get("budget_advice"),
    )


def _document(data) -> dict | None:
    """The result document of a file `Recommendation.save` wrote; None for anything else that
    skops can read (a model saved on its own, a plain dict)."""
    if not isinstance(data, dict) or "estimator" not in data or not isinstance(data.get("document"), str):
        return None
    try:
        doc = json.loads(data["document"])
    except ValueError:
        return None
    needed = ("task", "recommendation", "ranking", "pareto", "rationale", "profile", "budget_s", "elapsed_s")
    return doc if isinstance(doc, dict) and all(k in doc for k in needed) else None
