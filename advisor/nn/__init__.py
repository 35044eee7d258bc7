"""Building blocks shared by the torch families (and usable by any plugin).

- `advisor.nn.encoding`: mixed-dtype tables to numbers and back (no torch needed).
- `advisor.nn.device`: `--device auto|cpu|cuda`.
- `advisor.nn.seeding`: seeded randomness that never touches global state.
- `advisor.nn.training`: an epoch loop that honours the trial deadline and reports to Optuna.
- `advisor.nn.persist`: saving torch estimators without pickle.

Importing this package does not import torch; the submodules that need it do.
"""
