"""Turning a read table into the features, target and profile that a task needs.

This is where the task-level checks live (a classify target with one class, a regress target
that is not numeric, a table with no usable column, ...): each one is an `InputError` with a
one-line message, or a warning when the run can go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.data import Table
from advisor.errors import InputError
from advisor.family import TASKS
from advisor.profile import Profile, profile_frame

MIN_ROWS = 10
TARGET_TASKS = {"classify", "regress"}
LABEL_TASKS = {"detect", "embed"}  # an optional target is a label used only to score


@dataclass
class Dataset:
    X: pd.DataFrame
    y: pd.Series | None
    task: str
    profile: Profile
    target: str | None = None
    labels: pd.Series | None = None  # detect / embed: labels kept out of training, used to score
    warnings: list[str] = field(default_factory=list)

    @property
    def image_shape(self):
        return self.profile.image_shape


def check_task(task: str) -> str:
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return task


def prepare(
    table: Table,
    task: str,
    target: str | None = None,
    *,
    image_shape: tuple[int, ...] | None = None,
    sequence: bool = False,
    seed: int = 0,
) -> Dataset:
    """Validate `table` for `task` and split it into features and target."""
    check_task(task)
    frame = table.frame
    warnings = list(table.warnings)
    if target is None and task in TARGET_TASKS:
        raise InputError(f"--task {task} needs --target COLUMN (columns: {_names(frame)})")
    if target is not None and target not in frame.columns:
        raise InputError(f"target column {target!r} not found (columns: {_names(frame)})")
    if len(frame) < MIN_ROWS:
        raise InputError(f"{table.source}: {len(frame)} rows; at least {MIN_ROWS} are needed")
    if target is not None:
        frame = _clean_target(frame, target, task, warnings)
    if len(frame) < MIN_ROWS:
        raise InputError(f"{table.source}: {len(frame)} usable rows; at least {MIN_ROWS} are needed")
    shape = image_shape or table.image_shape
    profile = profile_frame(frame, target, task=task, image_shape=shape, sequence=sequence, seed=seed)
    warnings.extend(profile.warnings)
    features = profile.features
    X = frame[features].copy()
    if task == "denoise":
        bad = [c.name for c in profile.columns if c.role == "feature" and c.kind not in ("numeric", "boolean")]
        if bad:
            warnings.append(f"denoise works on numeric columns; ignoring {', '.join(bad)}")
            X = X.drop(columns=bad)
            for c in profile.columns:
                if c.name in bad:
                    c.role, c.note = "ignored", "not numeric; denoise ignores it"
            profile.n_features = X.shape[1]
    if X.shape[1] == 0:
        raise InputError(f"{table.source}: no usable feature columns (every column is the target, empty, an ID or free text)")
    X = _clean_features(X, profile, warnings)
    if X.shape[1] > len(X):
        warnings.append(f"more columns ({X.shape[1]}) than rows ({len(X)}): estimates will be noisy")
    y = labels = None
    if target is not None and task in TARGET_TASKS:
        y = frame[target].reset_index(drop=True)
    elif target is not None and task in LABEL_TASKS:
        labels = frame[target].reset_index(drop=True)
        if task == "detect":
            labels = _anomaly_labels(labels, target)
    elif target is not None and task == "generate":
        if profile.modality == "tabular":
            X[target] = frame[target].to_numpy()
        else:
            warnings.append(f"{profile.modality} data is generated without its label column {target!r}")
    elif target is not None and task == "denoise":
        warnings.append(f"denoise ignores the column {target!r}")
    profile.warnings = warnings
    return Dataset(X.reset_index(drop=True), y, task, profile, target, labels, warnings)


def _names(frame: pd.DataFrame) -> str:
    names = ", ".join(map(str, frame.columns[:12]))
    return names + (", ..." if frame.shape[1] > 12 else "")


def _clean_target(frame: pd.DataFrame, target: str, task: str, warnings: list[str]) -> pd.DataFrame:
    y = frame[target]
    if y.isna().all():
        raise InputError(f"target column {target!r} is entirely missing")
    if task in TARGET_TASKS and y.isna().any():
        warnings.append(f"dropped {int(y.isna().sum())} rows whose target {target!r} is missing")
        frame = frame[y.notna()].reset_index(drop=True)
        y = frame[target]
    if task in TARGET_TASKS and y.nunique() < 2:
        what = "a single class" if task == "classify" else "a constant value"
        raise InputError(f"target column {target!r} has {what}; nothing to learn")
    if task == "regress":
        numeric = pd.to_numeric(y, errors="coerce")
        if numeric.isna().any() or pd.api.types.is_bool_dtype(y):
            raise InputError(f"--task regress needs a numeric target, but {target!r} holds text; use --task classify")
        if not np.isfinite(numeric.to_numpy(dtype=float)).all():
            raise InputError(f"target column {target!r} holds infinite values")
        frame = frame.copy()
        frame[target] = numeric.astype(float)
    if task == "classify":
        counts = y.value_counts()
        if len(counts) > 100 and pd.api.types.is_float_dtype(y):
            raise InputError(f"target {target!r} has {len(counts)} distinct numbers; did you mean --task regress?")
        rare = counts[counts < 2]
        if len(rare):
            warnings.append(f"classes with a single row in {target!r}: {', '.join(map(str, rare.index[:5]))}; they stay in training only")
    return frame


def _clean_features(X: pd.DataFrame, profile: Profile, warnings: list[str]) -> pd.DataFrame:
    infinite = []
    for col in profile.columns:
        if col.role != "feature" or col.name not in X.columns:
            continue
        s = X[col.name]
        if col.kind == "datetime":
            parsed = pd.to_datetime(s, errors="coerce", format="mixed") if not pd.api.types.is_datetime64_any_dtype(s) else s
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(None)
            X[col.name] = (parsed - pd.Timestamp(0)).dt.total_seconds() / 86400.0
        elif col.kind == "numeric":
            values = pd.to_numeric(s, errors="coerce")
            if pd.api.types.is_float_dtype(values) and np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any():
                infinite.append(col.name)
                values = values.replace([np.inf, -np.inf], np.nan)
            X[col.name] = values
        elif col.kind == "categorical" and not (pd.api.types.is_object_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)):
            X[col.name] = s.astype(object).where(s.notna(), np.nan)
    if infinite:
        warnings.append(f"infinite values treated as missing in {', '.join(infinite)}")
    return X


def _anomaly_labels(labels: pd.Series, target: str) -> pd.Series:
    """Map a user's anomaly column to 1 = anomaly, 0 = normal."""
    values = set(labels.dropna().unique().tolist())
    if values <= {0, 1} or values <= {True, False}:
        return labels.astype(float)
    if values <= {-1, 1}:
        return (labels == -1).astype(float)
    raise InputError(f"label column {target!r} must hold 0/1 (1 = anomaly) or 1/-1 (-1 = anomaly), found {sorted(map(str, values))[:5]}")
