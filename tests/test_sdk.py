"""advisor.sdk is the one module a plugin imports: the built-in plugins and the example prove it."""

import ast
import subprocess
import sys
from pathlib import Path

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
    (package / "__init__.py").write_text("def f():\n    from advisor.budget import time_left\n    from advisor_plugins.cnn import nets\n")
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
