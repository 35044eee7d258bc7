"""advisor: which model family should I use for my data and my task, and why?

    >>> import advisor
    >>> rec = advisor.recommend("data.csv", task="classify", target="label", budget=30)
    >>> rec.best_family, rec.ranking
    >>> rec.best_estimator_.predict(new_rows)

Heavy modules (torch, the search) load on first use, so `import advisor` stays quick.
"""

from __future__ import annotations

from importlib import import_module

from advisor.errors import AdvisorError, InputError
from advisor.families.contract import TASKS, Family, Interpretability, Support, Uncertainty
from advisor.families.hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "recommend": "advisor.advise",
    "Recommendation": "advisor.result",
    "load": "advisor.result",
    "profile": "advisor.advise",
    "AdvisorClassifier": "advisor.sklearn_api",
    "AdvisorRegressor": "advisor.sklearn_api",
    "discover": "advisor.families.discovery",
}

__all__ = [
    "TASKS",
    "AdvisorError",
    "Family",
    "InputError",
    "Interpretability",
    "Support",
    "Uncertainty",
    "__version__",
    "hookimpl",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        module = import_module(_LAZY[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
