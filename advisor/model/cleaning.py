"""The cleaning a run applies to the user's columns, as a fitted step of the returned model.

`advisor.data.preparation.prepare` decides, from the profile of the training rows, how each column is
read: dates become days since 1970, numbers stored as text become numbers, infinities become
missing, IDs, free text, empty and (for denoise) non-numeric columns are left out, and the
columns come in a fixed order. The families train on the result. `InputCleaner` records those
decisions and applies them again to any rows shaped like the user's input, so the returned
model (`AdvisorPipeline`: the cleaner, then the family's estimator) predicts, transforms and
samples on the same raw columns the user gave, from Python, from the CLI and after
`advisor.load`.
"""

from __future__ import annotations

import datetime
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from advisor.errors import InputError

EPOCH = pd.Timestamp(0)
SECONDS_PER_DAY = 86400.0


def as_days(values: pd.Series) -> pd.Series:
    """Dates (strings or datetimes, any time zone) as float days since 1970 (UTC); bad ones NaN."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_convert("UTC") if getattr(values.dt, "tz", None) is not None else values.dt.tz_localize("UTC")
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    return (parsed.dt.tz_convert(None) - EPOCH).dt.total_seconds() / SECONDS_PER_DAY


def as_numbers(values: pd.Series) -> pd.Series:
    """Numbers, also from text; text that is no number and infinities become missing."""
    numbers = pd.to_numeric(values, errors="coerce")
    if pd.api.types.is_float_dtype(numbers):
        numbers = numbers.replace([np.inf, -np.inf], np.nan)
    return numbers


class InputCleaner(TransformerMixin, BaseEstimator):
    """Turns rows shaped like the user's input into the columns the model trained on.

    Parameters:
        columns: `(name, kind)` pairs, in the order the model takes them; kind is one of the
            profile's column kinds (numeric, boolean, categorical, datetime).
        array_shape: the shape of one input row when the user gave an array (`(n_columns,)`
            for a table, `(H, W[, C])` for images), so outputs that are rows come back as
            arrays of that shape; None for DataFrames.
        constants: columns left out because they hold one value in every row, with that
            value: generated rows get them back.
    """

    def __init__(self, columns=(), array_shape=None, constants=None):
        self.columns = columns
        self.array_shape = array_shape
        self.constants = constants

    def fit(self, X, y=None):
        frame = self._as_frame(X, fitting=True)
        self.input_columns_ = [str(c) for c in frame.columns]
        self.n_features_in_ = len(self.input_columns_)
        self.date_forms_ = {}
        for name, kind in self.columns:
            if name not in frame.columns:
                raise InputError(f"column {name!r} is not in the data")
            if kind == "datetime":
                self.date_forms_[name] = _date_form(frame[name])
        return self

    def transform(self, X):
        check_is_fitted(self, "input_columns_")
        frame = self._as_frame(X)
        if len(frame) == 0:  # one message whichever family won, not each library's own
            raise InputError("no rows given: the model needs at least one row")
        needed = [name for name, _ in self.columns]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
            raise InputError(f"columns the model was trained on are missing: {', '.join(missing[:6])}{more}")
        out = {}
        for name, kind in self.columns:
            values = frame[name]
            if kind == "datetime":
                out[name] = as_days(values)
            elif kind == "numeric":
                out[name] = as_numbers(values)
            elif kind == "categorical" and not (pd.api.types.is_object_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)):
                out[name] = values.astype(object).where(values.notna(), np.nan)
            else:
                out[name] = values
        return pd.DataFrame(out, index=frame.index)

    def inverse_transform(self, Z):
        """Model-side rows (generated or denoised) back in the user's form: dates as dates, the
        user's column order, and an array of the input's row shape when the input was an array."""
        check_is_fitted(self, "input_columns_")
        names = [name for name, _ in self.columns]
        if isinstance(Z, pd.DataFrame):
            frame = Z.copy()
        else:
            values = np.asarray(Z)
            frame = pd.DataFrame(values.reshape(len(values), -1), columns=names)
        for name, form in self.date_forms_.items():
            if name in frame.columns:
                frame[name] = _from_days(frame[name], form)
        for name, value in (self.constants or {}).items():
            frame[name] = value
        order = [c for c in self.input_columns_ if c in frame.columns]
        frame = frame[order + [c for c in frame.columns if c not in order]]
        if self.array_shape is not None:
            return frame.to_numpy().reshape((len(frame),) + tuple(self.array_shape))
        return frame.reset_index(drop=True)

    def _as_frame(self, X, fitting: bool = False) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if all(isinstance(c, str) for c in X.columns):
                return X
            frame = X.copy(deep=False)  # names as training saw them: str() of each, tuples of a MultiIndex too
            frame.columns = [str(c) for c in X.columns]
            return frame
        values = np.asarray(X)
        if values.ndim == 1:
            values = values.reshape(1, -1) if not fitting else values.reshape(-1, 1)
        values = values.reshape(len(values), -1)
        names = self.input_columns_ if not fitting else self._array_names(values.shape[1])
        if values.shape[1] != len(names):
            model_names = [name for name, _ in self.columns]
            if values.shape[1] != len(model_names):
                raise InputError(f"rows have {values.shape[1]} values, but the model was trained on {len(names)} columns")
            names = model_names
        return pd.DataFrame(values, columns=names)

    def _array_names(self, width: int) -> list[str]:
        from advisor.data.tables import array_columns, pixel_columns

        if self.array_shape is not None and len(self.array_shape) > 1:
            return pixel_columns(width)
        return array_columns(width)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


def _date_form(values: pd.Series) -> str:
    """How dates were written: dates without a time, dates with one, or datetime64 values
    ("datetime64;UNIT;OFFSET": the finest unit they use, "D" or "s", and a time zone's offset
    from UTC in minutes, so that generated stamps come back in the same unit and zone)."""
    days = as_days(values).dropna()
    if not pd.api.types.is_datetime64_any_dtype(values):
        return "date" if len(days) and _whole(days) else "datetime"
    unit = "D" if len(days) and _whole(days) else "s" if len(days) and _whole(days * SECONDS_PER_DAY) else ""
    stamps = values.dropna()
    offset = ""
    if getattr(values.dt, "tz", None) is not None and len(stamps):
        offset = f"{int(stamps.iloc[0].utcoffset().total_seconds() // 60):+d}"
    return ";".join(("datetime64", unit, offset)).rstrip(";")


def _whole(values: pd.Series) -> bool:
    """Whether every value is a whole number (to a millionth: days since 1970 are about 2e4)."""
    return bool(np.all(np.abs(values - np.round(values)) < 1e-6))


def _from_days(days: pd.Series, form: str) -> pd.Series:
    numbers = pd.to_numeric(days, errors="coerce")
    stamps = EPOCH + pd.to_timedelta(numbers * SECONDS_PER_DAY, unit="s")
    if form.startswith("datetime64"):  # models saved before the unit and zone were kept: "datetime64" alone
        _, unit, offset = (form.split(";") + ["", ""])[:3]
        if unit:
            stamps = stamps.dt.round(unit)
        if offset:
            zone = datetime.timezone(datetime.timedelta(minutes=int(offset)))
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
        return stamps
    if form == "date":
        return stamps.dt.round("D").dt.strftime("%Y-%m-%d").where(numbers.notna(), None)
    return stamps.dt.round("s").dt.strftime("%Y-%m-%d %H:%M:%S").where(numbers.notna(), None)


class AdvisorPipeline(Pipeline):
    """The model a run returns: `InputCleaner` first, then the family's fitted estimator.

    A scikit-learn Pipeline, so `predict`, `predict_proba`, `predict(X, return_std=True)`,
    `predict_interval` (regress), `score_samples` and `transform` take the user's raw rows; `sample` (generate) hands the
    model's rows back through the cleaner's inverse, and `transform` of a denoiser returns rows
    in the input's form. A generator fitted on a table with its `target` column also draws rows
    for given target values (`sample(n, y=...)`, advisor.model.conditional).
    """

    def __init__(self, steps, *, task=None, target=None, transform_input=None, memory=None, verbose=False):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.task = task
        self.target = target

    @property
    def cleaner(self) -> InputCleaner:
        return self.steps[0][1]

    @property
    def model(self):
        return self.steps[-1][1]

    @available_if(lambda self: hasattr(self.steps[-1][1], "sample"))
    def sample(self, n, random_state=None, y=None):
        """`n` generated rows with the user's columns (dates as dates), or images as arrays.

        A generator fitted with a target column draws the target from its training rows'
        values and the rest of each row given it, so the target keeps its real distribution.
        `y`: the target's value for every row (one value), or one per row; a categorical target
        takes only values seen in training. See advisor.model.conditional.
        """
        from advisor.model.conditional import ConditioningError, draw_with_target, numeric_target, sample_given, wanted_values

        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise InputError(f"the number of rows to sample must be a whole number of at least 0, got {n!r}")
        values = getattr(self, "target_values_", None)  # models saved before conditioning lack it
        if n == 0:  # no rows: the model's own empty table, with every column (no value of y to check)
            return self.cleaner.inverse_transform(self.model.sample(0, random_state=random_state))
        if y is None and values is None:
            return self.cleaner.inverse_transform(self.model.sample(n, random_state=random_state))
        if values is None:
            raise ConditioningError("sampling for given y needs a generator fitted with a target column (--target COL)")
        if y is None:
            return self.cleaner.inverse_transform(draw_with_target(self.model, self.target, values, n, random_state))
        numeric = numeric_target(values)
        wanted = wanted_values(y, n, self.target, None if numeric else sorted(set(values), key=str))
        if numeric:
            lo, hi = float(np.min(values)), float(np.max(values))
            outside = [v for v in wanted if not lo <= v <= hi]
            if outside:
                warnings.warn(f"{self.target} = {outside[0]:g} lies outside its training values ({lo:g} to {hi:g}): "
                              "rows for it are extrapolated", UserWarning, stacklevel=2)
        return self.cleaner.inverse_transform(sample_given(self.model, self.target, wanted, numeric, random_state=random_state))

    @available_if(lambda self: hasattr(self.steps[-1][1], "predict_interval"))
    def predict_interval(self, X):
        """Bounds of the regressor's calibrated 90 % interval for the user's raw rows, (n, 2)."""
        return self.model.predict_interval(self.cleaner.transform(X))

    def transform(self, X, **params):
        out = super().transform(X, **params)
        if self.task == "denoise":
            return self.cleaner.inverse_transform(out)
        return out


def wrap(model, cleaner: InputCleaner, task: str, target: str | None = None, target_values=None) -> AdvisorPipeline:
    """The returned model: the fitted cleaner in front of the fitted family estimator. A generator
    whose table holds the `target` column keeps that column's training values (`target_values`,
    as the model's table holds them), to draw the target from and to check wanted values."""
    from advisor.model.conditional import kept_values

    pipeline = AdvisorPipeline([("clean", cleaner), ("model", model)], task=task, target=target)
    if target is not None and target_values is not None:
        pipeline.target_values_ = kept_values(target_values)
    return pipeline
