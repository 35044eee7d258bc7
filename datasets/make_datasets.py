"""Rebuild the bundled example datasets as CSV files, deterministically.

Usage::

    python datasets/make_datasets.py                 # rewrite the CSVs next to this script
    python datasets/make_datasets.py --out DIR       # write them into DIR instead
    python datasets/make_datasets.py --out DIR iris sensors   # only some of them

Every file is UTF-8, comma separated, with a header row, "\\n" line endings and
missing values written as empty cells. Running this script twice gives
byte-identical files.

Sources:

* ``iris``, ``diabetes``, ``digits``: the copies bundled with scikit-learn
  (a dependency of the project), so they can always be rebuilt.
* ``sensors``: synthetic, generated here from a fixed seed.
* ``cars``: the ``cars.json`` file shipped inside the ``vega_datasets`` Python
  package; ``penguins``: the ``penguins.csv`` file shipped inside the
  ``palmerpenguins`` Python package. Neither package is a dependency of the
  project: when one is not importable its dataset is skipped with a message
  and the committed CSV stays as it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------
# helpers


def _write(frame: pd.DataFrame, out_dir: Path, name: str) -> Path:
    path = out_dir / f"{name}.csv"
    frame.to_csv(path, index=False, na_rep="", lineterminator="\n", encoding="utf-8")
    return path


def _integral_to_int(frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """Store float columns whose values are all whole numbers as integers.

    Nullable ``Int64`` keeps missing values, which are then written as empty
    cells, and whole numbers are written as ``130`` rather than ``130.0``.
    """
    frame = frame.copy()
    for col in frame.columns:
        if col in skip or not pd.api.types.is_float_dtype(frame[col]):
            continue
        values = frame[col].dropna()
        if len(values) and bool((values == values.round()).all()):
            frame[col] = frame[col].astype("Int64")
    return frame


def _package_file(package: str, relative: str) -> Path | None:
    """Path of a data file shipped inside an installed package, without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------------------
# scikit-learn bundled data


def build_iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    bunch = load_iris()
    frame = pd.DataFrame(
        np.round(bunch.data, 2),  # measured to 0.1 cm; rounding guards against float noise
        columns=["sepal_length", "sepal_width", "petal_length", "petal_width"],
    )
    frame["species"] = [str(bunch.target_names[i]) for i in bunch.target]
    return frame


def build_diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    # s1..s6 are the six blood serum measurements; names follow the
    # scikit-learn description of the dataset.
    columns = ["age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu"]
    # The raw values have at most 4 decimals; rounding drops float noise that some
    # scikit-learn versions leave when reading the file (4.803999999999999).
    frame = pd.DataFrame(np.round(bunch.data, 4), columns=columns)
    frame["progression"] = bunch.target
    return _integral_to_int(frame)


def build_digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = bunch.data.astype(np.float64) / 16.0  # 0..16 grey levels -> [0, 1]
    frame = pd.DataFrame(pixels, columns=[f"p{i}" for i in range(pixels.shape[1])])
    frame["label"] = bunch.target.astype(np.int64)
    return frame


# ---------------------------------------------------------------------------
# synthetic sensor readings for anomaly detection

SENSOR_SEED = 20240917
SENSOR_ROWS = 1000
SENSOR_ANOMALY_FRACTION = 0.03
# column -> (mean, spread, loading on factor "load", loading on factor "ambient")
SENSOR_COLUMNS = {
    "temperature_c": (21.0, 3.0, 0.5, 0.7),
    "humidity_pct": (45.0, 8.0, 0.0, -0.8),
    "pressure_kpa": (101.3, 0.8, 0.1, 0.6),
    "vibration_mm_s": (4.0, 0.8, 0.8, 0.0),
    "current_a": (12.0, 2.5, 0.9, 0.1),
    "power_kw": (2.6, 0.55, 0.9, 0.2),
}
SENSOR_SITES = {"north": 0.5, "south": 0.3, "west": 0.2}
# per-site shift of each column, in units of the column's spread
SENSOR_SITE_SHIFT = {
    "north": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "south": (0.8, 0.6, -0.3, 0.0, 0.0, 0.0),
    "west": (-0.5, -0.4, 0.2, 0.3, 0.4, 0.4),
}
SENSOR_NOISE = 0.3


