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

from sklearn.utils.validation import check_is_fitted

from advisor.nn.frames import column_type, typed_column
from advisor.nn.seeding import derive_seed


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


class ClassConditionedSampler:
    """`sample`, `sample_for` and `condition_values_` of a generator that may be conditioned on a
    class column (its state in `class_condition_`, None when not conditioned). The estimator
    gives `_sample_seed(random_state)` and `_rows(n, seed, classes)`: `n` rows, row i of class
    index `classes[i]` (None: not conditioned)."""

    def sample(self, n, random_state=None):
        """`n` new rows; a conditioned model draws each row's class in the training rows' shares."""
        check_is_fitted(self, "net_")
        seed = self._sample_seed(random_state)
        state = getattr(self, "class_condition_", None)
        classes = draw_classes(state, int(n), np.random.default_rng(derive_seed(seed, "classes"))) if class_count(state) else None
        return self._rows(int(n), seed, classes)

    @property
    def condition_values_(self) -> list | None:
        """The values of `condition_on` the model was conditioned on (None: not conditioned)."""
        state = getattr(self, "class_condition_", None)
        return state["values"] if class_count(state) else None

    def sample_for(self, values, random_state=None):
        """One row per entry of `values` (values of `condition_on` seen in training, in order),
        each drawn given its value: the model's conditional distribution without rejection."""
        check_is_fitted(self, "net_")
        state = getattr(self, "class_condition_", None)
        if not class_count(state):
            raise ValueError("sample_for needs a model fitted with condition_on")
        classes = class_indices(state, values)
        return self._rows(len(classes), self._sample_seed(random_state), classes)
