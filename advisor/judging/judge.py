"""Running the verdict after the search: which families are cross-validated, in what time.

The leading families (those within reach of the best validation fidelity, the likely winner
first) get out-of-fold estimates over the development rows when the data has fewer than
`MAX_CV_ROWS` of them and their folds fit in the time the search left for it; every other family
is judged on the validation rows, re-scored afresh where that is cheap. The result is one
`advisor.judging.verdict.Selection` per family (`run.selection`).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from advisor.criteria import EvalContext, evaluate
from advisor.judging.crossval import FOLDS, MAX_CV_ROWS, cross_validate
from advisor.judging.curves import budget_limited
from advisor.judging.verdict import Selection, attach_validation, from_evaluation, from_out_of_fold
from advisor.runtime.measure import thread_limit
from advisor.runtime.watchdog import TrialTimeout, watchdog

PREDICTION_TASKS = ("classify", "regress")
RESCORED_TASKS = ("generate", "detect", "denoise", "embed")
CV_BUDGET_SHARE = 0.1  # repeats are added while one family's folds cost less than this share
REPEATABLE_REPEATS = 2  # repeats of a repeatable run (--max-trials): a count, not what the clock allows
FORECAST_SHARE = 0.15  # at most this share of the budget goes to scoring checkpoints
MAX_CHECKPOINTS = 3  # earlier checkpoints scored besides the last one


def reach(n_valid: int) -> float:
    """How far behind the best validation fidelity a family may be and still be cross-validated:
    three standard errors of a proportion measured on the validation rows, at least 0.03."""
    return max(0.03, 1.5 / math.sqrt(max(n_valid, 1)))


def candidates(runs, n_valid: int) -> list:
    ok = [r for r in runs if r.best_estimator is not None]
    if not ok:
        return []
    best = max(r.best_value for r in ok)
    return [r for r in ok if r.best_value >= best - reach(n_valid)]


def fold_seconds(run, n_dev: int, folds: int = FOLDS) -> float:
    """A fold's training time: the best trial's fit time scaled to the fold's rows, with room."""
    rows = n_dev * (folds - 1) / folds
    scale = max(rows / max(run.fit_rows, 1), 1.0) ** (run.growth_exponent or 1.0)
    return max(1.5 * (run.fit_seconds or 0.0) * scale, 0.5) + 2 * run.eval_seconds / max(folds, 1)


def cv_applies(task: str, n_dev: int) -> bool:
    return task in PREDICTION_TASKS and 2 * FOLDS <= n_dev <= MAX_CV_ROWS


def planned_seconds(runs, task: str, n_dev: int, n_valid: int, budget_s: float, cap: float = math.inf) -> float:
    """What the verdict is expected to take: folds of the candidates, re-scoring of the others,
    and scoring the checkpoints of runs cut by their deadline for the forecast (one chunk each,
    checkpoint_context; no more than the forecast's share of the budget).

    `cap` is the most the search keeps for the verdict: a candidate whose one round of folds
    costs more will not be cross-validated (the verdict starts a round only where it fits) and
    is judged on its validation rows at no extra cost, so keeping time for its folds would only
    end the search early for nothing."""
    checkpoints = sum(MAX_CHECKPOINTS * r.eval_seconds for r in runs if r.best_estimator is not None and budget_limited(r.best_curve))
    checkpoints = min(checkpoints, FORECAST_SHARE * budget_s)
    if cv_applies(task, n_dev):
        rounds = [FOLDS * fold_seconds(r, n_dev) for r in candidates(runs, n_valid)]
        return checkpoints + sum(s for s in rounds if s <= cap)
    if task in RESCORED_TASKS:
        chunks = 2 if task == "generate" else 1
        return checkpoints + sum(chunks * r.eval_seconds for r in candidates(runs, n_valid))
    return checkpoints


def judge(search, dataset, config, stop_at: float, budget_s: float) -> None:
    """Give every scored family of `search` its `selection`, leaders first, by `stop_at`."""
    task = config.task
    splits = dataset.splits
    development = splits.development
    X_dev = dataset.X.iloc[development].reset_index(drop=True)
    y_dev = None if dataset.y is None else dataset.y.iloc[development].reset_index(drop=True)
    ok = [r for r in search.runs if r.status == "ok" and r.best_estimator is not None]
    leader = search.likely_winner(ok)
    order = sorted(ok, key=lambda r: (r is not leader, -r.best_value, r.name))
    in_reach = {r.name for r in candidates(ok, len(search.X_valid))}
    use_cv = cv_applies(task, len(development))
    ctx = EvalContext(task=task, seed=config.seed + 2, noise_std=config.noise_std, image_shape=dataset.profile.image_shape,
                      modality=dataset.profile.modality, labels=search.labels_valid, train_X=search.X_train, train_y=search.y_train,
                      c2st_chunks=2 if task == "generate" else 1, target=dataset.conditioned_on, ml_efficiency=True)
    rescored = set()
    for run in order:
        selection = None
        if use_cv and run.name in in_reach:
            selection = _cross_validated(run, X_dev, y_dev, task, config, stop_at, budget_s, len(development))
        if selection is None and task in RESCORED_TASKS and run.name in in_reach:
            selection = _rescored(run, search, task, ctx, stop_at, config.seed)
            if selection is not None:
                rescored.add(run.name)
        if selection is None and run.best_eval is not None:
            selection = from_evaluation(task, run.best_eval, config.seed)
        run.selection = None if selection is None else attach_validation(selection, task, run.best_eval, config.seed)
    _forecast_cut_families(order, search, config, ctx, stop_at, budget_s, rescored)


