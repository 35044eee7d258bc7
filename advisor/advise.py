"""`advisor.recommend`: read, profile, search, score, rank, refit — inside one time budget."""

from __future__ import annotations

import math
import time
import warnings as pywarnings
from numbers import Integral
from typing import Any

from advisor.criteria import EvalContext, evaluate
from advisor.data.preparation import check_task, prepare
from advisor.data.tables import read_table
from advisor.errors import InputError
from advisor.families.discovery import discover
from advisor.families.selection import parse_shape as _parse_shape
from advisor.families.selection import profile  # noqa: F401 - public as advisor.profile
from advisor.families.selection import select as _select
from advisor.families.selection import supports as _supports
from advisor.judging.judge import budget_advice, decided, judge, selection_protocol
from advisor.judging.prior_advice import compare, guidance_enabled, prior_recommendation, prior_scores
from advisor.judging.ranking import parse_weights, pareto_front, rationale, score_runs
from advisor.model.cleaning import wrap
from advisor.nn.device import parse_device, resolve_device
from advisor.result import Recommendation, versions
from advisor.runtime import budget as budget_ctx
from advisor.runtime.measure import measured, thread_limit
from advisor.runtime.phases import PhaseClock
from advisor.runtime.quiet import optuna_warnings_only
from advisor.search import FamilyRun, Search, SearchConfig, configure_estimator, fit_estimator

DEFAULT_BUDGET_S = 60.0
DEFAULT_NOISE_STD = 0.2
FINAL_MARGIN_S = 0.3
# Of the slack the budget rule allows past the budget (max(5 s, 10 %)), the work after the search
# (scoring, previews, refit) may use this share; the rest is left for writing the outputs.
AFTER_SEARCH_SLACK = 0.3


def allowed_overrun(budget_s: float) -> float:
    """The budget rule: a run may end at most this many seconds after its budget."""
    return max(5.0, 0.1 * budget_s)


def hard_stop(finish_by: float, budget_s: float) -> float:
    """When a fit after the search (refit, baseline) is stopped: half the slack left past `finish_by`."""
    return finish_by + 0.5 * (1 - AFTER_SEARCH_SLACK) * allowed_overrun(budget_s)


