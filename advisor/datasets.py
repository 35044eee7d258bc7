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

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ENV_VAR", "list_datasets", "load", "path", "datasets_dir"]

ENV_VAR = "ADVISOR_DATASETS_DIR"

# Keep in step with datasets/README.md and datasets/make_datasets.py.
_DATASETS: dict[str, dict[str, Any]] = {
    "iris": {
        "file": "iris.csv",
        "rows": 150,
        "columns": 5,
        "modality": "tabular",
        "tasks": ("classify", "embed"),
        "target": {"classify": "species", "embed": "species"},
        "description": "Fisher's iris flowers: four measurements in cm and the species.",
        "source": "scikit-learn load_iris (Fisher 1936; UCI Iris)",
        "license": "BSD-3-Clause (scikit-learn); UCI: CC BY 4.0",
    },
    "diabetes": {
        "file": "diabetes.csv",
        "rows": 442,
        "columns": 11,
        "modality": "tabular",
        "tasks": ("regress",),
        "target": {"regress": "progression"},
        "description": (
            "Diabetes patients: age, sex, BMI, blood pressure and six blood serum measurements "
            "(unscaled); target is disease progression one year after baseline."
        ),
        "source": "scikit-learn load_diabetes(scaled=False) (Efron et al. 2004)",
        "license": "BSD-3-Clause (scikit-learn)",
    },
    "digits": {
        "file": "digits.csv",
        "rows": 1797,
        "columns": 65,
        "modality": "image",
        "tasks": ("classify", "embed", "denoise", "generate"),
        "target": {"classify": "label", "embed": "label", "denoise": "label", "generate": "label"},
        "description": (
            "Handwritten digits as 8x8 grey images: pixel columns p0..p63 in [0, 1] "
            "(row-major), and the digit in label (10 classes)."
        ),
        "source": "scikit-learn load_digits (UCI Optical Recognition of Handwritten Digits)",
        "license": "BSD-3-Clause (scikit-learn); UCI: CC BY 4.0",
    },
    "cars": {
        "file": "cars.csv",
        "rows": 406,
        "columns": 9,
        "modality": "tabular",
        "tasks": ("classify", "regress", "generate"),
        "target": {"classify": "origin", "regress": "mpg", "generate": None},
        "description": (
            "Cars of model years 1970-1982: name, fuel economy, engine, weight, acceleration, "
            "year and origin (USA/Europe/Japan); mixed types with missing mpg and horsepower."
        ),
        "source": "StatLib cars (1983 ASA Data Exposition) via vega_datasets",
        "license": "no licence stated by StatLib; vega_datasets MIT; UCI Auto MPG: CC BY 4.0",
    },
    "penguins": {
        "file": "penguins.csv",
        "rows": 344,
        "columns": 8,
        "modality": "tabular",
        "tasks": ("classify", "generate", "embed"),
        "target": {"classify": "species", "generate": None, "embed": "species"},
        "description": (
            "Palmer Archipelago penguins: species, island, bill, flipper and body mass "
            "measurements, sex and year; mixed types with missing values."
        ),
        "source": "palmerpenguins (Gorman, Williams & Fraser 2014; Horst, Hill & Gorman 2020)",
        "license": "CC0",
    },
    "sensors": {
        "file": "sensors.csv",
        "rows": 1000,
        "columns": 8,
        "modality": "tabular",
        "tasks": ("detect", "denoise"),
        "target": {"detect": "is_anomaly", "denoise": "is_anomaly"},
        "description": (
            "Synthetic readings of six correlated sensors driven by two latent factors, at three "
            "sites; 3% anomalies (spikes and broken correlations) flagged in is_anomaly."
        ),
        "source": "synthetic, datasets/make_datasets.py (fixed seed)",
        "license": "BSD-3-Clause (this project)",
    },
}


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
