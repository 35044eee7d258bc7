"""A generator conditioned on a class column (`--task generate --target COL`): the bookkeeping its
estimator needs around the network, shared by the families that condition a network on the class.

The column leaves the table the network models; each row keeps its class as an index into the
column's values (a missing value is a class of its own). Sampling draws the indices in the
training rows' shares, or takes them from the values asked for, and the column is put back with
its dtype. The state is a dict of plain values, so a saved model holds no code of this module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.nn.frames import column_type, typed_column


def fit_classes(column: pd.Series) -> tuple[np.ndarray, dict]:
    """(each row's class index, the state `draw_classes` and the others read)."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    state = {
        "column": str(column.name),
        "values": [v.item() if isinstance(v, np.generic) else v for v in values],
        "shares": (np.bincount(codes, minlength=len(values)) / max(len(codes), 1)).tolist(),
        "type": column_type(column),
    }
    return codes.astype(np.int64), state


def class_count(state: dict | None) -> int:
    """Classes a model is conditioned on (0: not conditioned)."""
    return len(state["values"]) if state else 0


def draw_classes(state: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` class indices in the training rows' shares."""
    return rng.choice(len(state["values"]), size=int(n), p=np.asarray(state["shares"], dtype=float))


def class_indices(state: dict, values) -> np.ndarray:
    """The class index of each of `values` (matched as text); a value not seen in training is a
    ValueError that names it."""
    index = {str(v): i for i, v in enumerate(state["values"])}
    unknown = sorted({str(v) for v in values} - set(index))
    if unknown:
        raise ValueError(f"{', '.join(unknown[:3])}: not a value of {state['column']} seen in training")
    return np.array([index[str(v)] for v in values], dtype=np.int64)


def with_class_column(frame: pd.DataFrame, state: dict, classes: np.ndarray, columns: list) -> pd.DataFrame:
    """The generated rows `frame` with the class column put back (row i of class `classes[i]`),
    columns in the fitted order."""
    values = [state["values"][i] for i in classes]
    frame[state["column"]] = typed_column(values, state["type"], index=frame.index)
    return frame[list(columns)]
