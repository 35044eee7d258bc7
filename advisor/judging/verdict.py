"""The verdict: each family's selection estimate with an interval, and the ties with the leader.

A family's fidelity for selection comes from out-of-fold predictions over the development rows
(advisor.judging.crossval) where they were made, and otherwise from its best model re-scored on the
validation rows. Either way the per-row parts are kept, bootstrap draws give the estimate a 90 %
interval, and a family is tied with the leader when it is behind by less than one standard
error of their difference (paired where they share rows): among tied families the other
criteria decide (the one-standard-error rule of Breiman et al., 1984). The 90 % interval of each
difference is reported beside it.

Classify and regress decisions are tuned here too, on those same held-out predictions: the
balanced-accuracy decision rule (advisor.model.decision.tune_balance) and the conformal half-width of
the 90 % interval, both carried into the returned model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sklearn.metrics import r2_score

from advisor.criteria import expected_calibration_error, interval_skill, log_loss_skill
from advisor.judging.bootstrap import fidelity_draws, interval, row_weights
from advisor.model.decision import balanced_accuracy, balanced_labels, conformal_quantile, tune_balance

LEVEL = 0.9
Z_LEVEL = 1.6448536269514722
MIN_DISCORDANT = 5  # fewer rows on which exactly one of two classifiers is right: always a tie


@dataclass
class Selection:
    """What the ranking compares for one family."""

    fidelity: float
    source: str  # how it was measured, for the JSON and the rationale
    rows: str  # "development" (out-of-fold) or "validation": estimates on the same rows are paired
    draws: np.ndarray | None = None
    se: float | None = None
    uncertainty: float | None = None
    metrics: dict = field(default_factory=dict)
    decision: tuple | None = None  # classify: (class shares, power) of the tuned rule
    conformal: tuple | None = None  # regress: (half-width, normalised)
    correct: np.ndarray | None = field(default=None, repr=False)  # classify: per row, right or wrong
    # The same family's search model on the validation rows: every family has these, so two
    # families judged on different rows can still be compared paired, on the rows they share.
    valid_draws: np.ndarray | None = field(default=None, repr=False)
    valid_correct: np.ndarray | None = field(default=None, repr=False)

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.draws is not None:
            return interval(self.draws, LEVEL)
        if self.se is not None:
            return (max(0.0, self.fidelity - Z_LEVEL * self.se), min(1.0, self.fidelity + Z_LEVEL * self.se))
        return None

    @property
    def spread(self) -> float | None:
        if self.draws is not None:
            return float(np.std(self.draws))
        return self.se


def from_out_of_fold(task: str, oof, seed: int) -> Selection:
    """Selection from out-of-fold predictions (classify or regress)."""
    source = f"{oof.folds}-fold cross-validation" + (f", {oof.repeats} repeats" if oof.repeats > 1 else "")
    parts = _prediction_parts(task, oof.y, oof.proba, oof.classes, oof.mean, oof.std)
    fold = oof.fold
    if task == "classify":
        # A class with a single row is predicted, out of fold, by models that never saw it: its
        # recall of 0 would say nothing of the family. Such rows stay in training only, as the
        # validation split keeps them (advisor.data.splits); every family drops the same rows.
        labels, counts = np.unique(parts["y"], return_counts=True)
        keep = np.isin(parts["y"], labels[counts >= 2])
        if not keep.all():
            parts = {**parts, "y": parts["y"][keep], "proba": None if parts["proba"] is None else np.asarray(parts["proba"])[keep]}
            fold = fold[keep]
    sel = _from_parts(task, parts, fold, weights_for(len(parts["y"]), seed), source, "development")
    sel.metrics["cv_seconds"] = round(oof.seconds, 3)
    return sel


def from_evaluation(task: str, evaluation, seed: int | None = 0) -> Selection:
    """Selection from a scoring on the validation rows (no cross-validation made); `seed` None
    leaves it without bootstrap draws."""
    parts = evaluation.parts or {}
    n = len(next(iter(parts.values()))) if parts else 0
    weights = weights_for(n, seed + 1) if seed is not None and n > 1 else None
    if task in ("classify", "regress") and parts:
        halves = np.random.default_rng(seed).permutation(len(parts["y"])) % 2
        return _from_parts(task, parts, halves, weights, "validation rows", "validation")
    draws = fidelity_draws(task, parts, weights) if weights is not None and parts else None
    se = evaluation.spread if draws is None else None
    return Selection(evaluation.fidelity, "validation rows", "validation", draws=draws, se=se,
                     uncertainty=evaluation.uncertainty, metrics=dict(evaluation.metrics))


def attach_validation(selection: Selection, task: str, evaluation, seed: int) -> Selection:
    """Give `selection` the bootstrap draws of the family's validation-row scoring (paired with
    every other family's on the same rows)."""
    parts = (evaluation.parts or {}) if evaluation is not None else {}
    if not parts:
        return selection
    n = len(next(iter(parts.values())))
    weights = weights_for(n, seed + 1) if n > 1 else None
    if weights is not None:
        selection.valid_draws = fidelity_draws(task, parts, weights)
    if task == "classify" and "pred" in parts:
        selection.valid_correct = np.asarray(parts["y"]).astype(str) == np.asarray(parts["pred"]).astype(str)
    return selection


