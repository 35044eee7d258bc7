"""Loading a saved model trusts exact types: code-running callables are refused, real models load."""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib.util
import operator
import pathlib
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from click.testing import CliRunner
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import advisor
from advisor.cli import main
from advisor.data.profiling import ColumnProfile, Profile
from advisor.errors import InputError
from advisor.families.discovery import discover
from advisor.model import safe_load
from advisor.result import Recommendation

ROOT = Path(__file__).resolve().parent.parent
ROWS = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
PAYLOADS = ("exec", "eval", "getattr", "__import__")


def _payload_steps(name: str, marker: Path) -> list:
    """Pipeline steps that, once loaded, create `marker` at the first predict using `builtins.<name>`."""
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    return {
        "exec": [functools.partial(builtins.exec, touch, {})],
        "eval": [functools.partial(builtins.eval, touch, {})],
        "getattr": [functools.partial(builtins.getattr, pathlib.Path(marker), "touch"), operator.methodcaller("__call__")],
        "__import__": [
            functools.partial(builtins.__import__, "pathlib"),
            operator.attrgetter("Path"),
            operator.methodcaller("__call__", str(marker)),
            operator.methodcaller("touch"),
        ],
    }[name]


def _save(path: Path, funcs: list) -> Path:
    """A model file in the project's format: FunctionTransformers first, then a fitted classifier."""
    steps = [(f"step{i}", FunctionTransformer(func)) for i, func in enumerate(funcs)]
    model = Pipeline([*steps, ("model", DummyClassifier().fit(ROWS, [0, 1, 0, 1]))])
    profile = Profile(n_rows=4, n_features=1, columns=[ColumnProfile("a", "numeric", "float64", 0.0, 4)], modality="tabular", modality_reason="test")
    rec = Recommendation(task="classify", target="y", best_family="linear", best_estimator_=model, ranking_entries=[], pareto=[],
                         rationale=[], profile=profile, budget_s=1.0, elapsed_s=0.0, seed=0, weights={})
    return rec.save(path)


@pytest.fixture
def rows_csv(tmp_path):
    path = tmp_path / "rows.csv"
    ROWS.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", PAYLOADS)
