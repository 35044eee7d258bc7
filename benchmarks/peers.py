"""The peer tools behind the scorer's estimator contract, each given a time budget.

Every peer is an optional import (the `bench` extra); `available(tool)` says whether it can run
here, and `make(tool, meta, budget)` returns an object with `fit` plus the method the case's
task needs (`predict` / `predict_proba` / `classes_`, `sample`, `score_samples`, `transform`).
Each peer gets one CPU thread, as the advisor does on data this small, so that two benchmark
jobs can share a 2-core machine without one starving the other.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time

import numpy as np
import pandas as pd

PREDICTION = ("flaml", "autogluon", "hgb_default")
GENERATION = ("sdv_gaussian_copula", "sdv_ctgan", "sdv_tvae", "synthcity_ddpm", "synthcity_arf")
DETECTION = ("isolation_forest", "ecod")
EMBEDDING = ("pca16",)
DENOISING = ("pca_recon",)
FLAML_LEARNERS = ["lgbm", "rf", "xgboost", "extra_tree", "xgb_limitdepth", "lrl1"]  # lrl1: classification only
MODULES = {"flaml": "flaml", "autogluon": "autogluon.tabular", "ecod": "pyod", "synthcity_ddpm": "synthcity", "synthcity_arf": "synthcity"}
MODULES.update({t: "sdv" for t in GENERATION if t.startswith("sdv_")})


def available(tool: str) -> bool:
    module = MODULES.get(tool)
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def tools_for(task: str) -> tuple[str, ...]:
    return {
        "classify": PREDICTION, "regress": PREDICTION, "generate": GENERATION,
        "detect": DETECTION, "embed": EMBEDDING, "denoise": DENOISING,
    }[task]


class FLAMLModel:
    """FLAML's AutoML with `time_budget` seconds, its default learners but CatBoost, one job.

    CatBoost is left out because its first trial alone ran 70 s on the 142 rows of clf_wine here
    (FLAML does not stop a trial in progress), which would overrun every budget of the suite.
    """

    def __init__(self, meta: dict, budget: float):
        self.meta, self.budget = meta, budget

    def fit(self, X: pd.DataFrame, y: pd.Series):
        from flaml import AutoML

        self.automl_ = AutoML()
        task = "classification" if self.meta["task"] == "classify" else "regression"
        self.automl_.fit(X_train=categories(X, self.meta), y_train=y, task=task, time_budget=self.budget,
                         n_jobs=1, seed=0, verbose=0,
                         estimator_list=FLAML_LEARNERS if task == "classification" else FLAML_LEARNERS[:-1])
        if task == "classification":
            self.classes_ = np.asarray(self.automl_.classes_)
        return self

    def predict(self, X):
        return np.asarray(self.automl_.predict(categories(X, self.meta)))

    def predict_proba(self, X):
        return np.asarray(self.automl_.predict_proba(categories(X, self.meta)))


class AutoGluonModel:
    """AutoGluon's TabularPredictor, preset `medium_quality`, `time_limit` seconds, one CPU."""

    def __init__(self, meta: dict, budget: float):
        self.meta, self.budget = meta, budget

    def fit(self, X: pd.DataFrame, y: pd.Series):
        from autogluon.tabular import TabularPredictor

        self.path_ = tempfile.mkdtemp(prefix="ag-")
        label = self.meta["target"]
        problem = None if self.meta["task"] == "classify" else "regression"
        self.predictor_ = TabularPredictor(label=label, path=self.path_, problem_type=problem, verbosity=0)
        self.predictor_.fit(X.assign(**{label: y.to_numpy()}), time_limit=self.budget, presets="medium_quality",
                            num_cpus=1, num_gpus=0)
        if self.meta["task"] == "classify":
            self.classes_ = np.asarray(self.predictor_.class_labels)
        return self

    def predict(self, X):
        return self.predictor_.predict(X).to_numpy()

    def predict_proba(self, X):
        return self.predictor_.predict_proba(X)[list(self.classes_)].to_numpy()

    def __del__(self):
        if getattr(self, "path_", None):
            shutil.rmtree(self.path_, ignore_errors=True)