def _prediction_parts(task, y, proba, classes, mean, std) -> dict:
    if task == "classify":
        return {"y": np.asarray(y).astype(str), "proba": proba, "classes": classes}
    return {"y": np.asarray(y, dtype=float), "mean": mean, "std": std}


def _from_parts(task: str, parts: dict, fold: np.ndarray, weights, source: str, rows: str) -> Selection:
    if task == "classify":
        return _classify(parts, weights, source, rows)
    return _regress(parts, fold, weights, source, rows)


def _classify(parts, weights, source, rows) -> Selection:
    y, proba, classes = parts["y"], parts.get("proba"), parts.get("classes")
    metrics = {}
    decision = None
    uncertainty = None
    if proba is not None:
        classes = np.asarray(classes).astype(str)
        power, shares, _ = tune_balance(proba, y, classes)
        pred = balanced_labels(proba, classes, shares, power)
        decision = (shares, power)
        uncertainty, loss, prior_loss = log_loss_skill(y, proba, classes)
        metrics.update(log_loss=round(loss, 6), log_loss_prior=round(prior_loss, 6),
                       ece=round(expected_calibration_error(y, proba, classes), 6), decision_power=power)
    else:
        pred = np.asarray(parts["pred"]).astype(str)
    fidelity = balanced_accuracy(y, pred)
    metrics.update(balanced_accuracy=round(fidelity, 6), accuracy=round(float(np.mean(y == pred)), 6))
    draws = fidelity_draws("classify", {"y": y, "pred": pred}, weights) if weights is not None else None
    return Selection(fidelity, source, rows, draws=draws, uncertainty=uncertainty, metrics=metrics, decision=decision,
                     correct=(y == pred))


def _regress(parts, fold, weights, source, rows) -> Selection:
    y, mean, std = parts["y"], np.asarray(parts["mean"], dtype=float), parts.get("std")
    fidelity = max(float(r2_score(y, mean)), 0.0)
    normalized = std is not None and np.all(np.asarray(std) > 0)
    scale = np.asarray(std, dtype=float) if normalized else np.ones_like(mean)
    scores = np.abs(y - mean) / scale
    # Cross-conformal: each row's interval comes from the residuals of the other folds.
    lower, upper = np.empty_like(mean), np.empty_like(mean)
    for f in np.unique(fold):
        inside = fold == f
        q = conformal_quantile(scores[~inside]) if np.any(~inside) else conformal_quantile(scores)
        lower[inside], upper[inside] = mean[inside] - q * scale[inside], mean[inside] + q * scale[inside]
    skill, score, base = interval_skill(y, lower, upper)
    half_width = conformal_quantile(scores)
    metrics = {"r2": round(fidelity, 6), "rmse": round(float(np.sqrt(np.mean((y - mean) ** 2))), 6),
               "coverage90": round(float(np.mean((y >= lower) & (y <= upper))), 4),
               "interval_score": round(score, 6), "interval_score_baseline": round(base, 6),
               "conformal": "normalised by the model's std" if normalized else "absolute residuals"}
    draws = fidelity_draws("regress", {"y": y, "mean": mean}, weights) if weights is not None else None
    return Selection(fidelity, source, rows, draws=draws, uncertainty=skill, metrics=metrics,
                     conformal=(half_width, bool(normalized)))


