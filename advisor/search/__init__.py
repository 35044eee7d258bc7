"""The budgeted search: Optuna trials for every applicable family, inside one deadline.

How the budget is spent (measured in benchmarks/):

1. Families are ordered cheapest first (declared cost, or the prior) and each gets one trial
   with its default parameters. A trial's deadline is the time left divided by the families
   still waiting, so what a cheap family leaves unused flows to the expensive ones; training
   loops stop at it.
2. The rest goes to further trials: a few more for families whose trials cost almost nothing,
   then one family at a time by an upper-confidence rule on each family's best validation
   fidelity. Each family has its own single-objective Optuna study (TPE sampler). A family that
   trains by epochs (`Family.resource_param`) gives every trial after the first the same number
   of epochs, as many as the first trial's time afforded, and successive halving prunes on the
   per-epoch reports, so trials are compared at equal training resource; time slices still
   bound each trial and the whole. When its best run was cut short by its time, the family's
   next trial promotes it (Hyperband): the same configuration with up to three times the
   epochs, which become the family's new equal resource if the promotion beats the best by
   more than noise.
3. A reserve is kept for the end: the verdict (advisor.judging.judge: cross-validation, checkpoint
   scoring for the forecast), scoring on the test rows and refitting the winner on all rows.
   It is re-estimated after every trial from measured times.

Every trial runs under `advisor.runtime.budget.fit_scope`, so its deadline reaches inside the fit, and
its learning curve comes back through the same scope (advisor.judging.curves).

The parts: `scheduler` (which family next, how much time: `Search`), `trials` (fit under a
deadline, score, keep the best, record), `studies` (Optuna studies, resuming, workers),
`records` (what is kept of each family and the run's settings), `fitting` (one fit).
"""

from advisor.search.fitting import configure_estimator, fit_estimator, stopped_by_deadline
from advisor.search.records import COST_ORDER, MIN_TRIAL_SECONDS, FamilyRun, SearchConfig, StorageLost, TrialRecord, params_left
from advisor.search.scheduler import Search, plan_order

__all__ = [
    "COST_ORDER",
    "MIN_TRIAL_SECONDS",
    "FamilyRun",
    "Search",
    "SearchConfig",
    "StorageLost",
    "TrialRecord",
    "configure_estimator",
    "fit_estimator",
    "params_left",
    "plan_order",
    "stopped_by_deadline",
]
