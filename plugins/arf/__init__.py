"""Adversarial random forests: a forest that cannot tell real rows from its own draws is a
density (FORDE) and a generator (FORGE) of mixed tables (Watson et al., AISTATS 2023)."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.arf.family import ARFFamily

    register(ARFFamily())
