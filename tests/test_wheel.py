"""A wheel built from the source tree works on its own: bundled datasets, plugins and the CLI.

Why: every other test runs against the editable install, which reads ``datasets/`` and
``plugins/`` straight from the checkout, so it cannot notice a file that pyproject.toml forgets to
ship. Here the wheel goes into a fresh virtual environment that sees neither the source tree nor
the editable install; the project's dependencies come from the test's own environment through a
``.pth`` file, so nothing is downloaded.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from advisor import datasets

REPO = Path(__file__).resolve().parent.parent
BUILTIN_PLUGINS = {"classic", "diffusion", "ebm", "dbn", "bnn", "cnn", "resnet", "arf"}
# Left out of the copy of the source tree the wheel is built from: caches, environments and
# earlier build outputs, which the build must neither read nor be slowed down by.
ANYWHERE = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
AT_TOP = {"build", "dist", "artifacts"}
TIMEOUT = 300  # seconds for any one subprocess; a cold start imports torch


def _version(dist: str) -> tuple[int, ...]:
    parts = []
    for part in importlib.metadata.version(dist).split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _missing_build_tool() -> str | None:
    """Why a wheel cannot be built and installed offline here, or None when it can."""
    for module in ("pip", "setuptools", "venv"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    if _version("pip") < (22, 3):
        return "pip older than 22.3 cannot install into another environment (--python)"
    if importlib.util.find_spec("wheel") is None and _version("setuptools") < (70, 1):
        return "setuptools older than 70.1 needs the wheel package, which is not installed"
    return None


def _skip_copy(folder: str, names: list[str]) -> set[str]:
    top = Path(folder).resolve() == REPO
    return {
        n
        for n in names
        if n in ANYWHERE or n.startswith(".venv") or n.endswith(".egg-info") or (top and n in AT_TOP)
    }


def _advisor_own(name: str) -> bool:
    """An entry of site-packages that belongs to advisor's own (editable or not) install."""
    lower = name.lower()
    return (
        lower in {"advisor", "advisor_plugins", "advisor.egg-link", "__pycache__"}
        or lower.startswith(("advisor-", "__editable__"))
        or lower.endswith(".pth")
    )


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    command = " ".join([Path(args[0]).name, *(str(a)[:40] for a in args[1:3])])
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stderr[-3000:]}"
    return done.stdout


