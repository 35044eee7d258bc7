"""Turning a read table into the features, target and profile that a task needs.

This is where the task-level checks live (a classify target with one class, a regress target
that is not numeric, a table with no usable column, ...): each one is an `InputError` with a
one-line message, or a warning when the run can go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.data.profiling import Profile, profile_frame
from advisor.data.splits import Splits, make_splits, strata_for
from advisor.data.tables import Table
from advisor.errors import InputError
from advisor.families.contract import TASKS
from advisor.model.cleaning import InputCleaner

MIN_ROWS = 10
TARGET_TASKS = {"classify", "regress"}
LABEL_TASKS = {"detect", "embed"}  # an optional target is a label used only to score


@dataclass
class Dataset:
    """What a run learns from: cleaned features, target, profile, splits, and the cleaning step.

    `X` is the cleaned table the families train on; `cleaner` turns rows shaped like the user's
    input into it again (the first step of the returned model). The profile and the cleaning
    saw the development rows only, never the test rows the ranking reports on.
    """

    X: pd.DataFrame
    y: pd.Series | None
    task: str
    profile: Profile
    target: str | None = None
    labels: pd.Series | None = None  # detect / embed: labels kept out of training, used to score
    warnings: list[str] = field(default_factory=list)
    splits: Splits | None = None
    cleaner: InputCleaner | None = None

    @property
    def conditioned_on(self) -> str | None:
        """The target column a generator learns with the rest of the table and can be sampled
        for (advisor.model.conditional); None for other tasks, or when the target is not a column."""
        return self.target if self.task == "generate" and self.target in self.X.columns else None

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
    """Validate `table` for `task`, split its rows, and clean its features.

    The rows are split first, so that the profile (column kinds, modality, statistics) and every
    data-dependent default see only the rows a run may learn from.
    """
    check_task(task)
    if image_shape and sequence:
        raise InputError("give --image-shape or --sequence, not both: the columns are images or one sequence")
    frame = table.frame
    warnings = list(table.warnings)
    if target is None and task in TARGET_TASKS:
        if str(table.source).lower().endswith(".npz"):
            raise InputError(f"--task {task} needs labels: an .npz gives them as an array named y beside X")
        raise InputError(f"--task {task} needs --target COLUMN (columns: {_names(frame)})")
    if target is not None and target not in frame.columns:
        raise InputError(f"target column {target!r} not found (columns: {_names(frame)})")
    if len(frame) < MIN_ROWS:
        raise InputError(f"{table.source}: {len(frame)} rows; at least {MIN_ROWS} are needed")
    if target is not None:
        frame = _clean_target(frame, target, task, warnings)
        if task in TARGET_TASKS:
            _warn_target_copies(frame, target, task, warnings)
    if len(frame) < MIN_ROWS:
        raise InputError(f"{table.source}: {len(frame)} usable rows; at least {MIN_ROWS} are needed")
    frame = frame.reset_index(drop=True)
    y = labels = None
    if target is not None and task in TARGET_TASKS:
        y = frame[target]
    elif target is not None and task in LABEL_TASKS:
        labels = frame[target]
        if task == "detect":
            labels = _anomaly_labels(labels, target)
            if labels.nunique() < 2:
                warnings.append(f"label column {target!r} marks no row as an anomaly (or every row); "
                                "detectors are scored on injected anomalies instead")
    splits = make_splits(len(frame), strata_for(task, y, labels), seed=seed)
    development = frame.iloc[splits.development]
    shape = image_shape or table.image_shape
    profile = profile_frame(development, target, task=task, image_shape=shape, sequence=sequence, seed=seed,
                            named_columns=table.named_columns, total_rows=len(frame))
    warnings.extend(profile.warnings)
    features = profile.features
    if task == "denoise":
        bad = [c.name for c in profile.columns if c.role == "feature" and c.kind not in ("numeric", "boolean")]
        if bad:
            warnings.append(f"denoise works on numeric columns; ignoring {', '.join(bad)}")
            for c in profile.columns:
                if c.name in bad:
                    c.role, c.note = "ignored", "not numeric; denoise ignores it"
            features = profile.features
            profile.n_features = len(features)
    constants = drop_constants(profile, development, task, warnings)
    features = profile.features
    if not features:
        if task == "denoise" and any(c.note == "not numeric; denoise ignores it" for c in profile.columns):
            raise InputError(f"{table.source}: denoise needs numeric columns, and this table has none")
        raise InputError(f"{table.source}: no usable feature columns (every column is the target, empty, constant, an ID or free text)")
    model_columns = [(c.name, c.kind) for c in profile.columns if c.role == "feature"]
    if target is not None and task == "generate":
        if profile.modality == "tabular":
            model_columns.append((target, profile.column(target).kind))
        else:
            warnings.append(f"{profile.modality} data is generated without its label column {target!r}")
    elif target is not None and task == "denoise":
        warnings.append(f"denoise ignores the column {target!r}")
    inputs = [c for c in frame.columns if c != target or any(name == target for name, _ in model_columns)]
    cleaner = InputCleaner(columns=model_columns, array_shape=table.array_shape, constants=constants).fit(development[inputs])
    X = cleaner.transform(frame[inputs])
    _warn_infinite(frame, model_columns, warnings)
    if X.shape[1] > len(X):
        warnings.append(f"more columns ({X.shape[1]}) than rows ({len(X)}): estimates will be noisy")
    profile.warnings = warnings
    return Dataset(X.reset_index(drop=True), y, task, profile, target, labels, warnings, splits, cleaner)


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
        if pd.api.types.is_bool_dtype(y):
            raise InputError(f"--task regress needs a numeric target, but {target!r} holds True/False; use --task classify")
        if numeric.isna().any():
            raise InputError(f"--task regress needs a numeric target, but {target!r} holds text; use --task classify")
        if not np.isfinite(numeric.to_numpy(dtype=float)).all():
            raise InputError(f"target column {target!r} holds infinite values")
        frame = frame.copy()
        frame[target] = numeric.astype(float)
    if task == "classify":
        frame, y = _uniform_labels(frame, target)
        counts = y.value_counts()
        numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
        mostly_single = len(counts) > 10 and (counts < 2).sum() > len(counts) / 2
        if numeric and (len(counts) > 100 or mostly_single):
            raise InputError(f"target {target!r} has {len(counts)} distinct numbers, most of them in a single row; "
                             f"did you mean --task regress (or is it an ID)?")
        if mostly_single:
            raise InputError(f"target {target!r} has {len(counts)} classes, most of them in a single row: nothing to learn per class")
        if pd.api.types.is_float_dtype(y) and not np.all(np.mod(y.to_numpy(dtype=float), 1) == 0):
            # scikit-learn takes numbers with fractions for a continuous target, not for labels
            frame = frame.copy()
            frame[target] = y = y.map(repr).astype(object)
            warnings.append(f"class labels of {target!r} are numbers with fractions; they are kept as text ({', '.join(map(repr, counts.index[:3]))}, ...)")
        rare = counts[counts < 2]
        if len(rare):
            warnings.append(f"classes with a single row in {target!r}: {', '.join(map(str, rare.index[:5]))}; they stay in training only")
    return frame


def _warn_target_copies(frame: pd.DataFrame, target: str, task: str, warnings: list[str]) -> None:
    """Warn of a feature that gives the target away: a few values each going with one class, or
    numbers in a near-exact straight line with a numeric target. Such a column (the target
    recoded, or known only after the fact) wins every family a perfect score that new rows will
    not bear out."""
    y = frame[target]
    for column in frame.columns.drop(target):
        x = frame[column]
        if task == "classify":
            if not 2 <= x.nunique() <= 2 * y.nunique():
                continue
            groups = pd.DataFrame({"x": x.astype(str), "y": y.astype(str)}).groupby("x")["y"]
            if groups.nunique().max() == 1 and groups.size().min() >= 5:  # not a chance grouping of a few rows
                warnings.append(f"column {column!r} gives the target away (each of its values goes with one class of {target!r}): "
                                "a copy of the target, or known only after the fact?")
        elif pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x) and x.nunique() > 2:
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.corrcoef(x.to_numpy(dtype=float), y.to_numpy(dtype=float))[0, 1] if x.notna().all() else np.nan
            if np.isfinite(r) and abs(r) > 0.9999:
                warnings.append(f"column {column!r} gives the target away (correlation {r:+.4f} with {target!r}): "
                                "a copy of the target, or known only after the fact?")


def _uniform_labels(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Class labels of one type, as scikit-learn's classifiers need them.

    A column read with gaps keeps pandas' `object` dtype after its missing rows are dropped:
    True/False become Python booleans in an object column, which scikit-learn takes for an
    unknown kind of target. Their own dtype is inferred again; labels that still mix types
    (1 and "one") are compared as text. Nullable integers and booleans become plain ones, so that
    the model predicts 0 / 1 or True / False as given, not 0.0 / 1.0.
    """
    y = frame[target]
    masked = getattr(y.dtype, "numpy_dtype", None)  # pandas' nullable Int64 / boolean: their numpy kind, gaps dropped
    if masked is not None:
        frame = frame.copy()
        frame[target] = y.astype(masked)
        return frame, frame[target]
    if y.dtype != object:
        return frame, y
    inferred = y.infer_objects()
    if inferred.dtype == object and not all(isinstance(v, str) for v in inferred):
        inferred = inferred.astype(str)
    frame = frame.copy()
    frame[target] = inferred
    return frame, inferred


