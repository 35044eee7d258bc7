"""The estimator machinery of the architecture-agnostic deep families (the built-in `cnn` and
`resnet` use it; a plugin reaches it through `advisor.sdk`).

Such families train a torch network on one of three input layouts and answer the same four
tasks, so the work that does not depend on the architecture lives here:

- inputs: images (pixel columns with a given `image_shape`, or `(N, H, W[, C])` arrays) become
  `(N, C, H, W)` tensors, ordered sequences become `(N, 1, L)`, tables go through the core's
  `TabularEncoder`; scaling statistics are fitted on the training rows, NaN becomes the mean;
- the loop: the rows held out for early stopping, the epoch loop and its record come from the
  torch base every family shares (`advisor.nn.base.TorchEstimator`); AdamW with a cosine learning-rate decay,
  minibatches that stop at the trial deadline, random shifts of images and sequences;
- the four task classes (`advisor.nn.tasks`), which call the subclass's
  `_make_net(spec)` to build the architecture;
- saving (through the base's `TorchStateMixin`): the network is swapped for its weights, and
  `_build_module` rebuilds it from the plain `net_spec_` dictionary.

A family subclasses these with its own explicit hyperparameters and its `_make_net`.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import pandas as pd
import torch  # imported by `make_estimator` (through the estimators), never when the plugin loads
from scipy import sparse
from sklearn.utils.validation import validate_data

from advisor.nn.encoding import TabularEncoder
from advisor.nn.base import TorchEstimator
from advisor.nn.optim import AdamW, cpu_threads, random_shift
from advisor.runtime import budget

PREDICT_BATCH = 1024


# -- inputs -----------------------------------------------------------------------------------
def as_input(X):
    """A DataFrame as it is, anything else as a dense array of at least two dimensions."""
    if sparse.issparse(X):
        raise TypeError("sparse input is not supported: pass a dense array or a DataFrame")
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead. Reshape your data either using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it contains a single sample.")
    return X


def numeric_array(X) -> np.ndarray:
    """A float array from any array-like; complex numbers and infinities are refused."""
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported")
    arr = arr.astype(np.float64)
    if np.isinf(arr).any():
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return arr


def _object_array_frame(arr: np.ndarray) -> pd.DataFrame:
    """An object array as a frame: numeric where every value is a number, text kept as text."""
    try:
        return pd.DataFrame(numeric_array(arr), columns=[f"x{i}" for i in range(arr.shape[1])])
    except (TypeError, ValueError) as exc:
        cells = [v for v in arr.ravel() if not (v is None or isinstance(v, (str, numbers.Number)))]
        if cells or "infinity" in str(exc):
            raise
    frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    for col in frame.columns:
        converted = pd.to_numeric(frame[col], errors="coerce")
        if converted.notna().sum() == frame[col].notna().sum():
            frame[col] = converted.astype(float)
    return frame


class DeepEstimator(TorchEstimator):
    """Input handling, the training loop and persistence; subclasses add a task and a net.

    Subclasses define `__init__` with at least: `image_shape`, `modality`, `max_epochs`,
    `batch_size`, `lr`, `weight_decay`, `patience`, `validation_fraction`, `augment`,
    `n_threads`, `random_state`, `device`; and implement `_make_net(spec) -> nn.Module`.
    """

    _torch_modules = ("net_",)
    _default_layout = "sequence"  # layout of 2-D input without image_shape: "sequence" | "tabular"

    def _numeric_scaling(self) -> str:
        """How the tabular encoder scales numeric columns ("standard" or "quantile")."""
        return getattr(self, "scaling", "standard")

    # -- layout and encoding ----------------------------------------------------------------
    def _layout(self, X) -> str:
        modality = getattr(self, "modality", "auto")
        if modality not in ("auto", "image", "sequence", "tabular"):
            raise ValueError(f"modality must be 'auto', 'image', 'sequence' or 'tabular', got {modality!r}")
        if not isinstance(X, pd.DataFrame) and X.ndim > 2:
            return "image"
        if modality != "auto":
            if modality == "image" and self.image_shape is None:
                raise ValueError("modality='image' needs image_shape=(H, W[, C]) for 2-D input")
            return modality
        if self.image_shape is not None:
            return "image"
        return self._default_layout

    def _fit_inputs(self, X) -> np.ndarray:
        """Learn the input layout and scaling from the training rows; return the net's input."""
        X = as_input(X)
        self.layout_ = self._layout(X)
        self.input_shape_ = None
        if not isinstance(X, pd.DataFrame) and X.ndim > 2:
            self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        if X.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
        if int(np.prod(X.shape[1:])) == 0:
            raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        self._check_names(X, reset=True)
        if self.layout_ == "tabular":
            frame = self._as_frame(X)
            self.encoder_ = TabularEncoder(numeric=self._numeric_scaling(), categorical="onehot", max_levels=64).fit(frame)
            self.in_channels_, self.spatial_shape_ = int(self.encoder_.n_output_), None
            return self.encoder_.transform(frame)
        values, shape = self._spatial_values(X)
        self.spatial_shape_ = shape[:-1]  # (H, W) or (L,)
        self.in_channels_ = int(shape[-1])
        channels = values.reshape(len(values), -1, self.in_channels_)
        mean = np.nanmean(channels, axis=(0, 1)) if np.isfinite(channels).any() else np.zeros(self.in_channels_)
        std = np.nanstd(channels, axis=(0, 1)) if np.isfinite(channels).any() else np.ones(self.in_channels_)
        self.input_mean_ = np.nan_to_num(mean).astype(np.float64)
        self.input_scale_ = np.where(np.nan_to_num(std) > 1e-12, np.nan_to_num(std), 1.0).astype(np.float64)
        finite = values[np.isfinite(values)]
        self.input_low_ = float(finite.min()) if finite.size else 0.0
        self.input_high_ = float(finite.max()) if finite.size else 1.0
        return self._scale_spatial(values)

    def _inputs(self, X) -> np.ndarray:
        """The net's input for new rows, checked against what fit saw."""
        X = as_input(X)
        self._check_names(X, reset=False)
        if self.layout_ == "tabular":
            frame = self._as_frame(X)
            if not isinstance(X, pd.DataFrame):  # an array after a DataFrame fit: by position
                frame = frame.set_axis(self.encoder_.columns_, axis=1)
            return self.encoder_.transform(frame)
        values, _ = self._spatial_values(X)
        return self._scale_spatial(values)

    def _check_names(self, X, reset: bool) -> None:
        """`n_features_in_` and `feature_names_in_`, with scikit-learn's messages on a mismatch."""
        view = X.reshape(len(X), -1) if not isinstance(X, pd.DataFrame) and X.ndim > 2 else X
        validate_data(self, view, skip_check_array=True, reset=reset)

    def _as_frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X if all(isinstance(c, str) for c in X.columns) else X.rename(columns=str)
        arr = np.asarray(X)
        if arr.ndim > 2:
            arr = arr.reshape(len(arr), -1)
        if arr.dtype == object:
            return _object_array_frame(arr)
        return pd.DataFrame(numeric_array(arr), columns=[f"x{i}" for i in range(arr.shape[1])])

    def _spatial_values(self, X):
        """(N, positions, channels) float values and the per-row shape (H, W, C) or (L, C)."""
        if isinstance(X, pd.DataFrame):
            arr = X.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan) if any(
                not pd.api.types.is_numeric_dtype(t) for t in X.dtypes
            ) else X.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isinf(arr).any():
                raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
        else:
            arr = numeric_array(X)
        n = len(arr)
        if self.layout_ == "image":
            if arr.ndim > 2:
                shape = arr.shape[1:]
            else:
                shape = tuple(int(s) for s in (self.image_shape if self.image_shape is not None else self.input_shape_))
            if len(shape) == 2:
                shape = (*shape, 1)
            if int(np.prod(shape)) != int(np.prod(arr.shape[1:])):
                raise ValueError(f"X has {int(np.prod(arr.shape[1:]))} features, but {type(self).__name__} is expecting {int(np.prod(shape))} features as input (image_shape={shape})")
            return arr.reshape((n, *shape)), tuple(shape)
        arr = arr.reshape(n, -1)
        return arr.reshape(n, arr.shape[1], 1), (arr.shape[1], 1)

    def _scale_spatial(self, values: np.ndarray) -> np.ndarray:
        """(N, ..., C) raw values to channels-first, standardised, NaN as the mean."""
        z = (values - self.input_mean_) / self.input_scale_
        z = np.nan_to_num(z, nan=0.0)
        z = np.moveaxis(z, -1, 1)
        return np.ascontiguousarray(z, dtype=np.float32)

    def _unscale_spatial(self, z: np.ndarray) -> np.ndarray:
        """Channels-first standardised values back to (N, ..., C) raw values."""
        values = np.moveaxis(z, 1, -1).astype(np.float64)
        return values * self.input_scale_ + self.input_mean_

    # -- the network ------------------------------------------------------------------------
    def _spec(self, head: str, n_out: int) -> dict:
        """Plain description of the network to build; saved with the model to rebuild it."""
        return {
            "head": head,
            "layout": self.layout_,
            "in_channels": int(self.in_channels_),
            "spatial_shape": None if self.spatial_shape_ is None else [int(s) for s in self.spatial_shape_],
            "n_out": int(n_out),
        }

    def _make_net(self, spec: dict):
        """The family's architecture for `spec` (head, layout, in_channels, spatial_shape, n_out):
        every family on this base defines it (docs/plugins.md shows one)."""
        raise NotImplementedError(f"{type(self).__name__} must define _make_net(spec), the network to train")

    def _build_module(self, attr: str):
        from advisor.nn.seeding import torch_seed

        with torch_seed(0):
            return self._make_net(self.net_spec_)

    def _seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.SeedSequence().entropy % (2**31))
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(2**31 - 1))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(2**31 - 1))
        return int(rs)

    def _check_params(self):
        for name in ("max_epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")

    def _train(self, inputs: np.ndarray, targets: np.ndarray | None, *, head: str, n_out: int, objective):
        """Build the net for `spec` and train it with `objective` (see the task classes).

        `objective` has `loss(net, xb, yb, generator)` for a training batch and
        `score(net, X, y)` for the validation rows (higher is better).
        """
        from advisor.nn.seeding import derive_seed, torch_generator, torch_seed
        from advisor.nn.training import minibatch_pass

        self._check_params()
        n = len(inputs)
        if n < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 rows to train; got 1 sample")
        seed = self._seed()
        device = self._start_device()
        train_idx, valid_idx = self._holdout(n, seed)
        n_valid = len(valid_idx)
        self.net_spec_ = self._spec(head, n_out)
        with torch_seed(seed):
            net = self._make_net(self.net_spec_)
        net = net.to(device)
        gen = torch_generator(seed)
        Xt = torch.as_tensor(inputs[train_idx], device=device)
        yt = None if targets is None else torch.as_tensor(targets[train_idx], device=device)
        Xv = torch.as_tensor(inputs[valid_idx], device=device) if n_valid else None
        yv = None if targets is None or not n_valid else torch.as_tensor(targets[valid_idx], device=device)
        opt = AdamW(net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay), total_epochs=int(self.max_epochs))
        batch = int(min(self.batch_size, len(train_idx)))

        def batch_loss(idx):
            idx = idx.to(device)
            xb = Xt[idx]
            if self.augment and self.layout_ != "tabular":
                xb = random_shift(xb, gen)
            return objective.loss(net, xb, None if yt is None else yt[idx], gen)

        def run_epoch(epoch: int) -> float:
            net.train()
            mean_loss = minibatch_pass(opt, len(train_idx), batch, batch_loss, generator=gen, min_rows=2)  # batch norm needs two rows
            opt.next_epoch()
            return mean_loss

        def validate() -> float:
            net.eval()
            with torch.no_grad():
                return float(objective.score(net, Xv, yv))

        # Dropout draws from torch's global generator: training runs under a forked, seeded
        # one, so seeded runs repeat and the caller's random state is left as it was.
        with cpu_threads(self.n_threads, device), torch_seed(derive_seed(seed, "train")):
            history = self._run_epochs(run_epoch, self.max_epochs, validate=validate if n_valid else None, module=net)
        net.eval()
        self.net_ = net
        self.history_ = self._record(history, train_rows=int(len(train_idx)), valid_rows=int(n_valid))
        self.n_epochs_ = history.epochs
        return self

    def _forward(self, inputs: np.ndarray, method: str = "forward") -> np.ndarray:
        """Run the fitted net (or one of its methods) in evaluation mode, in batches."""
        net = self.net_
        device = next(net.parameters()).device
        dtype = torch.float32
        if device.type == "cpu" and not budget.in_run_scoring():
            # In float64 a row's answer does not depend on the batch it came in (float32
            # matrix kernels change with the batch size and differ in the last bits); the run's
            # own scoring takes float32's speed (advisor.runtime.budget.run_scoring).
            net, dtype = copy.deepcopy(net).double(), torch.float64
        fn = getattr(net, method)
        outs = []
        net.eval()
        with torch.no_grad(), cpu_threads(self.n_threads, str(device)):
            for start in range(0, len(inputs), PREDICT_BATCH):
                xb = torch.as_tensor(inputs[start : start + PREDICT_BATCH], device=device, dtype=dtype)
                outs.append(fn(xb).double().cpu().numpy())
        return np.concatenate(outs, axis=0) if outs else np.zeros((0,))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
