"""Bayesian neural networks: classification and regression with explicit predictive uncertainty."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.bnn.family import FAMILIES

    for family in FAMILIES:
        register(family)