@optuna_warnings_only()
def recommend(
    data: Any,
    task: str,
    *,
    target: Any = None,
    budget: float = DEFAULT_BUDGET_S,
    weights: str | dict | None = None,
    prefer: str | None = None,
    families=None,
    exclude=None,
    seed: int = 0,
    storage=None,
    study: str | None = None,
    image_shape=None,
    sequence: bool = False,
    noise_std: float | None = None,
    device: str = "auto",
    max_trials: int | None = None,
    progress=None,
    start_time: float | None = None,
    extra_plugins: tuple[str, ...] = (),
) -> Recommendation:
    """Recommend a model family for `data` and `task`, and return the winner fitted on all rows.

    `data` is a path (CSV, Parquet, .npz), a DataFrame, an array, or an `(X, y)` pair. The
    whole call, the final refit included, stays within `budget` seconds (plus a small margin).
    """
    t0 = start_time if start_time is not None else time.monotonic()
    check_task(task)
    auto_budget = isinstance(budget, str) and budget.strip().lower() == "auto"
    if auto_budget:
        budget = DEFAULT_BUDGET_S
    if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget == 0:
        return prior_recommendation(data, task, target=target, weights=weights, prefer=prefer, families=families, exclude=exclude,
                                    image_shape=image_shape, sequence=sequence, seed=seed, start_time=t0, extra_plugins=extra_plugins)
    if not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        raise InputError(f"--budget must be a positive number of seconds, got {budget!r}")
    device = parse_device(device)
    if device != "auto" and device != "cpu":
        device = resolve_device(device)
    noise_given = noise_std is not None
    noise_std = DEFAULT_NOISE_STD if noise_std is None else float(noise_std)
    if not math.isfinite(noise_std) or noise_std <= 0:
        raise InputError(f"--noise-std must be a positive number, got {noise_std!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InputError(f"--seed must be a whole number of at least 0, got {seed!r}")
    if max_trials is not None and (isinstance(max_trials, bool) or not isinstance(max_trials, Integral) or max_trials < 1):
        raise InputError(f"--max-trials must be a whole number of at least 1, got {max_trials!r}")
    weight_map = parse_weights(weights, task, prefer)
    end = t0 + budget - FINAL_MARGIN_S

    registry = discover(tuple(extra_plugins))
    run_warnings = list(registry.errors)
    for message in registry.errors:
        pywarnings.warn(message, RuntimeWarning, stacklevel=2)
    names = _select(registry, task, families, exclude)

    table = read_table(data, target)
    target_name = target if isinstance(target, str) else table.target
    dataset = prepare(table, task, target_name, image_shape=_parse_shape(image_shape), sequence=sequence, seed=seed)
    run_warnings.extend(dataset.warnings)
    if noise_given and task != "denoise":
        run_warnings.append(f"--noise-std is the noise level of denoise; {task} does not use it")
    prof = dataset.profile

    runs = []
    for name in names:
        fam = registry.get(name)
        run = FamilyRun(fam, plugin=registry.plugin_of[name].name)
        answer = _supports(fam, task, prof)
        if not answer.ok:
            run.status, run.reason = "unsupported", answer.reason
        runs.append(run)
    if not any(r.status == "pending" for r in runs):
        why = "; ".join(f"{r.name}: {r.reason}" for r in runs[:6])
        raise InputError(f"no family can do {task} on this {prof.modality} data ({why})")

    splits = dataset.splits
    if splits.reused:
        run_warnings.append(f"only {len(dataset.X)} rows: scores are measured on the training rows, not held-out ones")
    optuna_storage, run_study = None, None
    if storage is not None:
        from advisor.search.storage import open_run_study, open_storage

        optuna_storage = open_storage(storage)
        options = {
            "task": task,
            "target": target_name,
            "families": [r.name for r in runs if r.status == "pending"],
            "seed": seed,
            "image_shape": list(prof.image_shape) if prof.image_shape else None,
            "sequence": bool(sequence),
            "noise_std": noise_std if task == "denoise" else None,
            "max_trials": max_trials,
        }
        study, run_study = open_run_study(optuna_storage, study, dataset, data, options)
    prior = prior_scores([r.family for r in runs if r.status == "pending"], task, prof, weight_map)
    guidance = {e["family"]: e["score"] for e in prior} if prior and guidance_enabled() else None
    config = SearchConfig(task=task, seed=seed, max_trials=max_trials, device=device, noise_std=noise_std, storage=optuna_storage, study_prefix=study, prior_scores=guidance, weights=weight_map)
    search = Search(dataset, splits, runs, config, end=end, progress=progress)
    phases = PhaseClock(t0)
    with budget_ctx.run_scoring():
        search.run()
    phases.mark("search")
    interrupted = search.interrupted
    if search.storage_lost:
        run_warnings.append(search.storage_lost)
    if interrupted is not None:
        from advisor.runtime.interrupts import signal_name

        run_warnings.append(f"interrupted by {signal_name(interrupted)}: the ranking holds the trials that finished; the winner was not refit")

    finish_by = t0 + float(budget) + AFTER_SEARCH_SLACK * allowed_overrun(float(budget))
    ok_runs = [r for r in search.runs if r.status == "ok"]
    refit_reserve = search.refit_reserve(ok_runs)
    with budget_ctx.run_scoring():
        judge(search, dataset, config, time.monotonic() if interrupted is not None else end - refit_reserve, float(budget))
    phases.mark("verdict")
    entries = score_runs(search.runs, task, weight_map, len(dataset.X))
    pareto = pareto_front(entries)
    ok_entries = [e for e in entries if e["criteria"]]
    previews = {}
    if ok_entries:
        best_name = ok_entries[0]["family"]
        best_run = next(r for r in search.runs if r.name == best_name)
        # The test rows score the search's models, so they come before the refit, leaving the
        # refit its expected time: a winner cut short by its deadline refits for as long as the
        # budget allows, which would otherwise leave the ranking without its test figures.
        refit_s = search.refit_seconds(best_run)
        refit_needs = refit_s + (best_run.eval_seconds if task in ("generate", "denoise") else 0.0)
        if interrupted is not None or time.monotonic() + refit_needs > finish_by:
            refit_needs = 0.0  # no refit will be made: the test rows may take the time
        with budget_ctx.run_scoring():
            _report_on_test(search, dataset, splits, config, finish_by - refit_needs, entries, run_warnings)
        phases.mark("test_rows")
        if interrupted is None:
            estimator = _refit(best_run, dataset, config, refit_s, float(budget), finish_by, run_warnings)
        else:
            estimator = best_run.best_estimator
        estimator = decided(estimator, best_run.selection, task)
        phases.mark("refit")
        if task in ("generate", "denoise") and interrupted is None:
            previews = _previews(task, best_run, dataset, splits, noise_std, seed, finish_by, run_warnings)
            phases.mark("previews")
    elif interrupted is not None:
        raise interrupted
    else:
        best_name, estimator = _fallback(registry, runs, dataset, config, hard_stop(finish_by, float(budget)), run_warnings)
        phases.mark("fallback")
    lines = rationale(entries, task, prof, weight_map, pareto)
    advice = budget_advice(search.runs, float(budget), search)
    if advice and (auto_budget or advice["proposed_budget_s"] > budget):
        lines.append(f"Budget: about {advice['proposed_budget_s']} s ({advice['reason']}).")
    if not ok_entries:
        lines.append(f"The budget was too small to search: {best_name} is returned untuned as the cheapest baseline.")
    prior_summary, prior_line = compare(entries, prior)
    prior_summary["guided"] = guidance is not None
    if prior_line:
        lines.append(prior_line)
    conditioned = dataset.conditioned_on
    estimator = wrap(estimator, dataset.cleaner, task, conditioned, dataset.X[conditioned] if conditioned else None)
    plugin_versions = {p.name: p.version for p in registry.plugins}
    rec = Recommendation(
        task=task,
        target=target_name,
        best_family=best_name,
        best_estimator_=estimator,
        ranking_entries=entries,
        pareto=pareto,
        rationale=lines,
        profile=prof,
        budget_s=float(budget),
        elapsed_s=time.monotonic() - t0,
        seed=seed,
        weights=weight_map,
        warnings=run_warnings,
        versions=versions(plugin_versions),
        search={
            "rows": {"train": len(splits.train), "valid": len(splits.valid), "test": len(splits.test), "all": len(dataset.X)},
            "held_out": not splits.reused,
            "trials": sum(len(r.trials) for r in search.runs),
            "noise_std": noise_std if task == "denoise" else None,
            "device": device,
            "interrupted": None if interrupted is None else type(interrupted).__name__,
            "phases_s": phases.seconds(set_up=search.set_up_seconds),
        },
        selection=selection_protocol(task, splits, search.runs),
        budget_advice=advice,
    )
    rec.interrupted = interrupted
    rec.previews = previews
    rec.prior = prior_summary
    if run_study is not None and not search.storage_lost:
        from advisor.search.storage import finish_run_study, workers_of

        rec.search["study"] = study
        rec.search["imported_trials"] = sum(r.imported for r in search.runs)
        rec.search["workers"] = sorted(workers_of(search.runs))
        finish_run_study(run_study, rec, interrupted)
    return rec


def _report_on_test(search: Search, dataset, splits, config, finish_by: float, entries: list[dict], run_warnings: list[str]) -> None:
    """Score the ranked families' search models on the test rows, which chose nothing, in the
    ranking's order and as far as the time allows; the figures go to each entry's `metrics.test`.

    A scoring that would run past `finish_by` is stopped; the family keeps its place (it was
    ranked on its selection estimate) and says that its test figures are missing.
    """
    from advisor.runtime.watchdog import TrialTimeout, watchdog

    X_test, y_test, labels_test = splits.take(dataset, "test")
    ctx = EvalContext(task=config.task, seed=config.seed + 1, noise_std=config.noise_std, image_shape=dataset.profile.image_shape,
                      modality=dataset.profile.modality, labels=labels_test, train_X=search.X_train, train_y=search.y_train,
                      target=dataset.conditioned_on, ml_efficiency=True)
    runs = {r.name: r for r in search.runs}
    late = []
    for entry in entries:
        run = runs.get(entry["family"])
        if not entry["criteria"] or run is None:
            continue
        left = finish_by - time.monotonic()
        if left <= max(0.05, run.eval_seconds):
            entry["metrics"]["test"] = {"missing": "not scored on the test rows: the budget ran out"}
            late.append(run.name)
            continue
        try:
            with watchdog(left, f"scoring {run.name} on the test rows"), thread_limit(len(search.X_train)):
                run.test = evaluate(config.task, decided(run.best_estimator, run.selection, config.task), X_test, y_test, ctx)
            entry["metrics"]["test"] = dict(run.test.metrics)
        except TrialTimeout:
            entry["metrics"]["test"] = {"missing": f"scoring on the test rows did not finish within the budget ({left:.1f}s left)"}
            late.append(run.name)
        except Exception as exc:  # noqa: BLE001 - reported, not ranked on
            entry["metrics"]["test"] = {"missing": f"failed on the test rows: {type(exc).__name__}: {exc}"[:300]}
    if late:
        run_warnings.append(f"{', '.join(late)} could not be scored on the test rows within the budget (their test figures are missing)")


def _previews(task, run, dataset, splits, noise_std, seed, finish_by, run_warnings) -> dict:
    """Real against generated (or noisy / denoised) rows for the report, if time is left."""
    from advisor.output.previews import make_previews
    from advisor.runtime.watchdog import TrialTimeout, watchdog

    left = finish_by - time.monotonic()
    if left < 0.2:
        run_warnings.append("no time was left for the report's previews")
        return {}
    try:
        with watchdog(left, "previews"):
            return make_previews(task, run.best_estimator, splits.take(dataset, "test")[0], dataset.profile.image_shape, noise_std, seed)
    except TrialTimeout:
        run_warnings.append("the report's previews did not finish within the budget and are left out")
        return {}


def _refit(run: FamilyRun, dataset, config, estimate: float, budget_s: float, finish_by: float, run_warnings: list[str]):
    """Refit the winner on all rows when the time left allows for its `estimate` (seconds,
    Search.refit_seconds); else keep the search model.

    The refit's training loop stops at `finish_by` (less the time the previews need) and a
    watchdog stops a fit that ignores it shortly after, inside the slack of the budget rule.
    """
    from sklearn.base import clone

    n_all, n_fit = len(dataset.X), max(run.fit_rows, 1)
    if n_all <= n_fit:
        return run.best_estimator
    after = run.eval_seconds if config.task in ("generate", "denoise") else 0.0  # the previews come after
    stop_at = finish_by - after
    left = stop_at - time.monotonic()
    if estimate > left:
        run_warnings.append(
            f"no time to refit {run.name} on all {n_all} rows (needs ~{estimate:.1f}s, {max(left, 0):.1f}s left): "
            f"returning the model fitted on {n_fit} search rows"
        )
        return run.best_estimator
    X, y = dataset.X, dataset.y
    rows = _rows_that_fit_in_memory(run, n_all)
    if rows < n_all:
        run_warnings.append(
            f"refitting {run.name} on all {n_all} rows would need ~{run.peak_memory_mb * n_all / n_fit:.0f} MB; "
            f"refit on a random {rows} rows instead"
        )
        import numpy as np

        keep = np.sort(np.random.default_rng(config.seed).choice(n_all, rows, replace=False))
        X = X.iloc[keep].reset_index(drop=True)
        y = None if y is None else y.iloc[keep].reset_index(drop=True)
    from advisor.runtime.watchdog import TrialTimeout, watchdog

    est = configure_estimator(clone(run.best_estimator), seed=config.seed, device=config.device)
    try:
        with watchdog(max(hard_stop(finish_by, budget_s) - time.monotonic(), 0.5), f"refit of {run.name}"):
            with budget_ctx.fit_scope(stop_at, repeatable=config.max_trials is not None), thread_limit(n_all):
                _, seconds, _ = measured(fit_estimator, est, config.task, X, y)
    except TrialTimeout:
        run_warnings.append(f"refitting {run.name} on all rows ran out of time; returning the model fitted on {n_fit} search rows")
        return run.best_estimator
    except Exception as exc:  # noqa: BLE001
        run_warnings.append(f"refitting {run.name} on all rows failed ({type(exc).__name__}); returning the search model")
        return run.best_estimator
    return est


def _rows_that_fit_in_memory(run: FamilyRun, n_all: int) -> int:
    """Rows the refit can use within half the available memory, assuming memory linear in rows."""
    from advisor.runtime.measure import available_memory_mb

    available = available_memory_mb()
    if not run.peak_memory_mb or available is None:
        return n_all
    per_row = run.peak_memory_mb / max(run.fit_rows, 1)
    return int(min(n_all, max(run.fit_rows, 0.5 * available / per_row)))


def _fallback(registry, runs, dataset, config, finish_by: float, run_warnings):
    """The cheapest baseline, untuned, when no family finished a trial in time.

    It may run until `finish_by`, the refit's hard stop inside the budget rule's slack (a
    baseline fits in a fraction of a second, and a run without any model helps nobody); a
    baseline that cannot finish by then is given up, and the run says the budget is too small.
    """
    from advisor.runtime.watchdog import TrialTimeout, watchdog

    task, prof = config.task, dataset.profile
    candidates = [r for r in runs if config.task in r.family.baseline_for and r.status != "unsupported"]
    candidates += [r for r in runs if r.status != "unsupported" and r not in candidates and r.family.cost == "low"]
    for run in candidates:
        left = finish_by - time.monotonic()
        if left <= 0.1:
            break
        try:
            est = run.family.make_estimator(task, prof, **run.family.default_params(task, prof))
            configure_estimator(est, seed=config.seed, device=config.device)
            with watchdog(left, f"baseline {run.name}"), budget_ctx.fit_scope(finish_by), thread_limit(len(dataset.X)):
                fit_estimator(est, task, dataset.X, dataset.y)
        except TrialTimeout:
            run_warnings.append(f"baseline {run.name} did not finish within the budget")
            break
        except Exception as exc:  # noqa: BLE001
            run_warnings.append(f"baseline {run.name} failed: {type(exc).__name__}: {exc}")
            continue
        run_warnings.append(f"budget too small for a search: returning the untuned baseline {run.name}")
        return run.name, est
    # Every family failed or ran out of budget, and no baseline fitted: the user's to change.
    tried = [r for r in runs if r.status != "unsupported"] or runs
    raise InputError(f"no family produced a model for {task} within the budget: "
                     + "; ".join(f"{r.name}: {r.reason or r.status}" for r in tried))
