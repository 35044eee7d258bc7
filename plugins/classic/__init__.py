"""Classic scikit-learn baselines: the honest candidates every deep family has to beat."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.classic.families import FAMILIES

    for family in FAMILIES:
        register(family)