def _cross_validated(run, X_dev, y_dev, task, config, stop_at, budget_s, n_dev) -> Selection | None:
    per_fold = fold_seconds(run, n_dev)
    one_repeat = FOLDS * per_fold
    if time.monotonic() + one_repeat > stop_at:
        return None
    if config.max_trials is not None:  # a repeatable run: the machine's speed must not pick the repeats (and the decision rule)
        repeats = REPEATABLE_REPEATS
    else:
        repeats = 3 if 3 * one_repeat < CV_BUDGET_SHARE * budget_s else 2 if 2 * one_repeat < CV_BUDGET_SHARE * budget_s else 1
    oof = cross_validate(run, X_dev, y_dev, task, seed=config.seed, device=config.device, fold_seconds=per_fold,
                         stop_at=stop_at, repeats=repeats, repeatable=config.max_trials is not None)
    return None if oof is None else from_out_of_fold(task, oof, config.seed)


def _rescored(run, search, task, ctx, stop_at, seed) -> Selection | None:
    """The best model scored again on the validation rows with fresh noise, anomalies or samples
    (and more synthetic rows): the search's own score is the best of many draws, so it flatters."""
    chunks = ctx.c2st_chunks if task == "generate" else 1
    expected = max(run.eval_seconds * chunks, 0.05)
    left = stop_at - time.monotonic()
    if expected > left:
        return None
    try:
        with watchdog(min(left, 3 * expected + 1.0), f"re-scoring {run.name}"), thread_limit(len(search.X_train)):
            evaluation = evaluate(task, run.best_estimator, search.X_valid, search.y_valid, ctx)
    except (TrialTimeout, Exception):  # noqa: BLE001 - keep the search's own score
        return None
    return from_evaluation(task, evaluation, seed)


def decided(estimator, selection: Selection | None, task: str):
    """The estimator with the rule the verdict tuned: a balanced-accuracy decision (classify) or
    a conformal 90 % interval (regress); other tasks unchanged."""
    from advisor.model.decision import BalancedDecision, ConformalRegressor

    if selection is None:
        return estimator
    if task == "classify" and selection.decision is not None:
        shares, power = selection.decision
        return BalancedDecision.around(estimator, np.asarray(shares, dtype=float), power)
    if task == "regress" and selection.conformal is not None and np.isfinite(selection.conformal[0]):
        half_width, normalized = selection.conformal
        return ConformalRegressor.around(estimator, half_width, normalized)
    return estimator


def selection_protocol(task: str, splits, runs) -> dict:
    """How the families were compared, for the JSON document."""
    development = len(splits.development)
    by = {r.name: r.selection.source for r in runs if getattr(r, "selection", None) is not None}
    return {
        "compared_on": "out-of-fold predictions over the development rows where cross-validated, else the validation rows; "
                       "the test rows only report",
        "cross_validation": cv_applies(task, development),
        "folds": FOLDS,
        "rows": {"development": development, "validation": len(splits.valid), "test": len(splits.test)},
        "interval": "90% paired bootstrap over rows (400 draws); chunk and fold spread where a score does not split into rows",
        "ties": "a family behind the fidelity leader by less than one standard error of their difference (paired where "
                "they share rows) is tied with it, the one-standard-error rule; the difference's 90% interval is reported beside it; "
                "tied families enter the score with the leader's fidelity, so the other criteria decide",
        "per_family": by,
    }


