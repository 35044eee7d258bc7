"""Residual networks: a residual MLP for tables, a small residual CNN for images and sequences."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.resnet.family import ResNetFamily

    register(ResNetFamily())
