"""Convolutional neural networks: 2-D convolutions for images, 1-D for ordered sequences."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.cnn.family import CNNFamily

    register(CNNFamily())
