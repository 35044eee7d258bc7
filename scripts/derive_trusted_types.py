"""Derive the exact types `advisor.load` trusts from the models the built-in families save.

    python scripts/derive_trusted_types.py            # rewrite advisor/model/trusted_types.txt
    python scripts/derive_trusted_types.py --check    # exit 1 if the shipped list misses a type

Every built-in family is fitted on tiny data for every task and modality it supports, saved in
the project's format, and asked by skops which of its types skops does not trust by default.
The sorted union is the list `advisor.load` accepts without `trust=True`. Rerun this script
whenever a family starts saving a new type (tests/test_safe_load.py fails until you do).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from advisor.families.contract import MODALITIES
from advisor.model.safe_load import LIST_PATH, read_list

# Every returned estimator is wrapped as AdvisorPipeline([("clean", InputCleaner(...)), ("model", est)]).
# They are named here so the list holds them even where advisor.model.cleaning is not importable.
WRAPPER_TYPES = ("advisor.model.cleaning.AdvisorPipeline", "advisor.model.cleaning.InputCleaner",
                 "advisor.model.decision.BalancedDecision", "advisor.model.decision.ConformalRegressor")
# The one standard-library type the built-in models hold (scikit-learn's gradient boosting binds
# check_array in it); the function a partial wraps is a type of its own and checked on its own.
STDLIB_ALLOWED = ("functools.partial",)
# Short fits: the types an estimator saves do not depend on how long it trained.
EPOCH_PARAMS = ("max_epochs", "epochs")
MAX_EPOCHS = 2
FIT_SECONDS = 3.0


def _shorten(est) -> None:
    """Cap every epoch count (nested ones included) at MAX_EPOCHS."""
    try:
        params = est.get_params(deep=True)
    except Exception:  # noqa: BLE001 - not an sklearn estimator
        return
    caps = {k: MAX_EPOCHS for k, v in params.items() if k.split("__")[-1] in EPOCH_PARAMS and isinstance(v, int) and v > MAX_EPOCHS}
    if caps:
        est.set_params(**caps)


def _settings(family, task, profile):
    """Parameters to fit with: the defaults, then each structural choice of the search space.

    A string or boolean choice (an architecture, a method, a scaling) can change which objects
    the fitted model holds, so each one is tried once, the other parameters as in the trial that
    offered it; numeric choices (sizes, steps) only change array shapes and are not enumerated.
    """
    import optuna
    from optuna.distributions import CategoricalDistribution

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    queue = [family.default_params(task, profile)]
    offered = set()
    while queue:
        study.enqueue_trial(queue.pop(0))
        trial = study.ask()
        params = family.search_space(trial, task, profile)
        yield params
        for name, dist in trial.distributions.items():
            if not isinstance(dist, CategoricalDistribution):
                continue
            for choice in dist.choices:
                if isinstance(choice, (str, bool)) and (name, choice) not in offered:
                    offered.add((name, choice))
                    if trial.params.get(name) != choice:
                        queue.append({**trial.params, name: choice})
        study.tell(trial, 0.0)


def _wrap(est, X, task, profile):
    """The fitted model as a run returns it: `advisor.model.cleaning.wrap` where that module exists."""
    try:
        from advisor.model.cleaning import InputCleaner, wrap
    except ImportError:
        return est
    from advisor.model.decision import BalancedDecision, ConformalRegressor

    kinds = {c.name: c.kind for c in profile.columns}
    cleaner = InputCleaner(columns=[(str(c), kinds.get(str(c), "numeric")) for c in X.columns]).fit(X)
    # The verdict's tuned rules: a balanced-accuracy decision (classify), a conformal interval (regress).
    if task == "classify" and hasattr(est, "predict_proba"):
        est = BalancedDecision.around(est, [1.0 / len(est.classes_)] * len(est.classes_), 1.0)
    elif task == "regress":
        est = ConformalRegressor.around(est, 1.0, False)
    return wrap(est, cleaner, task)


def saved_types(est) -> list[str]:
    """The types skops does not trust by default in `est` saved in the project's format."""
    import skops.io as sio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.skops"
        sio.dump({"document": "{}", "estimator": est}, path)
        return sio.get_untrusted_types(file=path)


def family_types(family, tasks=None, modalities=None, log=print) -> set[str]:
    """Fit `family` on toy data for each task and modality it supports; collect its saved types."""
    import optuna

    found: set[str] = set()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no INFO line per trial; restored below
    try:
        _collect(family, found, tasks, modalities, log)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return found


def _collect(family, found: set[str], tasks, modalities, log) -> None:
    """The fits of `family_types`, adding what each saved model names to `found`."""
    from advisor.runtime import budget
    from advisor.runtime.measure import thread_limit
    from advisor.search import configure_estimator, fit_estimator
    from advisor.testing import _task_data

    for modality in sorted(family.modalities if modalities is None else modalities):
        for task in sorted(family.tasks if tasks is None else tasks):
            if task == "generate" and modality == "sequence":
                continue  # no toy data: sequences are not generated
            X, y, profile = _task_data(task, modality)
            if not family.supports(task, profile).ok:
                continue
            for params in _settings(family, task, profile):
                est = configure_estimator(family.make_estimator(task, profile, **params), seed=0, device="cpu")
                _shorten(est)
                start = time.monotonic()
                with budget.fit_scope(start + FIT_SECONDS), thread_limit(len(X)), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit_estimator(est, task, X, y)
                types = saved_types(_wrap(est, X, task, profile))
                choices = ",".join(f"{k}={v}" for k, v in sorted(params.items()) if isinstance(v, (str, bool)))
                log(f"{family.name} {task} {modality} [{choices}] {time.monotonic() - start:.1f}s: {len(types)} types")
                found.update(types)


def derive(log=print) -> list[str]:
    """The sorted union of the saved types of every built-in family, and the wrapper's types."""
    from advisor.families.discovery import discover

    registry = discover()
    found = set(WRAPPER_TYPES)
    for name, family in sorted(registry.families.items()):
        if not registry.plugin_of[name].module.startswith("advisor_plugins."):
            continue  # a third-party family declares its own types (Family.saved_types)
        found |= family_types(family, modalities=MODALITIES, log=log)
    return sorted(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the shipped list")
    args = parser.parse_args(argv)
    os.environ.pop("ADVISOR_LOAD_PLUGINS", None)  # every built-in family, whatever the shell restricts
    derived = derive(log=lambda line: print(line, file=sys.stderr))
    stdlib = [n for n in derived if n.split(".")[0] in sys.stdlib_module_names and n not in STDLIB_ALLOWED]
    if stdlib:
        print(f"a family saves standard-library callables, which can run code: {', '.join(stdlib)}; "
              "change the family instead of trusting them", file=sys.stderr)
        return 1
    if args.check:
        missing = sorted(set(derived) - set(read_list()))
        if missing:
            print(f"missing from {LIST_PATH.name}: {', '.join(missing)}; rerun this script", file=sys.stderr)
            return 1
        print(f"{LIST_PATH.name} covers all {len(derived)} types")
        return 0
    header = "# Exact types advisor.load trusts beyond skops' defaults. Generated by scripts/derive_trusted_types.py; do not edit.\n"
    LIST_PATH.write_text(header + "".join(f"{name}\n" for name in derived), encoding="utf-8")
    print(f"wrote {len(derived)} types to {LIST_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