@dataclass
class Tie:
    leader: str
    difference: float
    interval: tuple[float, float]
    tied: bool
    basis: str = "unpaired"  # the rows the difference was measured on: development, validation or none shared


def compare(selections: dict[str, Selection]) -> tuple[str | None, dict[str, Tie]]:
    """The leader on fidelity, and each other family's difference to it with its interval."""
    if not selections:
        return None, {}
    leader = max(selections, key=lambda name: (selections[name].fidelity, name))
    lead = selections[leader]
    ties = {}
    for name, sel in selections.items():
        if name == leader:
            continue
        diff = sel.fidelity - lead.fidelity
        same_rows = sel.draws is not None and lead.draws is not None and sel.rows == lead.rows and len(sel.draws) == len(lead.draws)
        both_validated = sel.valid_draws is not None and lead.valid_draws is not None and len(sel.valid_draws) == len(lead.valid_draws)
        if same_rows:
            paired = sel.draws - lead.draws
            lo, hi = interval(paired, LEVEL)
            se, few, basis = float(np.std(paired)), _few_discordant(sel.correct, lead.correct), sel.rows
        elif both_validated:  # judged on different rows: compare them on the rows they share
            paired = sel.valid_draws - lead.valid_draws
            lo, hi = interval(paired, LEVEL)
            se, few, basis = float(np.std(paired)), _few_discordant(sel.valid_correct, lead.valid_correct), "validation"
        else:
            se = math.sqrt((sel.spread or 0.0) ** 2 + (lead.spread or 0.0) ** 2)
            lo, hi = diff - Z_LEVEL * se, diff + Z_LEVEL * se
            few, basis = False, "unpaired"
        # The one-standard-error rule: within one standard error of the leader is a tie.
        ties[name] = Tie(leader, diff, (lo, hi), bool(diff + se >= 0) or few, basis)
    # Among families compared with the leader on the same rows, one cannot be clearly behind it
    # while a family below it is within noise of it (paired intervals differ in width): there, the
    # tied group reaches down to its lowest member.
    for basis in {tie.basis for tie in ties.values()}:
        group = {name: tie for name, tie in ties.items() if tie.basis == basis}
        floor = min([lead.fidelity] + [selections[name].fidelity for name, tie in group.items() if tie.tied])
        for name, tie in group.items():
            tie.tied = tie.tied or selections[name].fidelity >= floor
    return leader, ties


def _few_discordant(correct: np.ndarray | None, lead_correct: np.ndarray | None) -> bool:
    """Whether two classifiers disagree on too few rows for either to be called better: with a
    handful of such rows, all one way, the bootstrap's spread is too small (a resample rarely
    leaves all of them out; McNemar, 1947, would not call it either)."""
    if correct is None or lead_correct is None or len(correct) != len(lead_correct):
        return False
    wins = int(np.sum(correct & ~lead_correct))
    losses = int(np.sum(~correct & lead_correct))
    return wins + losses < MIN_DISCORDANT


@lru_cache(maxsize=8)
def weights_for(n: int, seed: int) -> np.ndarray | None:
    """Bootstrap row weights for `n` rows: the same `n` and seed give the same draws, so every
    family scored on the same rows is compared on the same resamples (paired)."""
    return row_weights(n, seed=seed) if n > 1 else None
