"""advisor.sdk is the one module a plugin imports: the built-in plugins and the example prove it."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import advisor.sdk

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
EXAMPLE = ROOT / "examples" / "advisor-knn" / "advisor_knn"


def imported_modules(path: Path):
    """(line, module) for every import in a file, at any depth (lazy imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def forbidden_imports(package_dir: Path, own: str) -> list[str]:
    """Imports of advisor other than advisor.sdk, and of plugin packages other than `own`."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top == "advisor" and module != "advisor.sdk":
                found.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
            if top == "advisor_plugins" and module.split(".")[:2] != own.split(".")[:2]:
                found.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("plugin", sorted(p.name for p in PLUGINS.iterdir() if (p / "__init__.py").exists()))
def test_builtin_plugins_import_only_the_sdk_and_themselves(plugin):
    assert forbidden_imports(PLUGINS / plugin, f"advisor_plugins.{plugin}") == []


def test_the_example_plugin_imports_only_the_sdk():
    assert forbidden_imports(EXAMPLE, "advisor_knn") == []


def test_the_check_catches_a_plugin_reaching_past_the_sdk(tmp_path):
    package = tmp_path / "sneaky"
    package.mkdir()
    (package / "__init__.py").write_text("def f():\n    from advisor.runtime.budget import time_left\n    from advisor_plugins.cnn import nets\n")
    assert len(forbidden_imports(package, "sneaky")) == 2


def test_every_sdk_name_resolves():
    for name in advisor.sdk.__all__:
        assert getattr(advisor.sdk, name) is not None, name


def test_every_builtin_family_registers_without_importing_torch():
    """Discovery and `advisor families` stay quick: a plugin imports torch in make_estimator."""
    code = (
        "import sys, advisor\n"
        "registry = advisor.discover()\n"
        "assert not [p.error for p in registry.plugins if p.error], registry.plugins\n"
        "print(' '.join(sorted({record.name for record in registry.plugin_of.values()})), 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    *plugins, torch_loaded = out.stdout.split()
    builtin = {p.name for p in PLUGINS.iterdir() if (p / "__init__.py").exists()}
    assert builtin <= set(plugins) and torch_loaded == "False"


def test_importing_the_sdk_loads_no_heavy_library():
    code = "import sys, advisor.sdk; print(sorted(m for m in ('torch', 'pandas', 'sklearn', 'optuna') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_adamw_decays_its_rate_and_keeps_group_decay():
    import torch

    from advisor.sdk import AdamW

    decayed = torch.nn.Parameter(torch.ones(3))
    free = torch.nn.Parameter(torch.ones(3))
    opt = AdamW([{"params": [decayed], "weight_decay": 0.5}, {"params": [free], "weight_decay": 0.0}], lr=0.1, total_epochs=4)
    rates = [opt.lr]
    for _ in range(4):
        decayed.grad, free.grad = torch.zeros(3), torch.zeros(3)
        opt.step()
        opt.next_epoch()
        rates.append(opt.lr)
    assert rates == sorted(rates, reverse=True) and rates[-1] == pytest.approx(0.002)
    assert torch.all(decayed < 1) and torch.all(free == 1)  # a zero gradient: only weight decay moved it


TORCH_FAMILIES = ("bnn", "cnn", "dbn", "diffusion", "ebm", "resnet")


def test_every_torch_family_trains_through_the_one_base():
    """Each estimator a built-in torch family makes, for every task it takes, derives from
    advisor.sdk.TorchEstimator: one device rule, one holdout rule, one epoch loop and record."""
    from advisor.data.profiling import profile_frame
    from advisor.families.discovery import discover
    from advisor.sdk import TASKS, TorchEstimator, toy_images, toy_table

    registry = discover()
    table = toy_table().dropna()
    images = toy_images()
    images["bars"] = np.arange(len(images)) % 2  # toy_images alternates horizontal and vertical bars
    images["brightness"] = images.drop(columns="bars").mean(axis=1)
    made = set()
    profiles = []
    for task in TASKS:
        target = {"classify": "colour", "regress": "b"}.get(task)
        profiles.append((task, profile_frame(table, target, task=task)))
        target = {"classify": "bars", "regress": "brightness"}.get(task)
        pixels = images if target else images.drop(columns=["bars", "brightness"])
        pixels = pixels.drop(columns=[c for c in ("bars", "brightness") if c != target and c in pixels])
        profiles.append((task, profile_frame(pixels, target, task=task, image_shape=(8, 8))))
    for task, profile in profiles:
        for name in TORCH_FAMILIES:
            family = registry.get(name)
            if not family.supports(task, profile).ok:
                continue
            estimator = family.make_estimator(task, profile, **family.default_params(task, profile))
            assert isinstance(estimator, TorchEstimator), (name, task, type(estimator).__mro__)
            made.add(name)
    assert made == set(TORCH_FAMILIES)


@pytest.mark.parametrize(("n", "strata", "expected_valid"), [
    (30, None, 0),  # tiny data: every row trains
    (200, None, 20),  # a tenth
    (5000, None, 300),  # the cap
    (200, np.repeat([0, 1], [180, 20]), 20),  # stratified: 18 and 2 ...
    (200, np.repeat([0, 1], [197, 3]), 20),  # ... but never from a class too small to spare rows
])
def test_one_holdout_rule_for_every_torch_family(n, strata, expected_valid):
    from advisor.sdk import TorchEstimator

    class Holdout(TorchEstimator):
        def __init__(self, validation_fraction=0.1, random_state=0):
            self.validation_fraction = validation_fraction
            self.random_state = random_state

    train, valid = Holdout()._holdout(n, 0, strata=strata, cap=300)
    assert len(valid) == pytest.approx(expected_valid, abs=1)
    assert len(np.intersect1d(train, valid)) == 0 and len(train) + len(valid) == n
    if strata is not None and expected_valid:
        counts = np.bincount(strata[valid], minlength=2)
        assert counts[1] == (2 if np.sum(strata == 1) == 20 else 0)
    again, _ = Holdout()._holdout(n, 0, strata=strata, cap=300)
    assert np.array_equal(train, again)  # seeded