class Fresh:
    """The fresh environment: its python, its site-packages, and how to run commands in it."""

    def __init__(self, root: Path, wheel: Path):
        self.root = root
        self.wheel = wheel
        self.bin = root / "venv" / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / ("python.exe" if os.name == "nt" else "python")
        self.cwd = root / "elsewhere"  # outside the source tree: nothing found relative to cwd
        self.cwd.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "PYTHON"))}
        env.pop("VIRTUAL_ENV", None)
        env.update(
            ADVISOR_HOME=str(root / "home"),
            PYTHONNOUSERSITE="1",
            PYTHONIOENCODING="utf-8",
            PYTHONDONTWRITEBYTECODE="1",  # the linked dependencies are the test environment's files
        )
        self.env = env
        self.site = Path(self.run_python("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())

    def run(self, command: str, *args) -> str:
        return _run([self.bin / command, *args], cwd=self.cwd, env=self.env)

    def run_python(self, code: str) -> str:
        return _run([self.python, "-c", code], cwd=self.cwd, env=self.env)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Fresh:
    missing = _missing_build_tool()
    if missing:
        pytest.skip(f"cannot build and install a wheel offline: {missing}")
    root = tmp_path_factory.mktemp("wheel")
    source, wheels = root / "source", root / "wheels"
    # Built from a copy, so the build writes no build/ or *.egg-info into the checkout.
    shutil.copytree(REPO, source, symlinks=True, ignore=_skip_copy)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", wheels, source], cwd=root)
    (wheel,) = wheels.glob("advisor-*.whl")

    _run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], cwd=root)
    fresh = Fresh(root, wheel)
    # The dependencies: one folder of links per site-packages of this environment, less advisor.
    lines = []
    for i, site_dir in enumerate(dict.fromkeys(site.getsitepackages())):
        site_dir = Path(site_dir)
        if not site_dir.is_dir():
            continue
        links = root / f"deps{i}"
        links.mkdir()
        for entry in site_dir.iterdir():
            if not _advisor_own(entry.name):
                (links / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        lines.append(str(links))
    (fresh.site / "_advisor_test_deps.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _run([*pip, "--python", fresh.python, "install", "--no-deps", "--no-index", "-q", wheel], cwd=root)
    return fresh


def test_wheel_ships_datasets_and_entry_points(fresh):
    with zipfile.ZipFile(fresh.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        parser = configparser.ConfigParser()
        parser.read_string(wheel.read(entry_points).decode("utf-8"))
    for d in datasets.list_datasets():
        assert f"advisor/_datasets/{d['file']}" in names, d["file"]
    assert "advisor/_datasets/README.md" in names
    assert not any(n.startswith(("datasets/", "plugins/")) for n in names), "source folders shipped as top-level packages"
    assert set(parser["advisor"]) == BUILTIN_PLUGINS


def test_imports_resolve_inside_the_fresh_environment(fresh):
    probe = fresh.run_python(
        "import importlib.metadata as md, json, sys\n"
        "import advisor, advisor_plugins\n"
        "from advisor import datasets\n"
        "datasets.load('iris')\n"
        "print(json.dumps({\n"
        "    'advisor': advisor.__file__,\n"
        "    'advisor_plugins': advisor_plugins.__file__,\n"
        "    'dists': [str(d.locate_file('')) for d in md.distributions() if d.metadata['Name'] == 'advisor'],\n"
        "    'make_datasets': [m for m in sys.modules if 'make_datasets' in m],\n"
        "    'path': sys.path,\n"
        "}))\n"
    )
    found = json.loads(probe)
    site_dir = fresh.site.resolve()
    for module in ("advisor", "advisor_plugins"):
        assert Path(found[module]).resolve().is_relative_to(site_dir / module), (module, found[module])
    assert [Path(p).resolve() for p in found["dists"]] == [site_dir], found["dists"]
    assert found["make_datasets"] == [], "the rebuild script is data in the wheel, never imported"
    leaks = [p for p in found["path"] if p and Path(p).resolve().is_relative_to(REPO)]
    assert leaks == [], f"the source tree is on the fresh sys.path: {leaks}"


def test_datasets_command_lists_files_inside_the_fresh_environment(fresh):
    out = fresh.run("advisor", "datasets").splitlines()
    names = [line.split()[0] for line in out if line and not line[0].isspace()]
    paths = [Path(line.strip()) for line in out if line[:1].isspace()]
    expected = datasets.list_datasets()
    assert names == [d["name"] for d in expected]
    assert {"cars", "iris", "digits"} <= set(names)
    assert len(paths) == len(expected)
    packaged = fresh.site.resolve() / "advisor" / "_datasets"
    for d, path in zip(expected, paths):
        assert path.resolve() == packaged / d["file"], path
        assert path.read_bytes() == (REPO / "datasets" / d["file"]).read_bytes(), d["file"]
    assert (packaged / "README.md").is_file()


def test_recommend_on_a_dataset_from_the_wheel(fresh):
    out = fresh.run("advisor", "datasets")
    iris = next(Path(line.strip()) for line in out.splitlines() if line.strip().endswith("iris.csv"))
    ranking = fresh.run(
        "advisor", "recommend", iris, "--task", "classify", "--target", "species",
        "--budget", "5", "--no-storage", "--quiet",
    )
    assert "recommendation:" in ranking and "★" in ranking, ranking[-2000:]


def test_families_come_from_the_wheels_entry_points(fresh):
    listing = json.loads(fresh.run("advisor", "families", "--json"))
    assert listing["errors"] == []
    assert BUILTIN_PLUGINS <= {f["plugin"] for f in listing["families"]}
