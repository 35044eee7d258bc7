"""Every command and Python example in the README runs, so the documentation cannot rot.

Budgets are cut to a few seconds (and one trial per family): the point is that what the docs
say works, not how well. Commands run in a scratch folder that sees the bundled datasets.
"""

from __future__ import annotations

import re
import shlex
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
FAST = ["--budget", "4", "--max-trials", "1", "--quiet"]


def _runnable(command: str) -> bool:
    """Synopses with placeholders (DATA, MODEL, [--json], ...) are not commands to run."""
    tokens = shlex.split(command)
    return not any(re.fullmatch(r"[A-Z_]+(\.[a-z]+)?", t) or t in ("...", "|") or t.startswith("[") for t in tokens)


def _inline_commands() -> list[str]:
    found = re.findall(r"`((?:\.venv/bin/)?advisor [^`]+)`", README)
    return [c.replace(".venv/bin/", "") for c in dict.fromkeys(found) if _runnable(c)]


def _bash_blocks() -> list[list[str]]:
    blocks = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        commands = []
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("#") or "advisor " not in line:
                continue
            command = line.split("&&")[-1].strip().replace(".venv/bin/", "")
            if command.startswith("advisor ") and _runnable(command):
                commands.append(command)
        if commands:
            blocks.append(commands)
    return blocks


def _run(command: str) -> None:
    argv = shlex.split(command)[1:]
    if argv[0] == "recommend":
        argv = [a for i, a in enumerate(argv) if a != "--budget" and argv[i - 1] != "--budget"] + FAST
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, f"{command}\n{result.output}"


@pytest.fixture
def scratch(tmp_path, monkeypatch, classic_only):
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_documents_commands():
    assert len(_inline_commands()) >= 6 and _bash_blocks()


@pytest.mark.parametrize("command", _inline_commands())
def test_documented_command_runs(command, scratch):
    _run(command)


@pytest.mark.parametrize("index", range(len(_bash_blocks())))
def test_documented_shell_session_runs(index, scratch):
    for command in _bash_blocks()[index]:
        _run(command)


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README))))
def test_python_example_runs(index, scratch):
    block = re.findall(r"```python\n(.*?)```", README, re.S)[index]
    if "class KNearestNeighbours" in block:
        pytest.skip("a plugin skeleton; examples/advisor-knn holds the complete, tested version")
    code = re.sub(r"budget=\d+", "budget=4, max_trials=1", block)
    exec(compile(code, f"README python block {index}", "exec"), {})


def test_the_plugin_guide_runs(monkeypatch):
    """docs/plugins.md: every Python block, in order, in one module (so that saved models of
    the classes it defines can be loaded back, as check_family does)."""
    guide = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) >= 5
    module = types.ModuleType("plugin_guide")
    monkeypatch.setitem(sys.modules, "plugin_guide", module)
    for index, block in enumerate(blocks):
        exec(compile(block, f"docs/plugins.md python block {index}", "exec"), module.__dict__)
    registered = []
    module.register_families(registered.append)
    assert [family.name for family in registered] == ["bayes_ridge"]
