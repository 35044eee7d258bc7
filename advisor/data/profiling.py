"""The dataset profile: what the data looks like, computed on a bounded sample.

Column kinds, missingness, cardinality, the target's type and balance, the modality (tabular,
image or sequence, with the reason it was chosen) and a few meta-features. Everything here is
JSON-serialisable through `Profile.to_dict`, and costs seconds even on millions of rows.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from advisor.data.ordering import order_evidence
from advisor.errors import InputError

PROFILE_SAMPLE_ROWS = 50_000
PIXEL_PREFIXES = {"p", "px", "pixel", "pix"}
_INDEXED = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z_]*?)_?(?P<index>\d+)$")
CATEGORY_LIMIT = 1000
TEXT_NUMBER_SHARE = 0.95  # a text column whose values are this often numbers holds numbers  # more distinct strings than this (and mostly unique) is an ID or free text


@dataclass
class ColumnProfile:
    name: str
    kind: str  # numeric | categorical | boolean | datetime | text | id | empty
    dtype: str
    missing: float
    unique: int
    role: str = "feature"  # feature | target | ignored
    note: str | None = None
    stats: dict = field(default_factory=dict)


@dataclass
class Profile:
    n_rows: int
    n_features: int
    columns: list[ColumnProfile]
    modality: str
    modality_reason: str
    image_shape: tuple[int, ...] | None = None
    sequence_length: int | None = None
    target: str | None = None
    target_kind: str | None = None  # binary | multiclass | continuous
    n_classes: int | None = None
    class_counts: dict | None = None
    class_balance: float | None = None  # smallest class share / largest class share
    missing_share: float = 0.0
    categorical_share: float = 0.0
    kinds: dict = field(default_factory=dict)
    memory_mb: float = 0.0
    intrinsic_dim: int | None = None
    sampled_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns if c.role == "feature"]

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["image_shape"] = list(self.image_shape) if self.image_shape else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Profile:
        d = dict(d)
        d["columns"] = [ColumnProfile(**c) for c in d["columns"]]
        d["image_shape"] = tuple(d["image_shape"]) if d.get("image_shape") else None
        return cls(**d)


def _column_kind(s: pd.Series, n: int, share: float = 1.0) -> tuple[str, str | None]:
    """Decide how a column should be read; the note says why when it is dropped or converted.

    `share` is the part of the whole table that `s` holds (a sample, or the rows a run trains
    on): a row ID seen through a sample fills its range of integers only that densely.
    """
    nonnull = s.dropna()
    if nonnull.empty:
        return "empty", "every value is missing; ignored"
    if pd.api.types.is_bool_dtype(s):
        return "boolean", None
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", "datetime; used as days since 1970"
    if pd.api.types.is_numeric_dtype(s):
        values = nonnull.to_numpy()
        if (
            pd.api.types.is_integer_dtype(s)
            and len(nonnull) == n
            and nonnull.nunique() == n
            and n >= 20
            and _fills_range(values, share)
        ):
            return "id", "consecutive unique integers look like a row ID; ignored"
        return "numeric", None
    text = nonnull.astype(str)
    sample = text.iloc[:200]
    if len(sample) >= 10 and sample.str.match(r"^\d{4}-\d{2}-\d{2}").mean() > 0.9:
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            return "datetime", "dates; used as days since 1970"
    numbers = pd.to_numeric(text, errors="coerce")
    bad = int(numbers.isna().sum())
    # Numbers with a few stray words ("n/a", "?") are numbers; a handful of codes written as
    # text on purpose ("1", "2", "3") stay categories.
    if numbers.notna().mean() >= TEXT_NUMBER_SHARE and (bad or numbers.nunique() > 20):
        extra = f"; {bad} values that are not numbers are treated as missing" if bad else ""
        return "numeric", f"numbers stored as text{extra}"
    n_unique = nonnull.nunique()
    mostly_unique = n_unique > 0.9 * len(nonnull) and len(nonnull) >= 20
    if n_unique > CATEGORY_LIMIT or mostly_unique:
        mean_words = sample.str.split().str.len().mean()
        if mean_words >= 3:
            return "text", f"free text ({n_unique} distinct values, ~{mean_words:.0f} words each); ignored"
        if n_unique > 0.9 * len(nonnull):
            return "id", f"{n_unique} distinct values in {len(nonnull)} rows look like an ID; ignored"
        return "categorical", f"{n_unique} levels: rare levels are grouped by the encoders"
    return "categorical", None


def _fills_range(values: np.ndarray, share: float) -> bool:
    """Unique integers that fill their range as densely as a row ID seen through `share` would."""
    span = float(values.max()) - float(values.min()) + 1
    if share >= 1.0:
        return span == len(values)
    return len(values) >= 0.5 * share * span


def detect_modality(
    columns: list[str],
    numeric: set[str],
    image_shape: tuple[int, ...] | None = None,
    sequence: bool = False,
    named_columns: bool = True,
) -> tuple[str, str, tuple[int, ...] | None, int | None]:
    """(modality, reason, image_shape, sequence_length) for the feature columns.

    Only names a user wrote decide image or sequence; names invented for an array
    (`named_columns=False`) say nothing about order, so such an array is a table unless
    `image_shape` or `sequence` says otherwise.
    """
    n = len(columns)
    if image_shape is not None:
        size = int(np.prod(image_shape))
        if size != n:
            raise InputError(
                f"--image-shape {'x'.join(map(str, image_shape))} needs {size} pixel columns, but the data has {n} feature columns"
            )
        if not set(columns) <= numeric:
            raise InputError("--image-shape given, but some feature columns are not numeric")
        return "image", f"image shape {'x'.join(map(str, image_shape))} given", tuple(image_shape), None
    if sequence:
        if not set(columns) <= numeric:
            raise InputError("--sequence given, but some feature columns are not numeric")
        return "sequence", f"--sequence given: {n} ordered values", None, n
    if not named_columns:
        return "tabular", "an array's columns have no names: a table (give sequence=True or image_shape= to read it otherwise)", None, None
    matches = [_INDEXED.match(c) for c in columns]
    if n >= 8 and all(matches) and set(columns) <= numeric:
        prefixes = {m.group("prefix").lower() for m in matches}
        indices = [int(m.group("index")) for m in matches]
        start = min(indices)
        if len(prefixes) == 1 and sorted(indices) == list(range(start, start + n)) and start in (0, 1):
            prefix = prefixes.pop()
            side = int(round(np.sqrt(n)))
            if prefix in PIXEL_PREFIXES and side * side == n:
                return "image", f"{n} numeric columns {prefix}{start}..{prefix}{start + n - 1} name pixels: a {side}x{side} image", (side, side), None
            return "sequence", f"{n} numeric columns {prefix}{start}..{prefix}{start + n - 1} are indexed: an ordered sequence", None, n
    return "tabular", "columns are not one indexed numeric series: a table", None, None


def intrinsic_dimension(X: np.ndarray, variance: float = 0.9) -> int | None:
    """Number of principal components that explain `variance` of the standardised data."""
    if X.shape[0] < 3 or X.shape[1] == 0:
        return None
    X = X - X.mean(axis=0)
    std = X.std(axis=0)
    X = X[:, std > 0] / std[std > 0]
    if X.shape[1] == 0:
        return 0
    s = np.linalg.svd(X[:2000], compute_uv=False)
    ratio = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(ratio, variance) + 1)


def profile_frame(
    frame: pd.DataFrame,
    target: str | None = None,
    *,
    task: str | None = None,
    image_shape: tuple[int, ...] | None = None,
    sequence: bool = False,
    max_rows: int = PROFILE_SAMPLE_ROWS,
    seed: int = 0,
    named_columns: bool = True,
    total_rows: int | None = None,
) -> Profile:
    """Profile `frame`; statistics come from at most `max_rows` rows drawn with `seed`.

    `total_rows`: the size of the whole table when `frame` holds only the rows a run may learn
    from (the profile must not see the rows the ranking reports on); `n_rows` reports it.
    """
    n_rows = len(frame) if total_rows is None else int(total_rows)
    if target is not None and target not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise InputError(f"target column {target!r} not found (columns: {cols})")
    sample = frame if len(frame) <= max_rows else frame.sample(max_rows, random_state=seed)
    share = len(sample) / max(n_rows, 1)
    columns: list[ColumnProfile] = []
    warnings: list[str] = []
    for name in frame.columns:
        s = sample[name]
        kind, note = _column_kind(s, len(sample), share)
        col = ColumnProfile(
            name=str(name),
            kind=kind,
            dtype=str(frame[name].dtype),
            missing=round(float(s.isna().mean()), 4),
            unique=int(s.nunique()),
            note=note,
        )
        if name == target:
            col.role, col.note = "target", None
        elif kind in ("empty", "id", "text"):
            col.role = "ignored"
            warnings.append(f"column {name!r}: {note}")
        elif note:
            warnings.append(f"column {name!r}: {note}")
        with np.errstate(all="ignore"):  # extreme values: statistics may overflow to inf
            col.stats = _stats(s, kind)
        columns.append(col)
    features = [c for c in columns if c.role == "feature"]
    numeric = {c.name for c in features if c.kind in ("numeric", "boolean")}
    modality, reason, shape, seq_len = detect_modality([c.name for c in features], numeric, image_shape, sequence, named_columns)
    kinds: dict[str, int] = {}
    for c in features:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    feat_names = [c.name for c in features]
    profile = Profile(
        n_rows=n_rows,
        n_features=len(features),
        columns=columns,
        modality=modality,
        modality_reason=reason,
        image_shape=shape,
        sequence_length=seq_len,
        target=target,
        missing_share=round(float(sample[feat_names].isna().to_numpy().mean()), 4) if feat_names else 0.0,
        categorical_share=round(kinds.get("categorical", 0) / max(len(features), 1), 4),
        kinds=kinds,
        memory_mb=round(float(frame.memory_usage(deep=len(frame) <= max_rows).sum()) / 2**20 * n_rows / max(len(frame), 1), 2),
        sampled_rows=len(sample),
        warnings=warnings,
    )
    numeric_cols = [c for c in feat_names if c in numeric]
    if numeric_cols:
        values = sample[numeric_cols].apply(pd.to_numeric, errors="coerce").astype(float).to_numpy()
        values = values[~np.isnan(values).any(axis=1)]
        values = values[np.isfinite(values).all(axis=1)]
        with np.errstate(all="ignore"):
            profile.intrinsic_dim = intrinsic_dimension(values)
        if modality in ("image", "sequence") and image_shape is None and not sequence:
            warning = _order_not_shown(values, shape or (seq_len,), modality, numeric_cols)
            if warning:
                warnings.append(warning)
    if target is not None:
        _profile_target(profile, frame[target], task)
    return profile


def _order_not_shown(values: np.ndarray, shape: tuple[int, ...], modality: str, columns: list[str]) -> str | None:
    """A warning where column names alone made the data an image or a sequence and neighbouring
    columns are no more alike than random pairs (advisor.data.ordering)."""
    with np.errstate(all="ignore"):
        evidence = order_evidence(values, shape)
    if evidence is None or evidence[0] > evidence[1]:
        return None
    kind = "an image" if modality == "image" else "a sequence"
    return (f"columns {columns[0]}..{columns[-1]} are read as {kind} by their names, but neighbouring columns are no more "
            f"alike than columns paired at random (mean |r| {evidence[0]:.2f} against up to {evidence[1]:.2f}): "
            f"if the rows are a table, rename the columns so the families for tables apply")


def _stats(s: pd.Series, kind: str) -> dict:
    nonnull = s.dropna()
    if nonnull.empty:
        return {}
    if kind == "numeric":
        values = pd.to_numeric(nonnull, errors="coerce").astype(float)
        finite = values[np.isfinite(values)]
        out = {"n_inf": int((~np.isfinite(values)).sum())}
        if len(finite):
            out.update(
                min=float(finite.min()),
                max=float(finite.max()),
                mean=round(float(finite.mean()), 6),
                std=round(float(finite.std()), 6) if len(finite) > 1 else 0.0,
                integer=bool(np.all(finite == np.round(finite))),
            )
        return out
    if kind in ("categorical", "boolean"):
        top = nonnull.astype(str).value_counts().head(5)
        return {"top": {str(k): int(v) for k, v in top.items()}}
    return {}


def _profile_target(profile: Profile, y: pd.Series, task: str | None) -> None:
    nonnull = y.dropna()
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    n_unique = int(nonnull.nunique())
    # A label unless the task says otherwise; a generator's or detector's target may be either.
    if task == "regress" or (task != "classify" and numeric and n_unique > 20):
        profile.target_kind = "continuous"
        return
    counts = nonnull.astype(str).value_counts() if not numeric else nonnull.value_counts()
    profile.n_classes = n_unique
    profile.target_kind = "binary" if n_unique == 2 else "multiclass"
    profile.class_counts = {str(k): int(v) for k, v in counts.head(50).items()}
    if len(counts):
        profile.class_balance = round(float(counts.min() / counts.max()), 4)
