"""Where an under-trained family is heading: its fidelity at a larger budget, with an interval.

A family cut off by its deadline was scored on the validation rows at a few checkpoints of its
best training run (advisor.nn.training keeps the weights at epochs 1, 2, 4, 8, ... and the
judge scores them). Those points form a learning curve in the fidelity's own units against
training seconds. A small ensemble of parametric learning-curve models (power law, exponential
and log-power, after Domhan et al., 2015) is fitted to it by least squares and extrapolated to
the training time a larger budget would give; the ensemble's spread, widened by the noise of
the fidelity measurement itself, is the models' interval. A "no further gain" member keeps the
forecast honest where the curve has flattened.

The models' interval knows only the curve of one short training run; the run it forecasts is
another search (other configurations, longer training, its own measurement), so it is widened
on each side by a split-conformal margin (`conformal_widening`) learned from the benchmark's own
forecasts against the value the longer run measured (benchmarks/build_forecast_calibration.py
writes `forecast_calibration.json`): with cases exchangeable, the widened interval holds the
measured value with probability at least LEVEL.

The larger budget is the family's own: the forecast answers "what would this family reach if it
were run alone with FACTOR times the budget" (`advisor recommend ... --families NAME --budget
N`), which is what a practitioner runs to check a challenger. Alone, a family's first training
run gets the whole search time less the room kept for scoring it (the scheduler's rule,
`lone_training_seconds`), not FACTOR times the few seconds it got while sharing the budget.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FACTOR = 5.0  # the larger budget, as a multiple of the run's
LEVEL = 0.8  # the interval's coverage
Z80 = 1.2815515655446004  # two-sided 80 % normal quantile
MIN_POINTS = 3
CALIBRATION_FILE = Path(__file__).with_name("forecast_calibration.json")


def _pow3(t, c, a, alpha):
    return c - a * np.power(t, -alpha)


def _exp3(t, c, a, b):
    return c - a * np.exp(-b * t)


def _logpower(t, c, a, b):
    return c / (1.0 + np.power(t / np.exp(b), -a))


# (name, function, initial guess from the last value f1 and the first f0, bounds)
MODELS = (
    ("power law", _pow3, lambda f0, f1: (f1, max(f1 - f0, 1e-3), 0.5), ([0.0, 0.0, 0.01], [1.5, 10.0, 5.0])),
    ("exponential", _exp3, lambda f0, f1: (f1, max(f1 - f0, 1e-3), 1.0), ([0.0, 0.0, 0.01], [1.5, 10.0, 50.0])),
    ("log-power", _logpower, lambda f0, f1: (max(f1, 1e-3), 1.0, -1.0), ([1e-6, 0.01, -10.0], [1.5, 20.0, 5.0])),
)


def lone_training_seconds(budget_s: float, overhead_s: float, scoring_ratio: float) -> float:
    """Training seconds a family's first run gets when it is searched alone within `budget_s`.

    The search's time is the budget less the run's fixed overhead (reading, profiling; measured
    in the run at hand), and a first trial gets the part of it that leaves room for scoring it on
    validation rows and test rows: 1 / (1 + 2 x the scoring-to-fit ratio, kept in [0.25, 1]), as
    advisor.search.scheduler plans it.
    """
    ratio = min(max(scoring_ratio, 0.25), 1.0)
    return max(budget_s - overhead_s, 0.0) / (1 + 2 * ratio)


def outside_distance(interval, value: float) -> float:
    """How far `value` lies outside `interval` (0 inside): the conformal score of one forecast."""
    lo, hi = interval
    return max(lo - value, value - hi, 0.0)


def conformal_widening(distances, level: float = LEVEL) -> float:
    """The margin that, added to each side of every models' interval, would have held `level`
    of the measured values: the ceil((n + 1) x level)-th smallest of the `distances` by which
    they fell outside (split-conformal prediction; with fewer pairs than that needs, the
    largest seen)."""
    d = np.sort(np.asarray(list(distances), dtype=float))
    if len(d) == 0:
        return 0.0
    k = min(math.ceil((len(d) + 1) * level), len(d))
    return float(d[k - 1])


@functools.cache
def calibration() -> dict:
    """The margin learned from the benchmark (`widen`, in fidelity units) and what it rests on;
    none where the file is missing or unreadable."""
    try:
        doc = json.loads(CALIBRATION_FILE.read_text("utf-8"))
        return {**doc, "widen": max(float(doc.get("widen", 0.0)), 0.0)}
    except (OSError, ValueError, TypeError):
        return {"widen": 0.0, "pairs": 0}


@dataclass
class Forecast:
    """The fidelity expected with `budget_s` (the run's budget times FACTOR) for the family alone,
    from one training run of `training_s` seconds, or why there is none."""

    budget_s: float
    fidelity: float | None = None
    interval: tuple[float, float] | None = None
    reason: str | None = None
    models: dict | None = None
    training_s: float | None = None
    model_interval: tuple[float, float] | None = None  # before the conformal margin

    def to_dict(self) -> dict:
        out = {"budget_s": round(self.budget_s, 1)}
        if self.training_s is not None:
            out["training_s"] = round(self.training_s, 1)
        if self.fidelity is None:
            out["reason"] = self.reason
            return out
        out.update(fidelity=round(self.fidelity, 4), interval=[round(self.interval[0], 4), round(self.interval[1], 4)])
        if self.model_interval is not None:
            out["model_interval"] = [round(self.model_interval[0], 4), round(self.model_interval[1], 4)]
        if self.models:
            out["models"] = {k: round(v, 4) for k, v in self.models.items()}
        return out


def forecast(seconds, fidelity, *, noise: float = 0.0, factor: float = FACTOR, budget_s: float = 0.0,
             training_s: float | None = None) -> Forecast:
    """Forecast the fidelity after `training_s` seconds of training (by default `factor` times
    the last checkpoint's), for the family alone with `factor` times `budget_s`.

    `seconds` and `fidelity` are the learning curve (checkpoints in training order); `noise` is
    the standard error of one fidelity measurement.
    """
    t = np.asarray(seconds, dtype=float)
    f = np.asarray(fidelity, dtype=float)
    keep = np.isfinite(t) & np.isfinite(f) & (t > 0)
    t, f = t[keep], f[keep]
    target = Forecast(budget_s=budget_s * factor)
    if len(t) < MIN_POINTS:
        target.reason = f"only {len(t)} checkpoint(s) of its training were scored; a forecast needs {MIN_POINTS}"
        return target
    scale = t[-1]
    x = t / scale  # the last checkpoint at 1: the models extrapolate to `reach`
    reach = factor if training_s is None else max(training_s / scale, 1.0)
    target.training_s = scale * reach
    predictions = {"no further gain": float(f[-1])}
    residuals = []
    for name, fn, guess, bounds in MODELS:
        value, spread = _fit(fn, x, f, guess(float(f[0]), float(f[-1])), bounds, reach)
        if value is not None:
            predictions[name] = value
            residuals.append(spread)
    values = np.clip(np.array(list(predictions.values())), 0.0, 1.0)
    centre = float(np.median(values))
    # The interval: the models' disagreement, widened by what a single measurement can be off by
    # (the fidelity at the larger budget will be measured with the same noise) and by how far
    # the curves missed their own checkpoints.
    fit_error = float(np.sqrt(np.mean(np.square(residuals)))) if residuals else 0.0
    widen = Z80 * math.sqrt(noise**2 + fit_error**2)
    lo, hi = float(values.min()) - widen, float(values.max()) + widen
    margin = calibration()["widen"]
    target.fidelity = float(np.clip(centre, 0.0, 1.0))
    target.model_interval = (float(np.clip(lo, 0.0, 1.0)), float(np.clip(hi, 0.0, 1.0)))
    target.interval = (float(np.clip(lo - margin, 0.0, 1.0)), float(np.clip(hi + margin, 0.0, 1.0)))
    target.models = predictions
    return target


def _fit(fn, x, f, guess, bounds, factor) -> tuple[float | None, float]:
    from scipy.optimize import curve_fit

    lower, upper = bounds
    p0 = np.clip(np.asarray(guess, dtype=float), np.asarray(lower) + 1e-9, np.asarray(upper) - 1e-9)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(fn, x, f, p0=p0, bounds=(lower, upper), maxfev=2000)
    except (RuntimeError, ValueError):
        return None, 0.0
    value = float(fn(np.array([factor]), *params)[0])
    if not math.isfinite(value):
        return None, 0.0
    spread = float(np.sqrt(np.mean((fn(x, *params) - f) ** 2)))
    return value, spread


def settle_budget(curves: dict, flat: dict, budget_s: float, factors=(1.0, 2.0, 5.0, 10.0, 20.0)) -> dict:
    """The budget at which the ranking on fidelity is expected to stop changing.

    `curves` maps each family cut off by its deadline to (checkpoint seconds, fidelities, noise)
    and, optionally, a function from a budget to the training seconds the family gets alone
    within it (`lone_training_seconds`); `flat` maps the others to their fidelity (their
    training ended on its own, so more budget buys them trials, not training). The proposal is
    the smallest multiple of `budget_s` from which the forecast leader no longer changes up to
    the largest multiple tried.
    """
    leaders = []
    for factor in factors:
        values = dict(flat)
        for name, (seconds, fidelity, noise, *lone) in curves.items():
            if factor == 1.0:
                values[name] = fidelity[-1]
                continue
            training_s = lone[0](factor * budget_s) if lone else None
            fc = forecast(seconds, fidelity, noise=noise, factor=factor, budget_s=budget_s, training_s=training_s)
            values[name] = fc.fidelity if fc.fidelity is not None else fidelity[-1]
        leaders.append(max(values, key=lambda n: (values[n], n)) if values else None)
    settle = len(factors) - 1
    while settle > 0 and leaders[settle - 1] == leaders[-1]:
        settle -= 1
    proposed = budget_s * factors[settle]
    if settle == 0:
        reason = f"the forecasts do not change the leader ({leaders[0]}): {budget_s:.0f} s is enough"
    else:
        reason = (f"{leaders[-1]}, given that budget on its own, is forecast to lead from about {proposed:.0f} s on (at {budget_s:.0f} s {leaders[0]} leads); "
                  f"forecasts beyond {FACTOR:g}x the budget rest on a longer extrapolation")
    return {"proposed_budget_s": round(proposed), "leader_then": leaders[-1], "reason": reason}