def drop_constants(profile: Profile, rows: pd.DataFrame, task: str, warnings: list[str]) -> dict:
    """Leave out feature columns that hold one value in every row, and return those values.

    Such a column teaches a model nothing; generated rows get it back with its one value. A
    detector keeps it: a new value in a column that never changed is itself an anomaly.
    """
    if task == "detect" or profile.modality != "tabular":  # an image keeps its blank border
        return {}
    constants = {}
    for col in profile.columns:
        if col.role == "feature" and col.missing == 0 and col.unique == 1 and profile.n_features > 1:
            constants[col.name] = rows[col.name].iloc[0]
            col.role, col.note = "ignored", "the same value in every row; ignored"
            profile.n_features -= 1
    if constants:
        warnings.append(f"{', '.join(map(repr, constants))}: the same value in every row; ignored")
    return constants


def _warn_infinite(frame: pd.DataFrame, columns: list[tuple[str, str]], warnings: list[str]) -> None:
    """Say which numeric columns hold infinities (the cleaning treats them as missing)."""
    infinite = []
    for name, kind in columns:
        if kind != "numeric":
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        if pd.api.types.is_float_dtype(values) and np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any():
            infinite.append(name)
    if infinite:
        warnings.append(f"infinite values treated as missing in {', '.join(infinite)}")


def _anomaly_labels(labels: pd.Series, target: str) -> pd.Series:
    """Map a user's anomaly column to 1 = anomaly, 0 = normal."""
    values = set(labels.dropna().unique().tolist())
    if values <= {0, 1} or values <= {True, False}:
        return labels.astype(float)
    if values <= {-1, 1}:
        return (labels == -1).astype(float)
    raise InputError(f"label column {target!r} must hold 0/1 (1 = anomaly) or 1/-1 (-1 = anomaly), found {sorted(map(str, values))[:5]}")