class SDVGenerator:
    """An SDV synthesizer behind `fit(frame)` / `sample(n)`; CTGAN and TVAE get as many epochs
    as fit in `budget` seconds (timed on 2- and 5-epoch fits, after a 1-epoch warm-up)."""

    def __init__(self, kind: str, budget: float):
        self.kind, self.budget = kind, budget

    def _make(self, metadata, epochs=None):
        from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

        if self.kind == "gaussian_copula":
            return GaussianCopulaSynthesizer(metadata)
        cls = CTGANSynthesizer if self.kind == "ctgan" else TVAESynthesizer
        return cls(metadata, epochs=epochs, enable_gpu=False)

    def fit(self, frame):
        from sdv.metadata import Metadata

        metadata = Metadata.detect_from_dataframes({"table": frame})
        self.epochs_ = None
        if self.kind != "gaussian_copula":
            self._make(metadata, 1).fit({"table": frame})  # warm-up: first calls pay one-off costs
            seconds = {}
            for e in (2, 5):
                t0 = time.perf_counter()
                self._make(metadata, e).fit({"table": frame})
                seconds[e] = time.perf_counter() - t0
            per_epoch = max((seconds[5] - seconds[2]) / 3, seconds[5] / 50)
            overhead = max(seconds[2] - 2 * per_epoch, 0.0)
            self.epochs_ = int(np.clip((self.budget - overhead) / per_epoch, 1, 300))
        self.model_ = self._make(metadata, self.epochs_)
        t0 = time.perf_counter()
        self.model_.fit({"table": frame})
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def sample(self, n, random_state=None):
        out = self.model_.sample(num_rows=int(n))
        return out["table"] if isinstance(out, dict) else out


class SynthcityDDPM:
    """synthcity's TabDDPM plugin, with as many iterations as the budget allows (timed on 50).

    Runs only where synthcity is installed; its 0.2 releases pin torch < 2.3, so `scripts/bench`
    installs it in an environment of its own (.venv-synthcity) and runs its jobs there.
    """

    def __init__(self, budget: float):
        self.budget = budget

    def fit(self, frame):
        from synthcity.plugins import Plugins

        t0 = time.perf_counter()
        Plugins().get("ddpm", n_iter=50).fit(frame)
        per_iter = (time.perf_counter() - t0) / 50
        self.n_iter_ = int(np.clip(self.budget / max(per_iter, 1e-3), 50, 10_000))
        self.model_ = Plugins().get("ddpm", n_iter=self.n_iter_)
        self.model_.fit(frame)
        return self

    def sample(self, n):
        return self.model_.generate(count=int(n)).dataframe()


class SynthcityARF:
    """synthcity's adversarial random forest plugin (arfpy, Watson et al., 2023) with its
    defaults: it trains until its own stopping rule, in seconds on these tables."""

    def __init__(self, budget: float):
        self.budget = budget

    def fit(self, frame):
        from synthcity.plugins import Plugins

        self.model_ = Plugins().get("arf")
        self.model_.fit(frame)
        return self

    def sample(self, n):
        return self.model_.generate(count=int(n)).dataframe()


class ECODDetector:
    """pyod's ECOD on the scorer's preprocessing (median-imputed numerics, one-hot categoricals)."""

    def __init__(self, meta: dict, score):
        self.meta, self.score = meta, score

    def fit(self, X):
        from pyod.models.ecod import ECOD

        self.prep_ = self.score.TabPrep(cat_cols=self.score._feature_cats(self.meta, X.columns)).fit(X)
        self.model_ = ECOD().fit(self.prep_.transform(X))
        return self

    def score_samples(self, X):
        return -self.model_.decision_function(self.prep_.transform(X))  # pyod: higher = more abnormal


def categories(X: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """String columns as pandas categories, which FLAML's learners take natively."""
    X = X.copy()
    for c in meta.get("categorical_columns", []):
        if c in X.columns:
            X[c] = X[c].astype("category")
    return X


def make(tool: str, meta: dict, budget: float, score):
    """A fresh peer for the case; the scorer's own reference models where it has them."""
    if tool == "flaml":
        return FLAMLModel(meta, budget)
    if tool == "autogluon":
        return AutoGluonModel(meta, budget)
    if tool.startswith("sdv_"):
        return SDVGenerator(tool.removeprefix("sdv_"), budget)
    if tool == "synthcity_ddpm":
        return SynthcityDDPM(budget)
    if tool == "synthcity_arf":
        return SynthcityARF(budget)
    if tool == "ecod":
        return ECODDetector(meta, score)
    train = score.load_case(meta["name"])[0]
    reference = {"hgb_default": "hgb", "isolation_forest": "isolation_forest", "pca16": "pca16", "pca_recon": "pca_recon"}[tool]
    return score.reference_models(meta, train)[reference]
