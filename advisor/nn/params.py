"""Hyperparameters declared once: an `__init__` that scikit-learn can read, built from a table.

scikit-learn reads an estimator's hyperparameters from the signature of its `__init__` and
expects that method to store every argument unchanged under its own name. The estimators of one
family share most of their hyperparameters (its four task classes differ by one or two), and
every deep family has the same training options; writing each list out per class copies twenty
lines at a time. Instead a family declares its parameters as ordered tables of defaults and
builds each class's `__init__` from them with `declared_init`: the signature is exact (the names,
their order, their defaults; `inspect.signature`, `get_params`, `clone` and `help` see it) and
the body stores the arguments, nothing else.

    TRAINING = {"lr": 1e-3, "max_epochs": 30, "random_state": None}
    class MyRegressor(RegressorMixin, BaseEstimator):
        __init__ = declared_init({"width": 64, **TRAINING})
"""

from __future__ import annotations

import inspect

# The options of the deep estimator base (advisor.nn.engine), with its defaults; a family
# overrides some of them with `deep_training(...)`.
DEEP_TRAINING = {
    "max_epochs": 20,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "patience": 8,
    "validation_fraction": 0.15,
    "augment": False,
    "n_threads": 1,
    "random_state": None,
    "device": "auto",
}


def deep_training(**overrides) -> dict:
    """The deep base's training options with some defaults changed (unknown names are refused)."""
    unknown = set(overrides) - set(DEEP_TRAINING)
    if unknown:
        raise TypeError(f"not a training option of the deep base: {sorted(unknown)}")
    return {**DEEP_TRAINING, **overrides}


def declared_init(params: dict, *, keyword_only: bool = True):
    """An `__init__` taking exactly `params` (name -> default, in order) and storing each one.

    `keyword_only=False` lets the parameters be passed by position too, in the table's order.
    """
    kind = inspect.Parameter.KEYWORD_ONLY if keyword_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature([self_param] + [inspect.Parameter(name, kind, default=value) for name, value in params.items()])
    names = tuple(params)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name in names:
            setattr(self, name, bound.arguments[name])

    __init__.__signature__ = signature
    __init__.__doc__ = "Store the hyperparameters: " + ", ".join(f"{name}={value!r}" for name, value in params.items()) + "."
    return __init__
