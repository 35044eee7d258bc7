"""Small example datasets bundled with advisor, as plain CSV files.

Why: examples, tutorials and tests need real tables that work offline and load in milliseconds,
one for each task the advisor handles (classify, regress, generate, detect, embed, denoise) and
for image data. The files live in the repository's ``datasets/`` folder (rebuilt by
``datasets/make_datasets.py``; sources and licences in ``datasets/README.md``), and a wheel ships
them, with that README, as package data in ``advisor/_datasets``; this module only finds and
reads them, with pandas and the standard library.

    >>> from advisor import datasets
    >>> [d["name"] for d in datasets.list_datasets()]          # doctest: +SKIP
    >>> cars = datasets.load("cars")                           # a pandas DataFrame
    >>> datasets.path("cars")                                  # pathlib.Path of cars.csv

Each dataset declares, per task, its ``target``: the column to predict for ``classify`` and
``regress``; for ``generate``, ``detect``, ``embed`` and ``denoise`` a column to keep out of the
features (a label used only to evaluate, or to condition on), or ``None`` when every column is a
feature.

The folder is looked up in this order: the ``ADVISOR_DATASETS_DIR`` environment variable; the
package data of an installed wheel, ``advisor/_datasets`` (found with ``importlib.resources``);
the ``datasets/`` folder beside the package in a source checkout or editable install. The first
folder holding any of the files wins.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ENV_VAR", "list_datasets", "load", "path", "datasets_dir"]

ENV_VAR = "ADVISOR_DATASETS_DIR"

# Name -> file, size, modality, tasks, target per task, description, source and licence; keep in
# step with datasets/README.md and datasets/make_datasets.py.
_DATASETS: dict[str, dict[str, Any]] = json.loads(resources.files("advisor").joinpath("datasets.json").read_text("utf-8"))


def _known() -> str:
    return ", ".join(sorted(_DATASETS))


def _entry(name: str) -> dict[str, Any]:
    try:
        return _DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {name!r}; known datasets: {_known()}") from None


def _candidates() -> list[Path]:
    """Package data first: beside an installed package, ``../datasets`` is someone else's folder."""
    folders = []
    # Looked up without importing `advisor._datasets`: it is a folder of data, not code.
    packaged = resources.files(__package__) / "_datasets"
    if isinstance(packaged, Path):  # a zipped install has no file paths to hand to the CLI
        folders.append(packaged)
    folders.append(Path(__file__).resolve().parent.parent / "datasets")
    return folders


def datasets_dir() -> Path:
    """The folder holding the bundled CSV files.

    Raises:
        FileNotFoundError: ``ADVISOR_DATASETS_DIR`` names a missing folder, or no folder is found.
    """
    from advisor.settings import settings

    env = settings().datasets_dir
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{ENV_VAR}={env!r} is not a folder")
        return folder
    candidates = _candidates()
    for folder in candidates:
        if folder.is_dir() and any((folder / e["file"]).is_file() for e in _DATASETS.values()):
            return folder
    raise FileNotFoundError(
        "bundled datasets not found: set "
        f"{ENV_VAR} to the folder holding them (looked in {', '.join(str(c) for c in candidates)})"
    )


def list_datasets() -> list[dict[str, Any]]:
    """One dict per bundled dataset, sorted by name.

    Keys: ``name``, ``file``, ``rows``, ``columns`` (counts), ``modality``, ``tasks`` (list),
    ``target`` (dict task -> column or None), ``description``, ``source``, ``license``.
    """
    out = []
    for name in sorted(_DATASETS):
        entry = _DATASETS[name]
        item = {"name": name, **entry}
        item["tasks"] = list(entry["tasks"])
        item["target"] = dict(entry["target"])
        out.append(item)
    return out


def path(name: str) -> Path:
    """Path of the CSV file of dataset ``name``. Unknown names raise ``ValueError``."""
    return datasets_dir() / _entry(name)["file"]


def load(name: str, *, as_frame: bool = True) -> Any:
    """Read dataset ``name``.

    Only empty cells count as missing (NaN); text columns keep pandas' default string dtype
    (``object`` or ``str``). With ``as_frame=False`` the values come back as a NumPy array
    (``object`` dtype when the table mixes text and numbers).

    Raises:
        ValueError: ``name`` is not a bundled dataset.
        FileNotFoundError: the dataset folder or file is missing.
    """
    file = path(name)
    if not file.is_file():
        raise FileNotFoundError(f"dataset {name!r}: {file} is missing")
    frame = pd.read_csv(file, keep_default_na=False, na_values=[""], encoding="utf-8")
    return frame if as_frame else frame.to_numpy()
