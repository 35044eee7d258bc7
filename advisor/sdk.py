"""The plugin author's API: everything a model family needs from advisor, in one module.

    from advisor.sdk import Family, Support, Uncertainty, Interpretability, hookimpl

A plugin (built-in or third-party) imports from here and nowhere else in `advisor`; the rest of
the package may change between versions, this module keeps its names. The guide with worked
examples is `docs/plugins.md`. What it holds:

- the contract: `hookimpl`, `Family`, `Support`, `Interpretability`, `Uncertainty`, `TASKS`,
  `MODALITIES`, `DECLARED_UNCERTAINTY`; the prior of a family's criteria before any training:
  `family_prior`; the conformance kit: `check_family`, `toy_table`, `toy_images`;
- the budget inside `fit`: `time_left`, `deadline`, `current_trial` (the Optuna trial to report
  to), `repeatable` (train by counts only), `fit_scope` (to run a fit under a deadline yourself,
  as tests do), `record_curve`; CPU threads: `thread_limit`;
- seeding without global state: `derive_seed`, `numpy_rng`, `torch_generator`, `torch_seed`;
- inputs: `TabularEncoder` (mixed tables to numbers and back), `as_frame`, `image_form`,
  `TakesTables` (scikit-learn tags of an estimator that reads mixed tables itself);
- torch (loaded on first use, so that importing a plugin never imports torch):
  `TorchEstimator`, the base every torch family's estimators derive from (device, the rows held
  out for early stopping, the epoch loop and its `history_` record, saving without pickle);
  `resolve_device`, `TorchStateMixin` (saving without pickle), `train_epochs` and
  `iterate_minibatches`, `minibatch_pass` (the epoch loop that honours the deadline, stops early, reports to
  Optuna and records the learning curve), `AdamW` (torch's, with a deadline-aware cosine
  decay), `load_torch_optim` (pays torch.optim's slow first use outside any fit), `cpu_threads`,
  `random_shift`;
  the deep estimator base `DeepEstimator` with its task classes `DeepClassifier`,
  `DeepRegressor`, `DeepEmbedder`, `DeepDenoiser` (a family adds its hyperparameters and
  `_make_net`), and `deep_estimator` to build the one a task needs from a profile; convolution blocks `conv_layers`, `odd_kernel`, `global_pool`, `StagedTrunk`, `BottleneckAutoencoder`;
- hyperparameters declared once: `declared_init` builds an `__init__` scikit-learn reads from a
  table of defaults; `DEEP_TRAINING` and `deep_training(...)` are the deep base's options.
"""

from __future__ import annotations

from importlib import import_module

from advisor.families.contract import DECLARED_UNCERTAINTY, MODALITIES, TASKS, Family, Interpretability, Support, Uncertainty
from advisor.families.hookspecs import hookimpl
from advisor.nn.seeding import derive_seed, numpy_rng, torch_generator, torch_seed
from advisor.runtime.budget import current_trial, deadline, fit_scope, record_curve, repeatable, time_left
from advisor.runtime.measure import thread_limit

# Names whose modules import pandas, scikit-learn or torch: loaded when first asked for.
_LAZY = {
    "family_prior": "advisor.priors",
    "check_family": "advisor.testing",
    "toy_table": "advisor.testing",
    "toy_images": "advisor.testing",
    "TabularEncoder": "advisor.nn.encoding",
    "as_frame": "advisor.nn.frames",
    "image_form": "advisor.nn.frames",
    "column_type": "advisor.nn.frames",
    "typed_column": "advisor.nn.frames",
    "fit_classes": "advisor.nn.conditioning",
    "ClassConditionedSampler": "advisor.nn.conditioning",
    "class_count": "advisor.nn.conditioning",
    "draw_classes": "advisor.nn.conditioning",
    "class_indices": "advisor.nn.conditioning",
    "with_class_column": "advisor.nn.conditioning",
    "TakesTables": "advisor.nn.frames",
    "resolve_device": "advisor.nn.device",
    "TorchStateMixin": "advisor.nn.persist",
    "TorchEstimator": "advisor.nn.base",
    "train_epochs": "advisor.nn.training",
    "iterate_minibatches": "advisor.nn.training",
    "minibatch_pass": "advisor.nn.training",
    "AdamW": "advisor.nn.optim",
    "load_torch_optim": "advisor.nn.optim",
    "cpu_threads": "advisor.nn.optim",
    "random_shift": "advisor.nn.optim",
    "declared_init": "advisor.nn.params",
    "deep_training": "advisor.nn.params",
    "DEEP_TRAINING": "advisor.nn.params",
    "DeepEstimator": "advisor.nn.engine",
    "as_input": "advisor.nn.engine",
    "numeric_array": "advisor.nn.engine",
    "DeepClassifier": "advisor.nn.tasks",
    "DeepRegressor": "advisor.nn.tasks",
    "DeepEmbedder": "advisor.nn.tasks",
    "DeepDenoiser": "advisor.nn.tasks",
    "deep_estimator": "advisor.nn.tasks",
    "conv_layers": "advisor.nn.blocks",
    "odd_kernel": "advisor.nn.blocks",
    "global_pool": "advisor.nn.blocks",
    "BottleneckAutoencoder": "advisor.nn.blocks",
    "StagedTrunk": "advisor.nn.blocks",
}

__all__ = [
    "DECLARED_UNCERTAINTY",
    "MODALITIES",
    "TASKS",
    "Family",
    "Interpretability",
    "Support",
    "Uncertainty",
    "current_trial",
    "deadline",
    "derive_seed",
    "fit_scope",
    "hookimpl",
    "numpy_rng",
    "record_curve",
    "repeatable",
    "thread_limit",
    "time_left",
    "torch_generator",
    "torch_seed",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advisor.sdk' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
