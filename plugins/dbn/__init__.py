"""Deep belief networks: stacked restricted Boltzmann machines, pretrained greedily layer by
layer, for embeddings, fine-tuned classification and regression, generation, detection and
denoising."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_plugins.dbn.family import DeepBeliefNetwork

    register(DeepBeliefNetwork())
