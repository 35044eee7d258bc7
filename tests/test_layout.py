"""The source tree stays readable and installable: small modules, every package shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400  # past this a module holds more than one job; split it
SOURCES = sorted([*ROOT.joinpath("advisor").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_line_limit(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_package_of_the_source_tree_is_listed_for_the_wheel():
    """A subpackage missing from pyproject.toml works in a checkout and is absent once installed."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(("advisor", *p.parent.relative_to(ROOT / "advisor").parts)) for p in ROOT.joinpath("advisor").rglob("__init__.py")}
    found |= {".".join(("advisor_plugins", *p.parent.relative_to(ROOT / "plugins").parts)) for p in ROOT.joinpath("plugins").rglob("__init__.py")}
    assert found - listed == set()