def build_sensors() -> pd.DataFrame:
    """~1,000 readings of 6 correlated sensors driven by 2 latent factors.

    About 3 % of the rows are anomalies, flagged in ``is_anomaly``: half are
    spikes (one reading 4-6 spreads off), half break the correlation between
    the load-driven sensors while every single value stays in a normal range.
    Only elementwise arithmetic is used (no BLAS), so results do not depend on
    the linear-algebra library.
    """
    rng = np.random.default_rng(SENSOR_SEED)
    n = SENSOR_ROWS
    names = list(SENSOR_COLUMNS)
    params = np.array([SENSOR_COLUMNS[c] for c in names], dtype=np.float64)
    mean, spread, w_load, w_ambient = params.T

    site_names = list(SENSOR_SITES)
    site = rng.choice(site_names, size=n, p=list(SENSOR_SITES.values()))
    z = rng.standard_normal((n, 2))
    noise = rng.standard_normal((n, len(names))) * SENSOR_NOISE

    n_anomalies = int(round(SENSOR_ANOMALY_FRACTION * n))
    anomalies = np.sort(rng.choice(n, size=n_anomalies, replace=False))
    spikes, breaks = anomalies[: n_anomalies // 2], anomalies[n_anomalies // 2 :]

    # correlation breaks: a clearly loaded machine whose one load sensor reads
    # the opposite way round
    sign = rng.choice([-1.0, 1.0], size=len(breaks))
    z[breaks, 0] = sign * rng.uniform(1.8, 2.4, size=len(breaks))

    signal = z[:, [0]] * w_load + z[:, [1]] * w_ambient + noise
    shift = np.array([SENSOR_SITE_SHIFT[s] for s in site], dtype=np.float64)
    signal = signal + shift

    load_cols = [names.index(c) for c in ("vibration_mm_s", "current_a", "power_kw")]
    flip = rng.choice(load_cols, size=len(breaks))
    signal[breaks, flip] = -signal[breaks, flip]

    spike_cols = rng.integers(0, len(names), size=len(spikes))
    spike_size = rng.choice([-1.0, 1.0], size=len(spikes)) * rng.uniform(4.0, 6.0, size=len(spikes))
    signal[spikes, spike_cols] += spike_size

    values = np.round(mean + spread * signal, 3)
    frame = pd.DataFrame({"site": site})
    for j, col in enumerate(names):
        frame[col] = values[:, j]
    is_anomaly = np.zeros(n, dtype=np.int64)
    is_anomaly[anomalies] = 1
    frame["is_anomaly"] = is_anomaly
    return frame


# ---------------------------------------------------------------------------
# data shipped inside optional packages


def build_cars() -> pd.DataFrame | None:
    source = _package_file("vega_datasets", "_data/cars.json")
    if source is None:
        return None
    with open(source, encoding="utf-8") as fh:
        records = json.load(fh)
    raw = pd.DataFrame.from_records(records)
    frame = pd.DataFrame(
        {
            "name": raw["Name"].astype(object),
            "mpg": pd.to_numeric(raw["Miles_per_Gallon"], errors="coerce").astype(float),
            "cylinders": pd.to_numeric(raw["Cylinders"]).astype(float),
            "displacement": pd.to_numeric(raw["Displacement"]).astype(float),
            "horsepower": pd.to_numeric(raw["Horsepower"], errors="coerce").astype(float),
            "weight_lbs": pd.to_numeric(raw["Weight_in_lbs"]).astype(float),
            "acceleration": pd.to_numeric(raw["Acceleration"]).astype(float),
            "year": [int(str(v)[:4]) for v in raw["Year"]],  # "1970-01-01" -> 1970
            "origin": raw["Origin"].astype(object),
        }
    )
    return _integral_to_int(frame)


def build_penguins() -> pd.DataFrame | None:
    source = _package_file("palmerpenguins", "data/penguins.csv")
    if source is None:
        return None
    frame = pd.read_csv(source, keep_default_na=False, na_values=["NA", ""])
    expected = [
        "species", "island", "bill_length_mm", "bill_depth_mm",
        "flipper_length_mm", "body_mass_g", "sex", "year",
    ]
    frame = frame[expected]
    for col in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        frame[col] = frame[col].astype(float)
    return _integral_to_int(frame)


BUILDERS = {
    "iris": build_iris,
    "diabetes": build_diabetes,
    "digits": build_digits,
    "sensors": build_sensors,
    "cars": build_cars,
    "penguins": build_penguins,
}
OPTIONAL_PACKAGE = {"cars": "vega_datasets", "penguins": "palmerpenguins"}


def main(argv: list[str] | None = None) -> dict[str, Path]:
    parser = argparse.ArgumentParser(description="Rebuild the bundled example datasets.")
    parser.add_argument(
        "--out", type=Path, default=HERE,
        help="folder to write the CSVs into (default: this folder)",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME",
        help=f"datasets to build (default: all of {', '.join(BUILDERS)})",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(BUILDERS)}")
    names = args.names or list(BUILDERS)
    args.out.mkdir(parents=True, exist_ok=True)

    written: dict[str, Path] = {}
    for name in names:
        frame = BUILDERS[name]()
        if frame is None:
            print(
                f"skipped {name}: package {OPTIONAL_PACKAGE[name]!r} is not installed "
                f"(the committed {name}.csv is left as it is)",
                file=sys.stderr,
            )
            continue
        written[name] = _write(frame, args.out, name)
        print(f"wrote {written[name].name}: {frame.shape[0]} rows x {frame.shape[1]} columns")
    return written


if __name__ == "__main__":
    main()