def test_code_running_builtins_in_a_partial_are_refused(tmp_path, name):
    marker = tmp_path / "ran"
    path = _save(tmp_path / "evil.skops", _payload_steps(name, marker))
    with pytest.raises(InputError, match=rf"refusing to load .*builtins\.{name}") as info:
        advisor.load(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_bare_code_running_builtin_is_refused(tmp_path, name):
    path = _save(tmp_path / "bare.skops", [getattr(builtins, name)])
    with pytest.raises(InputError, match=rf"builtins\.{name}"):
        advisor.load(path)


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_cli_refuses_in_one_line_and_runs_nothing(tmp_path, rows_csv, name):
    marker = tmp_path / "ran"
    path = _save(tmp_path / "evil.skops", _payload_steps(name, marker))
    result = CliRunner().invoke(main, ["predict", str(path), str(rows_csv)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"builtins.{name}" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_payloads_are_real_trust_true_runs_them(tmp_path, name):
    """trust=True rebuilds anything: the crafted files above would run their code if loaded."""
    marker = tmp_path / "ran"
    path = _save(tmp_path / "evil.skops", _payload_steps(name, marker))
    loaded = advisor.load(path, trust=True)
    with contextlib.suppress(Exception):  # the payload breaks the pipeline after it ran
        loaded.best_estimator_.predict(ROWS)
    assert marker.exists()


def test_a_real_recommendation_loads_without_trust_and_predicts(tmp_path, monkeypatch, mixed_frame):
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
    rec = advisor.recommend(mixed_frame, task="classify", target="label", budget=5, storage=None)
    loaded = advisor.load(rec.save(tmp_path / "model.skops"))
    X = mixed_frame.drop(columns="label")
    assert (loaded.best_estimator_.predict(X) == rec.best_estimator_.predict(X)).all()


def test_the_shipped_list_holds_nothing_from_the_standard_library_but_partial():
    """builtins, operator, os, importlib ... never enter the list; partial's function is checked on its own."""
    names = safe_load.read_list()
    assert "advisor.model.cleaning.AdvisorPipeline" in names and "advisor.model.cleaning.InputCleaner" in names
    assert [n for n in names if n.split(".")[0] in sys.stdlib_module_names] == ["functools.partial"]


def _derive_script():
    spec = importlib.util.spec_from_file_location("derive_trusted_types", ROOT / "scripts" / "derive_trusted_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("family,tasks,modalities", [
    ("hist_gradient_boosting", ["classify"], ["tabular"]),
    ("pca", ["embed", "denoise"], ["tabular", "image"]),
    ("linear", ["classify"], ["tabular"]),
    ("cnn", ["classify"], ["image"]),
])
def test_the_shipped_list_covers_what_families_save(family, tasks, modalities):
    """A family that starts saving a new type fails here: rerun scripts/derive_trusted_types.py."""
    script = _derive_script()
    registry = discover()
    if family not in registry.families:
        pytest.skip(f"family {family} is not installed")
    found = script.family_types(registry.families[family], tasks=tasks, modalities=modalities, log=lambda line: None)
    assert found, "a saved model names at least its own estimator or wrapper types"
    missing = sorted(found - safe_load.read_list())
    assert not missing, f"{missing} not in advisor/model/trusted_types.txt: rerun scripts/derive_trusted_types.py"


PLUGIN = '''
from advisor import Family, Interpretability, Uncertainty, hookimpl
from {pkg}.steps import Halver, halve


class Halving(Family):
    name = "halving"
    title = "halving"
    tasks = frozenset({{"classify"}})
    interpretability = Interpretability(0.5, "test")
    uncertainty = Uncertainty("none", "test")
    saved_types = (
        "{pkg}.steps.halve", "{pkg}.steps.Halver", "builtins.eval", "{pkg}.steps.evil",
        "{pkg}.steps.make_pipeline", "{pkg}.steps.os", "{pkg}.steps.missing", 42,
    )

    def make_estimator(self, task, profile, **params):
        return None


@hookimpl
def register_families(register):
    register(Halving())
'''

STEPS = '''
import os
from sklearn.pipeline import make_pipeline

evil = eval


def halve(X):
    return X / 2


class Halver:
    pass
'''


@pytest.fixture
def declaring_plugin(tmp_path, monkeypatch):
    """An installed plugin whose family declares its own types, and some it must not get."""
    pkg = "advisor_test_declaring_plugin"
    folder = tmp_path / "site" / pkg
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(textwrap.dedent(PLUGIN.format(pkg=pkg)))
    (folder / "steps.py").write_text(textwrap.dedent(STEPS))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
    monkeypatch.setenv("ADVISOR_PLUGIN_MODULES", pkg)
    return pkg


def test_a_plugin_is_trusted_only_for_what_its_own_package_defines(declaring_plugin):
    pkg = declaring_plugin
    assert safe_load.declared_types() == {f"{pkg}.steps.halve", f"{pkg}.steps.Halver"}


def test_a_plugins_declared_function_loads_and_an_alias_of_eval_does_not(declaring_plugin, tmp_path):
    steps = importlib.import_module(f"{declaring_plugin}.steps")
    own = _save(tmp_path / "own.skops", [steps.halve])
    assert advisor.load(own).best_estimator_.predict(ROWS).shape == (4,)
    alias = _save(tmp_path / "alias.skops", [steps.evil])  # skops records it as builtins.eval
    with pytest.raises(InputError, match=r"builtins\.eval"):
        advisor.load(alias)


def test_without_the_plugin_its_types_are_refused(tmp_path, monkeypatch, declaring_plugin):
    steps = importlib.import_module(f"{declaring_plugin}.steps")
    path = _save(tmp_path / "own.skops", [steps.halve])
    monkeypatch.delenv("ADVISOR_PLUGIN_MODULES")
    with pytest.raises(InputError, match=rf"{declaring_plugin}\.steps\.halve"):
        advisor.load(path)


def test_a_refusal_names_every_refused_type_on_one_line(tmp_path):
    path = tmp_path / "many.skops"
    sio.dump({"document": "{}", "estimator": [builtins.exec, builtins.eval, builtins.getattr, operator.methodcaller("x")]}, path)
    with pytest.raises(InputError) as info:
        advisor.load(path)
    message = str(info.value)
    assert "\n" not in message
    for name in ("builtins.eval", "builtins.exec", "builtins.getattr", "operator.methodcaller"):
        assert name in message


def test_a_model_saved_before_its_module_moved_loads_without_trust(tmp_path):
    """Saved models name their classes' modules; a model saved when advisor.decision was a
    top-level module must still load, as the class that now lives in advisor.model.decision."""
    import zipfile

    from sklearn.linear_model import LogisticRegression

    from advisor.model.decision import BalancedDecision

    X, y = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}), [0, 0, 0, 1, 1, 1]
    model = BalancedDecision.around(LogisticRegression().fit(X, y), shares=[0.5, 0.5], power=1.0)
    new, old = tmp_path / "new.skops", tmp_path / "old.skops"
    sio.dump(model, new)
    with zipfile.ZipFile(new) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                assert b'"advisor.model.decision"' in data
                data = data.replace(b'"advisor.model.decision"', b'"advisor.decision"')
            dst.writestr(item, data)
    assert "advisor.decision.BalancedDecision" in sio.get_untrusted_types(file=old)
    loaded = safe_load.load_saved(old)
    assert isinstance(loaded, BalancedDecision)
    assert (loaded.predict(X) == model.predict(X)).all()
