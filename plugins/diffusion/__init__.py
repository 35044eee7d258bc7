"""Denoising diffusion models: tabular (TabDDPM-style) and image (U-Net) generation, denoising
and anomaly detection."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.diffusion.family import DiffusionFamily

    register(DiffusionFamily())
