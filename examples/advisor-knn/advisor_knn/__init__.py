"""advisor-knn: k-nearest neighbours as an `advisor` family (an example plugin)."""

from advisor.sdk import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_families(register):
    from advisor_knn.family import KNearestNeighbours

    register(KNearestNeighbours())
