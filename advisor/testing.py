"""A conformance check for plugin authors: does a family keep the contract?

    from advisor.testing import check_family
    check_family(MyFamily())            # raises AssertionError naming the first broken promise

It checks the declared metadata, then for every task the family claims on small synthetic data
it can do: the search space suggests parameters, `make_estimator` builds an unfitted
scikit-learn-style estimator (`get_params`, `clone`, `NotFittedError` before `fit`), `fit`
returns `self` on a mixed-type DataFrame with missing values, the task's method answers with
the right shape and finite values, a 2-second deadline is honoured, and a saved and reloaded
model answers the same.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.families.contract import Family, validate_family
from advisor.runtime.quiet import optuna_warnings_only

DEADLINE_S = 2.0
DEADLINE_SLACK_S = 3.0


def toy_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A small mixed-type table: correlated numerics, an integer, a categorical, some holes."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "a": z + 0.1 * rng.normal(size=n),
            "b": 2 * z + rng.normal(size=n),
            "count": rng.poisson(3, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    frame.loc[rng.choice(n, 6, replace=False), "a"] = np.nan
    frame.loc[rng.choice(n, 5, replace=False), "colour"] = np.nan
    return frame


def toy_images(n: int = 120, side: int = 8, seed: int = 0) -> pd.DataFrame:
    """Pixel columns p0..p{side²-1} in [0, 1]: bright horizontal or vertical bars."""
    rng = np.random.default_rng(seed)
    imgs = rng.uniform(0, 0.1, size=(n, side, side))
    for i in range(n):
        k = rng.integers(side)
        if i % 2:
            imgs[i, k, :] = 1.0
        else:
            imgs[i, :, k] = 1.0
    return pd.DataFrame(imgs.reshape(n, -1), columns=[f"p{j}" for j in range(side * side)])


def _task_data(task: str, modality: str):
    """(X, y, profile) of a toy problem for `task` on `modality`."""
    from advisor.data.preparation import prepare
    from advisor.data.tables import Table

    if modality == "image":
        X = toy_images()
        label = np.arange(len(X)) % 2
    elif modality == "sequence":
        rng = np.random.default_rng(0)
        t = np.linspace(0, 1, 32)
        label = np.arange(120) % 2
        X = pd.DataFrame(
            [np.sin(2 * np.pi * (3 + 4 * c) * t + rng.uniform(0, 6)) + 0.1 * rng.normal(size=32) for c in label],
            columns=[f"x{j}" for j in range(32)],
        )
    else:
        X = toy_table()
        label = (X["b"] > 0).astype(int).to_numpy()
    if task == "denoise" and modality == "tabular":
        X = X[["a", "b", "count"]]
    frame = X.copy()
    target = None
    if task in ("classify", "regress"):
        target = "target"
        frame[target] = np.where(label == 1, "yes", "no") if task == "classify" else X.select_dtypes("number").fillna(0).sum(axis=1).to_numpy() + label
    data = prepare(Table(frame, "toy"), task, target, sequence=modality == "sequence")
    return data.X, data.y, data.profile


def _fit(est, task, X, y):
    return est.fit(X, y) if task in ("classify", "regress") else est.fit(X)


def _answer(est, task, X):
    if task == "classify":
        return np.asarray(est.predict_proba(X))
    if task == "regress":
        return np.asarray(est.predict(X), dtype=float)
    if task == "generate":
        out = est.sample(50, random_state=0)
        return out
    if task == "detect":
        return np.asarray(est.score_samples(X), dtype=float)
    return np.asarray(est.transform(X), dtype=float)


def _check_answer(task, out, X, family_name):
    n = len(X)
    if task == "generate":
        if isinstance(out, pd.DataFrame):
            assert list(out.columns) == list(X.columns), f"{family_name}: sample() must return the fitted columns"
            assert len(out) == 50, f"{family_name}: sample(50) returned {len(out)} rows"
            for col in X.columns:
                if not pd.api.types.is_numeric_dtype(X[col]):
                    extra = set(out[col].dropna().unique()) - set(X[col].dropna().unique())
                    assert not extra, f"{family_name}: sample() invented levels {sorted(map(str, extra))[:3]} in {col!r}"
                elif pd.api.types.is_integer_dtype(X[col]):
                    assert pd.api.types.is_integer_dtype(out[col]), f"{family_name}: integer column {col!r} came back as {out[col].dtype}"
        else:
            arr = np.asarray(out, dtype=float)
            assert arr.shape[0] == 50 and np.isfinite(arr).all(), f"{family_name}: sample(50) gave {arr.shape} / non-finite values"
        return
    assert out.shape[0] == n, f"{family_name}: {task} output has {out.shape[0]} rows for {n}"
    assert np.all(np.isfinite(out)), f"{family_name}: {task} output has NaN or infinite values"
    if task == "classify":
        assert np.allclose(out.sum(axis=1), 1, atol=1e-4), f"{family_name}: predict_proba rows must sum to 1"
    if task == "denoise":
        assert out.reshape(n, -1).shape[1] == X.shape[1], f"{family_name}: transform must keep the shape"


@optuna_warnings_only()
def check_family(family: Family, tasks=None, modalities=None, check_deadline: bool = True, check_save: bool = True) -> None:
    """Run the conformance checks; raise AssertionError with the first failure."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from advisor.runtime import budget
    from advisor.runtime.measure import thread_limit
    from advisor.search import configure_estimator

    problems = validate_family(family)
    assert not problems, f"{getattr(family, 'name', family)}: " + "; ".join(problems)
    tasks = sorted(family.tasks if tasks is None else tasks)
    modalities = sorted(family.modalities if modalities is None else modalities)
    checked = 0
    for modality in modalities:
        for task in tasks:
            if task == "generate" and modality == "sequence":
                continue
            X, y, profile = _task_data(task, modality)
            ok, reason = family.supports(task, profile)
            assert isinstance(reason, str) and reason, f"{family.name}: supports() must give a reason"
            if not ok:
                continue
            checked += 1
            label = f"{family.name}[{task}/{modality}]"
            import optuna

            study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
            defaults = family.default_params(task, profile)
            if defaults:
                study.enqueue_trial(defaults)
            trial = study.ask()
            params = family.search_space(trial, task, profile)
            assert isinstance(params, dict), f"{label}: search_space must return a dict"
            resource = getattr(family, "resource_param", None)
            if defaults:
                # the training resource is set by the search, not sampled (Family.resource_param)
                known = set(trial.params) | set(params) | ({resource} if resource else set())
                assert set(defaults) <= known, f"{label}: default_params keys must be search_space names"
            if resource:
                assert resource not in params, f"{label}: the search sets {resource!r}; search_space must not sample it"
                if defaults and resource in defaults:
                    params = {**params, resource: defaults[resource]}
            est = configure_estimator(family.make_estimator(task, profile, **params), seed=0, device="cpu")
            clone(est)  # scikit-learn convention: __init__ only stores parameters
            assert isinstance(est.get_params(), dict), f"{label}: get_params must return a dict"
            try:
                _answer(est, task, X)
            except NotFittedError:
                pass
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"{label}: an unfitted estimator must raise NotFittedError, got {type(exc).__name__}") from exc
            else:
                raise AssertionError(f"{label}: an unfitted estimator answered instead of raising NotFittedError")
            with budget.fit_scope(time.monotonic() + (DEADLINE_S if check_deadline else 600)), thread_limit(len(X)):
                start = time.monotonic()
                returned = _fit(est, task, X, y)
                took = time.monotonic() - start
            assert returned is est, f"{label}: fit must return self"
            if check_deadline:
                assert took <= DEADLINE_S + DEADLINE_SLACK_S, f"{label}: fit took {took:.1f}s under a {DEADLINE_S}s deadline"
            with thread_limit(len(X)):
                out = _answer(est, task, X)
            _check_answer(task, out, X, label)
            if check_save:
                _check_roundtrip(est, task, X, out, label)
    assert checked, f"{family.name}: supports() refused every toy problem of {tasks} on {modalities}"


def _check_roundtrip(est, task, X, out, label):
    import skops.io as sio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.skops"
        sio.dump(est, path)
        loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    again = _answer(loaded, task, X)
    if task == "generate":
        first = out if isinstance(out, pd.DataFrame) else pd.DataFrame(np.asarray(out).reshape(50, -1))
        second = again if isinstance(again, pd.DataFrame) else pd.DataFrame(np.asarray(again).reshape(50, -1))
        pd.testing.assert_frame_equal(first.reset_index(drop=True), second.reset_index(drop=True), check_dtype=False, obj=f"{label} samples after reload")
    else:
        np.testing.assert_allclose(out, again, rtol=1e-4, atol=1e-5, err_msg=f"{label}: answers differ after save and reload")
