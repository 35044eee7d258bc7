"""Energy-based models: an energy network trained by denoising score matching (or contrastive
divergence), for anomaly detection, generation by Langevin dynamics, and denoising."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.ebm.family import EnergyBasedModel

    register(EnergyBasedModel())
