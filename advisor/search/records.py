"""What the search keeps: each family's trials and best model, the run's settings, its constants."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.criteria import Evaluation
from advisor.families.contract import Family
from advisor.settings import settings

COST_ORDER = {"low": 0, "moderate": 1, "high": 2}
MIN_TRIAL_SECONDS = 0.3
PRIOR_PULL = 1.0  # how far a full point of prior score moves a family's exploration bonus, in spreads
# At most this share of the search's time is kept for the verdict's cross-validation: the leading
# families are cross-validated first, the others judged on the validation rows.
VERDICT_SHARE = 0.3
CHEAP_TRIALS, CHEAP_SHARE = 8, 0.02  # trials that cost under 2 % of the budget: up to 8 before the rest
IMPROVEMENT_ODDS = 0.9  # share of paired bootstrap draws in which a new best must beat the old
# A family whose best training run its time cut short has that run's configuration trained again
# with up to PROMOTION_FACTOR times the epochs (the reduction factor of the successive halving
# pruner, advisor.search.studies), when at least MIN_PROMOTION times fit in what is left.
PROMOTION_FACTOR, MIN_PROMOTION = 3.0, 2.0
PROMOTION_SLACK = 1.25  # a promotion's time slice, per second its epochs took in the best run


class StorageLost(Exception):
    """The Optuna storage stopped answering in the middle of a search."""


@dataclass
class TrialRecord:
    number: int
    params: dict
    state: str  # complete | pruned | failed
    value: float | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass
class FamilyRun:
    """Everything the search learned about one family."""

    family: Family
    plugin: str | None = None
    status: str = "pending"  # pending | ok | failed | unsupported | skipped
    reason: str = ""
    trials: list[TrialRecord] = field(default_factory=list)
    best_value: float = -math.inf  # the best trial's validation fidelity
    best_objective: float = -math.inf  # ... and its objective (advisor.criteria.objective), which chose it
    best_params: dict | None = None
    best_estimator: object | None = None
    fit_seconds: float | None = None
    fit_rows: int = 0
    peak_memory_mb: float | None = None
    growth_exponent: float | None = None
    growth_note: str = ""
    eval_seconds: float = 0.0
    study: object | None = None
    test: Evaluation | None = None
    best_eval: Evaluation | None = None  # the best trial's scoring on the validation rows
    last_eval: Evaluation | None = field(default=None, repr=False)
    best_curve: dict | None = field(default=None, repr=False)  # the best trial's learning curve (advisor.judging.curves)
    last_curve: dict | None = field(default=None, repr=False)
    forecast: object | None = None  # advisor.judging.forecast.Forecast, where the judge made one
    resource_epochs: int | None = None  # the epochs every trial after the first gets (Family.resource_param)
    resource_from_deadline: bool = False  # ... set by what the first trial's time afforded
    promotions: int = 0  # times the best configuration was trained again with more epochs and kept
    promotion_failed: bool = False  # a promotion that did not beat the best: no more are tried
    selection: object | None = None  # advisor.judging.verdict.Selection, set by advisor.judging.judge
    exhausted: bool = False
    last_improvement: int = 0
    seen: set = field(default_factory=set)  # Optuna trial numbers already counted
    imported: int = 0  # trials read back from the storage (earlier runs, other workers)

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def n_complete(self) -> int:
        return sum(t.state == "complete" for t in self.trials)


@dataclass
class SearchConfig:
    task: str
    seed: int = 0
    max_trials: int | None = None  # per family; None: as many as the budget allows
    device: str = "cpu"
    noise_std: float = 0.2
    storage: object | None = None
    study_prefix: str | None = None
    # Trials without a better value after which a family is done. ADVISOR_STALL_TRIALS overrides it,
    # for benchmarks that need a search busy for its whole budget (advisor.settings).
    stall_trials: int = field(default_factory=lambda: settings().stall_trials)
    # The prior's score per family (advisor.judging.prior_advice), or None to search unguided.
    prior_scores: dict | None = None
    # The ranking's criterion weights: the reserve for the final refit is kept for the family
    # likely to win the ranking, which is not always the one with the best validation fidelity.
    weights: dict | None = None


ProgressFn = Callable[[dict], None]


def params_left(run: FamilyRun, config: SearchConfig) -> bool:
    """Whether another trial of this family could teach anything."""
    if config.max_trials is not None and len(run.trials) >= config.max_trials:
        return False
    if len(run.trials) - run.last_improvement > config.stall_trials:
        return False
    if run.trials and not run.trials[0].params and all(t.state == "complete" for t in run.trials):
        return False  # no hyperparameters: one trial says it all
    return len(run.trials) < 200