def _forecast_cut_families(runs, search, config, ctx, stop_at: float, budget_s: float, rescored=frozenset()) -> None:
    """For each family whose best training run was cut by its deadline, score that run's weights
    at its checkpoints on the validation rows (the learning curve in fidelity units) and forecast
    the fidelity the family would reach alone with FACTOR times the budget (advisor.judging.forecast);
    others get the reason there is none."""
    from advisor.judging.forecast import FACTOR, Forecast, forecast

    allowance = time.monotonic() + FORECAST_SHARE * budget_s
    # The allowance may not reach every family. Whether a challenger would overtake the fidelity
    # leader with more time is what can change the advice, so the challengers are scored first,
    # nearest the top first, and the leader (whose forecast only says how far it would go) last.
    ranked = sorted(runs, key=_standing)
    for run in ranked[1:] + ranked[:1]:
        curve = run.best_curve
        if curve is None:
            run.forecast = Forecast(budget_s * FACTOR, reason="no learning curve: the family does not train iteratively")
            continue
        if not budget_limited(curve):
            run.forecast = Forecast(budget_s * FACTOR, reason=f"training ended on its own ({curve.get('stopped_by')}): more time buys trials, not training")
            continue
        # The last point of the curve was measured by the verdict where it re-scored the run,
        # else by the search: the checkpoints are scored the same way.
        measured_with = ctx if run.name in rescored or search is None else search.valid_ctx
        scoring = checkpoint_context(measured_with)
        points = _checkpoint_fidelity(run, search, config.task, scoring, min(stop_at, allowance))
        curve["checkpoints"] = [[round(t, 3), round(f, 5)] for t, f in points]
        noise = run.selection.spread if run.selection is not None and run.selection.spread is not None else 0.0
        run.forecast = forecast([t for t, _ in points], [f for _, f in points], noise=noise, budget_s=budget_s,
                                training_s=lone_training(run, search, budget_s)(FACTOR * budget_s))


def lone_training(run, search, budget_s: float):
    """A function from a budget to the seconds this family's training run would get were it
    searched alone within it (advisor.judging.forecast.lone_training_seconds), with this run's
    fixed overhead (the time before its search began) and the family's scoring-to-fit ratio."""
    from advisor.judging.forecast import lone_training_seconds

    overhead = max(budget_s - (search.end - search.start), 0.0) if search is not None else 0.0
    ratio = (run.eval_seconds or 0.0) / max(run.fit_seconds or 0.0, 0.05)
    return lambda budget: lone_training_seconds(budget, overhead, ratio)


def checkpoint_context(measured_with):
    """How a checkpoint is scored, given the context the curve's last point was measured with:
    as many generated rows as real ones in one chunk, not two chunks of at least 500 (sampling
    dominates a deep generator's scoring; the C2ST uses one chunk's worth and the memorisation
    share is a mean over rows, so neither is biased), with that context's classifier folds, so
    every point is the same estimate; no ML-efficiency fits (they are not the fidelity)."""
    if measured_with is None or measured_with.task != "generate":
        return measured_with
    return dataclasses.replace(measured_with, c2st_chunks=1, c2st_folds=measured_with.c2st_fold_count(), min_synthetic=0,
                               ml_efficiency=False)


def _standing(run) -> tuple:
    """Sort key: the highest selection fidelity first, families without one last."""
    fidelity = run.selection.fidelity if run.selection is not None else None
    return (fidelity is None, -(fidelity or 0.0), run.name)


def _checkpoint_fidelity(run, search, task: str, ctx, stop_at: float) -> list[tuple[float, float]]:
    """(training seconds, validation fidelity) at the run's checkpoints: the last one is the
    selection's own estimate, earlier ones are scored the same way with the weights of that
    epoch, while time allows."""
    history = run.best_curve.get("history")
    last = run.selection.fidelity if run.selection is not None else run.best_value
    final = [(run.best_curve["seconds"][-1], last)] if run.best_curve.get("seconds") else []
    if history is None or history.module is None or not history.snapshots:
        return final
    module = history.module
    current = {k: v.detach().clone() for k, v in module.state_dict().items()}
    points = []
    try:
        for epoch, seconds, weights in history.snapshots[-(MAX_CHECKPOINTS + 1):-1]:
            if time.monotonic() + 1.5 * run.eval_seconds > stop_at:
                break
            module.load_state_dict(weights)
            try:
                with watchdog(max(stop_at - time.monotonic(), 0.1), f"scoring a checkpoint of {run.name}"), thread_limit(len(search.X_train)):
                    evaluation = evaluate(task, run.best_estimator, search.X_valid, search.y_valid, ctx)
            except (TrialTimeout, Exception):  # noqa: BLE001 - a checkpoint that cannot be scored is left out
                continue
            points.append((seconds, evaluation.fidelity))
    finally:
        module.load_state_dict(current)
    return points + final


def budget_advice(runs, budget_s: float, search=None) -> dict | None:
    """The budget at which the ranking on fidelity is expected to settle (advisor.judging.forecast)."""
    from advisor.judging.forecast import MIN_POINTS, settle_budget

    curves, flat = {}, {}
    for run in runs:
        if run.status != "ok" or run.selection is None:
            continue
        points = (run.best_curve or {}).get("checkpoints") or []
        if budget_limited(run.best_curve) and len(points) >= MIN_POINTS:
            curves[run.name] = ([t for t, _ in points], [f for _, f in points], run.selection.spread or 0.0,
                                lone_training(run, search, budget_s))
        else:
            flat[run.name] = run.selection.fidelity
    if not curves and not flat:
        return None
    return settle_budget(curves, flat, budget_s)
