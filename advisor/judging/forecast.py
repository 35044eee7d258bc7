"""Where an under-trained family is heading: its fidelity at a larger budget, with an interval.

A family cut off by its deadline was scored on the validation rows at a few checkpoints of its
best training run (advisor.nn.training keeps the weights at epochs 1, 2, 4, 8, ... and the
judge scores them). Those points form a learning curve in the fidelity's own units against
training seconds, and the forecast extrapolates it to the training time a larger budget would
give.

The curve model is a power law that rises to an asymptote, f(t) = c - a t^-alpha, the shape
learning curves take over training time and data (Hestness et al., 2017; Domhan et al., 2015 use
it with others). Three or four noisy points cannot pin its asymptote down, and a least-squares
fit takes the flattest curve the points allow: fitted that way (with an exponential and a
log-power member beside it) the forecasts fell 6 points short of the longer runs on average,
mostly below them. So the fit is Bayesian instead: a flat prior on the asymptote c between the
lowest point and the fidelity's ceiling of 1, a log-uniform prior on the exponent alpha, the
scale a (at least 0: the curve does not fall) at its most likely value for each (c, alpha),
and a Gaussian likelihood with the fidelity's own measurement noise. The forecast is the median
of the posterior predictive at the larger training time; its 10 % and 90 % quantiles, with the
noise of the measurement that will check it added, are the models' interval. Curves that have
flattened keep the asymptotes near their last points likely, so "no further gain" is one of the
answers the posterior weighs, not a member added by hand. A power law gains less with every
doubling of training; checkpoints up to a stretch that gains more than the one before it are a
warm-up (a network still near its initial output) and are left out of the fit (`warm_up_end`);
a curve still speeding up at its end gets no forecast, and says so (`speeding_up`).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FACTOR = 5.0  # the larger budget, as a multiple of the run's
LEVEL = 0.8  # the interval's coverage
MIN_POINTS = 3
CALIBRATION_FILE = Path(__file__).with_name("forecast_calibration.json")


# The posterior is computed on a grid: asymptotes from the lowest point to the ceiling, exponents
# log-spaced over the range learning curves in seconds of training show (a slow 0.05 to a steep 3).
ASYMPTOTES = 101
EXPONENTS = np.geomspace(0.05, 3.0, 40)
NOISE_FLOOR = 0.01  # a measurement is never taken as exact: the curve need not pass through every point
CEILING = 1.0  # every fidelity is a score in [0, 1]


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
    training_s: float | None = None
    model_interval: tuple[float, float] | None = None  # before the conformal margin
    noise: float | None = None  # the standard error of one fidelity measurement the fit assumed
    speeding_up: bool = False  # no forecast: the curve was still in its warm-up at its last checkpoints

    def to_dict(self) -> dict:
        out = {"budget_s": round(self.budget_s, 1)}
        if self.training_s is not None:
            out["training_s"] = round(self.training_s, 1)
        if self.fidelity is None:
            out["reason"] = self.reason
            if self.speeding_up:
                out["speeding_up"] = True
            return out
        out.update(fidelity=round(self.fidelity, 4), interval=[round(self.interval[0], 4), round(self.interval[1], 4)])
        if self.model_interval is not None:
            out["model_interval"] = [round(self.model_interval[0], 4), round(self.model_interval[1], 4)]
        if self.noise is not None:
            out["noise"] = round(self.noise, 4)
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
    sigma = max(float(noise), NOISE_FLOOR)
    # The speed-up test reads the points with the noise the fit gives them: a bootstrap's standard
    # error near a ceiling (accuracy 0.998) is not a measurement without noise.
    start = warm_up_end(t, f, sigma)
    if len(t) - start < MIN_POINTS:
        target.speeding_up = True
        target.reason = (f"its curve was still speeding up until its last checkpoints (a warm-up, which a power law does not "
                         f"describe); a forecast needs {MIN_POINTS} checkpoints past it")
        return target
    t, f = t[start:], f[start:]
    scale = t[-1]
    x = t / scale  # the last checkpoint at 1: the curve is extrapolated to `reach`
    reach = factor if training_s is None else max(training_s / scale, 1.0)
    target.training_s = scale * reach
    from scipy.special import ndtr

    target.noise = sigma
    values, weights = power_law_posterior(x, f, sigma, reach)
    held = weights > 1e-9  # curves the points rule out carry no weight worth the arithmetic
    values, weights = values[held], weights[held] / weights[held].sum()
    centre = weighted_quantile(values, weights, 0.5)
    # The interval is for the measurement that will check the forecast: the posterior's spread
    # with that measurement's own noise added (a mixture of normals around the posterior's values).
    grid = np.linspace(-0.25, 1.25, 1501)  # steps of 0.001
    cdf = ndtr((grid[:, None] - values[None, :]) / sigma) @ weights
    tail = (1 - LEVEL) / 2
    lo, hi = float(grid[np.searchsorted(cdf, tail)]), float(grid[min(np.searchsorted(cdf, 1 - tail), len(grid) - 1)])
    margin = calibration()["widen"]
    target.fidelity = float(np.clip(centre, 0.0, 1.0))
    target.model_interval = (float(np.clip(lo, 0.0, 1.0)), float(np.clip(hi, 0.0, 1.0)))
    target.interval = (float(np.clip(lo - margin, 0.0, 1.0)), float(np.clip(hi + margin, 0.0, 1.0)))
    return target


def warm_up_end(t: np.ndarray, f: np.ndarray, sigma: float) -> int:
    """The index of the first checkpoint past the curve's warm-up.

    A power law's gain per doubling of training time, a t^-alpha (1 - 2^-alpha), shrinks with
    every doubling. Wherever a stretch of the curve gains more per doubling than the stretch
    before it, by more than one standard error of that difference (each checkpoint measured with
    noise `sigma`; a short stretch reads its gain less surely than a long one), the model was
    still finding its feet there (a network whose first epochs barely move off its initial output,
    a generator whose samples only start to take shape): the checkpoints up to that speed-up are
    left out of the fit, which they would otherwise bend towards a far-off asymptote. A curve
    still speeding up at its end leaves too few points to fit, and so no forecast.
    """
    doublings = np.log2(t[1:] / t[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        gains = np.where(doublings > 0, np.diff(f) / doublings, 0.0)  # two points at one time: no gain to read
        inverse = np.where(doublings > 0, 1.0 / doublings, np.inf)
    # gain[i+1] - gain[i] = f[i+2]/d[i+1] - f[i+1] (1/d[i+1] + 1/d[i]) + f[i]/d[i]
    before, after = inverse[:-1], inverse[1:]
    error = sigma * np.sqrt(after**2 + (after + before) ** 2 + before**2)
    speed_ups = np.flatnonzero(gains[1:] - gains[:-1] > error)
    return int(speed_ups[-1]) + 1 if len(speed_ups) else 0


def power_law_posterior(x: np.ndarray, f: np.ndarray, sigma: float, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """The fidelity at `reach` under each curve c - a x^-alpha of the grid, and each curve's
    posterior weight given the points (x, f) measured with noise `sigma`.

    The scale a is profiled out: for each (c, alpha) its least-squares value, at least 0.
    """
    c = np.linspace(max(min(float(f.min()), CEILING), 0.0), CEILING, ASYMPTOTES)[:, None, None]
    alpha = EXPONENTS[None, :, None]
    basis = x[None, None, :] ** -alpha  # (1, exponents, points)
    gap = c - f[None, None, :]  # how far each point lies below the asymptote
    a = np.clip((basis * gap).sum(axis=-1) / (basis * basis).sum(axis=-1), 0.0, None)  # (asymptotes, exponents)
    rss = ((gap - a[..., None] * basis) ** 2).sum(axis=-1)
    values = (c[..., 0] - a * reach ** -alpha[..., 0]).ravel()
    log_w = (-rss / (2 * sigma**2)).ravel()
    weights = np.exp(log_w - log_w.max())
    return np.clip(values, 0.0, CEILING), weights / weights.sum()


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cumulative, q), len(values) - 1)])


def settle_budget(curves: dict, flat: dict, budget_s: float, factors=(1.0, 2.0, 5.0, 10.0, 20.0)) -> dict:
    """The budget at which the ranking on fidelity is expected to stop changing.

    `curves` maps each family cut off by its deadline to (checkpoint seconds, fidelities, noise)
    and, optionally, a function from a budget to the training seconds the family gets alone
    within it (`lone_training_seconds`); `flat` maps the others to their fidelity (their
    training ended on its own, so more budget buys them trials, not training). The proposal is
    the smallest multiple of `budget_s` from which the forecast leader no longer changes up to
    the largest multiple tried.
    """
    leaders, speeding = [], set()
    for factor in factors:
        values = dict(flat)
        for name, (seconds, fidelity, noise, *lone) in curves.items():
            if factor == 1.0:
                values[name] = fidelity[-1]
                continue
            training_s = lone[0](factor * budget_s) if lone else None
            fc = forecast(seconds, fidelity, noise=noise, factor=factor, budget_s=budget_s, training_s=training_s)
            values[name] = fc.fidelity if fc.fidelity is not None else fidelity[-1]
            if fc.speeding_up:
                speeding.add(name)
        leaders.append(max(values, key=lambda n: (values[n], n)) if values else None)
    settle = len(factors) - 1
    while settle > 0 and leaders[settle - 1] == leaders[-1]:
        settle -= 1
    proposed = budget_s * factors[settle]
    if settle == 0:
        reason = f"the forecasts do not change the fidelity leader ({leaders[0]}): {budget_s:.0f} s is enough"
    else:
        reason = (f"{leaders[-1]}, given that budget on its own, is forecast to lead on fidelity from about {proposed:.0f} s on (at {budget_s:.0f} s {leaders[0]} leads); "
                  f"forecasts beyond {FACTOR:g}x the budget rest on a longer extrapolation")
    if speeding:  # taken at their last value above, which they were still leaving fast
        reason += (f"; {', '.join(sorted(speeding))} {'was' if len(speeding) == 1 else 'were'} still speeding up when cut off, "
                   f"so where {'it ends' if len(speeding) == 1 else 'they end'} is not known and may change this")
    return {"proposed_budget_s": round(proposed), "leader_then": leaders[-1], "reason": reason}
