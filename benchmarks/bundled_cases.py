"""The bundled `datasets/` as benchmark cases in the scorer's own format.

The scorer reads cases from the folder named by its BENCH_DIR variable, so the bundled tables
are split once (80/20, seed 0, stratified where there is a label, as the public cases are) into
train.csv / test.csv with a manifest beside them, and scored by the same code as the public
cases. The digits and diabetes tables are left out: the public cases already hold them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from _common import ROOT

CASES = (
    # name, file, task, target, metric, goal
    ("bundled_iris", "iris.csv", "classify", "species", "accuracy", "maximize"),
    ("bundled_cars_origin", "cars.csv", "classify", "origin", "accuracy", "maximize"),
    ("bundled_cars_mpg", "cars.csv", "regress", "mpg", "rmse", "minimize"),
    ("bundled_penguins", "penguins.csv", "classify", "species", "accuracy", "maximize"),
    ("bundled_penguins_gen", "penguins.csv", "generate", "species", "c2st_score", "maximize"),
    ("bundled_sensors", "sensors.csv", "detect", "is_anomaly", "roc_auc", "maximize"),
)


def build(out: Path) -> Path:
    """Write the cases under `out` (idempotent) and return the folder to give as BENCH_DIR."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, file, task, target, metric, goal in CASES:
        frame = pd.read_csv(ROOT / "datasets" / file)
        if task == "regress":
            frame = frame[frame[target].notna()]
        stratify = frame[target] if task in ("classify", "detect", "generate") else None
        train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=stratify)
        test_only = [target] if task == "detect" else []
        if test_only:
            train = train.drop(columns=test_only)
        folder = out / name
        folder.mkdir(exist_ok=True)
        train.to_csv(folder / "train.csv", index=False)
        test.to_csv(folder / "test.csv", index=False)
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
        entry = {
            "name": name, "task": task, "target": target, "train": f"{name}/train.csv", "test": f"{name}/test.csv",
            "metric": metric, "metric_goal": goal, "rows": len(frame), "train_rows": len(train), "test_rows": len(test),
            "columns": train.shape[1], "column_names": list(train.columns), "categorical_columns": categorical,
            "test_only_columns": test_only, "image_shape": None, "extra_files": {},
            "notes": f"datasets/{file} of this repository (see datasets/README.md for source and licence)",
        }
        if task == "classify":
            entry["n_classes"] = int(frame[target].nunique())
        if task == "generate":
            entry["target_kind"] = "classification"
        if task == "detect":
            entry["anomaly_rate"] = float(frame[target].mean())
        entries.append(entry)
    manifest = {"suite": "advisor bundled datasets", "version": 1, "seed": 0, "split": "80/20", "cases": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def names() -> list[str]:
    return [c[0] for c in CASES]
