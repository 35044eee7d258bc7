"""Reading user data into one DataFrame, with one-line errors for everything malformed.

Sources: a CSV (delimiter and encoding sniffed), a Parquet file, an ``.npz`` with ``X`` of shape
``(N, H, W[, C])`` and an optional ``y``, a DataFrame, an array, or an ``(X, y)`` pair. Images
become pixel columns ``p0..pK`` so that the whole core works on one table; the image shape is
carried beside it.
"""

from __future__ import annotations

import csv
import gzip
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import InputError

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".data"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SPREADSHEET_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".ods"}
SNIFF_BYTES = 256 * 1024


@dataclass
class Table:
    """A dataset as the core sees it: one frame, plus what the file said about its shape."""

    frame: pd.DataFrame
    source: str
    image_shape: tuple[int, ...] | None = None
    warnings: list[str] = field(default_factory=list)
    target: str | None = None  # the column that holds labels given apart from X (an (X, y) pair)
    # False when the column names were invented for an array (x0, x1, ...): such names must never
    # decide the modality, since they say nothing about the data's order.
    named_columns: bool = True
    # (H, W[, C]) when the user gave an image array: the returned model takes and gives arrays.
    array_shape: tuple[int, ...] | None = None


def pixel_columns(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def images_to_frame(images: np.ndarray) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """(N, H, W[, C]) array -> (pixel-column frame, image shape)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise InputError(f"images must have shape (N, H, W) or (N, H, W, C), got {images.shape}")
    if not np.issubdtype(images.dtype, np.number):
        raise InputError(f"images must be numeric, got dtype {images.dtype}")
    shape = tuple(int(s) for s in images.shape[1:])
    flat = images.reshape(len(images), -1).astype(np.float64)
    return pd.DataFrame(flat, columns=pixel_columns(flat.shape[1])), shape


def read_table(
    source: Any,
    target: Any = None,
) -> Table:
    """Read `source` (path, DataFrame, array or (X, y)) into a `Table`.

    `target` may be a column name, or an array-like of labels when `source` is a bare X. A `Table`
    passes through (callers that built one themselves, such as the scikit-learn estimators).
    """
    if isinstance(source, Table):
        table = source
    elif isinstance(source, (str, Path)):
        table = _read_path(Path(source))
    elif isinstance(source, pd.DataFrame):
        table = Table(_str_columns(source), "DataFrame")
    elif isinstance(source, tuple) and len(source) == 2:
        table = _from_xy(*source)
    elif isinstance(source, np.ndarray):
        table = _from_array(source)
    else:
        raise InputError(
            f"data must be a file path, a DataFrame, an array or an (X, y) pair, not {type(source).__name__}"
        )
    if target is not None and not isinstance(target, str) and not np.isscalar(target):
        table = _attach_target(table, target)
    elif target is not None and not isinstance(target, str):  # a column named by a number (a frame built from an array)
        table.target = str(target)
    _check_frame(table.frame, table.source)
    return table


def array_columns(n: int) -> list[str]:
    """The names given to the columns of a 2-D array (they never decide the modality)."""
    return [f"x{i}" for i in range(n)]


def _from_array(X: np.ndarray) -> Table:
    if X.ndim in (3, 4):
        frame, shape = images_to_frame(X)
        return Table(frame, "array", image_shape=shape, named_columns=False, array_shape=shape)
    if X.ndim != 2:
        raise InputError(f"an array of features must be 2-D (rows x columns), got shape {X.shape}")
    return Table(pd.DataFrame(X, columns=array_columns(X.shape[1])), "array", named_columns=False, array_shape=(X.shape[1],))


def _str_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names as strings (a frame built from an array has integer names)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _from_xy(X: Any, y: Any) -> Table:
    if isinstance(X, Table):
        table = X
    elif isinstance(X, pd.DataFrame):
        table = Table(_str_columns(X), "DataFrame")
    else:
        table = _from_array(np.asarray(X))
    return _attach_target(table, y)


def _attach_target(table: Table, y: Any) -> Table:
    values = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:  # one column, as df[["label"]] gives it
        values = values[:, 0]
    if values.ndim != 1:
        raise InputError(f"y must hold one label per row (one column), got shape {values.shape}")
    y = pd.Series(values)
    if len(y) != len(table.frame):
        raise InputError(f"X has {len(table.frame)} rows but y has {len(y)}")
    name = "target"
    while name in table.frame.columns:
        name = "_" + name
    frame = table.frame.copy()
    frame[name] = y.to_numpy()
    table.frame = frame
    table.target = name
    return table


def _read_path(path: Path) -> Table:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a data file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        raise InputError(f"{path}: spreadsheets are not read; save the sheet as CSV (or Parquet)")
    if suffix == ".json":
        raise InputError(f"{path}: JSON is not read; give the table as CSV, Parquet or .npz")
    if head.startswith(b"PAR1") or suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    if head.startswith(b"PK") or suffix == ".npz":
        return _read_npz(path)
    if head.startswith(b"\x1f\x8b"):
        return _read_csv(path, _gzip_head(path, suffix))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 text; save it as UTF-8 (most tools offer it as 'CSV UTF-8')")
    if b"\x00" in head:
        raise InputError(f"{path}: binary file, not a CSV, Parquet or .npz table")
    return _read_csv(path, head)


def _gzip_head(path: Path, suffix: str) -> bytes:
    """The first bytes of a gzip-compressed CSV (pandas reads the rest, by the .gz ending)."""
    if suffix != ".gz":
        raise InputError(f"{path}: compressed with gzip; name it .csv.gz, or decompress it")
    try:
        with gzip.open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable gzip file ({exc})") from None
    if not head:
        raise InputError(f"{path}: file is empty")
    if b"\x00" in head:
        raise InputError(f"{path}: a compressed binary file; only a CSV may be compressed (.csv.gz)")
    return head


def _read_parquet(path: Path) -> Table:
    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow (pip install 'advisor[parquet]')") from None
    except Exception as exc:  # noqa: BLE001 - any parse failure is bad input
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    return Table(frame, str(path))


def _read_npz(path: Path) -> Table:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable .npz file ({type(exc).__name__})") from None
    if "X" not in arrays:
        raise InputError(f"{path}: .npz needs an array named X (found: {', '.join(sorted(arrays)) or 'none'})")
    X = arrays["X"]
    if X.ndim == 2:
        table = Table(pd.DataFrame(X, columns=array_columns(X.shape[1])), str(path), named_columns=False)
    elif X.ndim in (3, 4):
        frame, shape = images_to_frame(X)
        table = Table(frame, str(path), image_shape=shape, named_columns=False)
    else:
        raise InputError(f"{path}: X must have shape (N, features) or (N, H, W[, C]), got {X.shape}")
    if "y" in arrays:
        y = arrays["y"]
        if y.ndim != 1 or len(y) != len(X):
            raise InputError(f"{path}: y has shape {y.shape} but X has {len(X)} rows; y must be 1-D with one label per row")
        table.frame["y"] = y
        table.target = "y"
    return table


def _decode(raw: bytes, path: Path) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return raw.decode("latin-1"), f"{path.name} is not UTF-8; read it as Latin-1"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, head: bytes) -> Table:
    # Only the sniffed head must be cut on a line boundary; the full read decodes everything.
    head_text, _ = _decode(head[: head.rfind(b"\n") + 1] or head, path)
    delimiter = _sniff_delimiter(head_text)
    header = next(csv.reader(io.StringIO(head_text.splitlines()[0] if head_text else ""), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise InputError(f"{path}: no header row")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{path}: duplicate column names: {', '.join(dupes)}")
    notes = []
    encoding = "utf-8-sig"
    try:
        try:
            frame = _pandas_csv(path, delimiter, encoding)
        except UnicodeDecodeError:
            encoding = "latin-1"
            frame = _pandas_csv(path, delimiter, encoding)
            notes.append(f"{path.name} is not UTF-8; read it as Latin-1")
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file has no columns") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a well-formed CSV ({first})") from None
    if delimiter != ",":
        notes.append(f"{path.name}: read with delimiter {delimiter!r}")
        frame = _with_decimal_commas(path, frame, delimiter, encoding, notes)
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table(frame, str(path), warnings=notes)


def _with_decimal_commas(path: Path, frame: pd.DataFrame, delimiter: str, encoding: str, notes: list[str]) -> pd.DataFrame:
    """The table read again with ',' as the decimal mark where that makes more of its columns
    numbers: a file separated by ';' or tabs is often written where the comma is the decimal mark
    (1,5 for one and a half), and read with the point those numbers are text."""
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if not any(_looks_like_decimal_commas(frame[c]) for c in text_columns):
        return frame  # no column to gain: the file is not read twice
    try:
        again = _pandas_csv(path, delimiter, encoding, decimal=",")
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return frame
    converted = [c for c in text_columns if c in again.columns and pd.api.types.is_numeric_dtype(again[c])]
    if not converted or list(again.columns) != list(frame.columns):
        return frame
    notes.append(f"{path.name}: read ',' as the decimal mark ({len(converted)} column(s) of numbers written 1,5)")
    return again


DECIMAL_COMMA = r"^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$"


def _looks_like_decimal_commas(column: pd.Series, sample: int = 200) -> bool:
    """Whether most of a text column's first values are numbers written with a decimal comma."""
    values = column.dropna().astype(str).head(sample)
    return len(values) > 0 and values.str.match(DECIMAL_COMMA).mean() >= 0.5


LARGE_CSV_BYTES = 32 * 2**20


def _pandas_csv(path: Path, delimiter: str, encoding: str, decimal: str = ".") -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.stat().st_size > LARGE_CSV_BYTES and encoding.startswith("utf-8") and decimal == ".":
            # Large files: pyarrow's multi-threaded parser, when installed, is several times faster.
            try:
                return pd.read_csv(path, sep=delimiter, encoding="utf-8", engine="pyarrow")
            except Exception:  # noqa: BLE001 - no pyarrow, or a file it cannot read: the C parser decides
                pass
        return pd.read_csv(path, sep=delimiter, encoding=encoding, decimal=decimal, skipinitialspace=True, low_memory=False)


def _check_frame(frame: pd.DataFrame, source: str) -> None:
    if frame.shape[1] == 0:
        raise InputError(f"{source}: the table has no columns")
    if len(frame) == 0:
        raise InputError(f"{source}: the table has a header but no rows")
    complex_columns = [str(c) for c in frame.columns if pd.api.types.is_complex_dtype(frame[c])]
    if complex_columns:
        raise InputError(f"{source}: columns of complex numbers are not supported: {', '.join(complex_columns[:5])}")
    names = [str(c) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{source}: duplicate column names: {', '.join(dupes)}")
