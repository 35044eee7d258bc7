"""The family contract: what a plugin registers, and what the search asks of it.

A *family* is a kind of model (gradient boosting, diffusion, ...). It says which tasks it can do,
whether it suits a given dataset, how to build an estimator, and which hyperparameters to search.
Subclass `Family`, set the class attributes, and implement `make_estimator` (and usually
`search_space`). Estimators follow scikit-learn's conventions; see DESIGN for the method each task
uses.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from advisor.data.profiling import Profile

TASKS = ("classify", "regress", "generate", "detect", "embed", "denoise")
MODALITIES = ("tabular", "image", "sequence")
UNCERTAINTY_KINDS = ("explicit", "implicit", "none")

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


class Support(NamedTuple):
    """Answer of `Family.supports`: whether the family applies, and why (or why not)."""

    ok: bool
    reason: str


# The uncertainty score a family gets from its declared kind when nothing measures it.
DECLARED_UNCERTAINTY = {"explicit": 0.9, "implicit": 0.6, "none": 0.3}


@dataclass(frozen=True)
class Interpretability:
    """Declared interpretability in [0, 1] with a one-line reason."""

    score: float
    reason: str


@dataclass(frozen=True)
class Uncertainty:
    """Declared kind of uncertainty a family gives: explicit, implicit or none."""

    kind: str
    reason: str


class Family(abc.ABC):
    """Base class of a model family. Subclasses set the class attributes below.

    Attributes:
        name: slug used on the command line (`--families name`).
        title: human name.
        tasks: tasks the family can do at all (`supports` refines per dataset).
        modalities: data modalities it accepts ("tabular", "image", "sequence").
        interpretability: declared `Interpretability`.
        uncertainty: declared `Uncertainty`.
        cost: declared relative compute cost, "low", "moderate" or "high" (used before measuring).
        baseline_for: tasks where this family is the cheap fallback returned when the budget is
            too small to search.
        resource_param: the estimator parameter that counts training epochs, where the family
            trains by epochs. The search sets it, the same for every trial of the family after
            the first (as many epochs as the first trial's time afforded), so that trials are
            compared at equal training resource; `search_space` leaves it out.
        saved_types: exact names (as `skops.io.get_untrusted_types` gives them) of the classes
            and functions of the plugin's own package that its saved estimators contain, so that
            `advisor.load` rebuilds them; a name defined outside that package is never trusted.
    """

    name: str = ""
    title: str = ""
    tasks: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset({"tabular"})
    interpretability: Interpretability = Interpretability(0.0, "not declared")
    uncertainty: Uncertainty = Uncertainty("none", "not declared")
    cost: str = "moderate"
    baseline_for: frozenset[str] = frozenset()
    saved_types: tuple[str, ...] = ()
    resource_param: str | None = None

    def supports(self, task: str, profile: Profile) -> Support:
        """Whether this family applies to `task` on data described by `profile`."""
        if task not in self.tasks:
            return Support(False, f"{self.name} does not do {task}")
        if profile.modality not in self.modalities:
            allowed = ", ".join(sorted(self.modalities))
            return Support(False, f"{self.name} takes {allowed} data, not {profile.modality}")
        return Support(True, f"{self.name} does {task} on {profile.modality} data")

    @abc.abstractmethod
    def make_estimator(self, task: str, profile: Profile, **params: Any):
        """Build an unfitted estimator for `task` with the given hyperparameters.

        The search calls it once with `default_params` before it hands out any time, so that
        slow imports done here (torch, say) are paid outside every trial's time slice.
        """

    def search_space(self, trial: optuna.trial.BaseTrial, task: str, profile: Profile) -> dict:
        """Suggest hyperparameters on an Optuna trial (define-by-run) and return them."""
        return {}

    def default_params(self, task: str, profile: Profile) -> dict:
        """Parameters of the first trial: a cheap setting that is usually good.

        The keys must be the names `search_space` suggests, so that Optuna can enqueue them.
        """
        return {}

    def prior(self, task: str, profile: Profile) -> dict | None:
        """Optional advice without training: `{criterion: (score, reason)}`, or None."""
        return None

    def __repr__(self) -> str:
        return f"<Family {self.name}>"


def validate_family(family: Any) -> list[str]:
    """Problems with a family object's declared metadata (empty when it is well formed)."""
    problems = []
    name = getattr(family, "name", None)
    if not isinstance(name, str) or not _SLUG.match(name):
        problems.append(f"name {name!r} is not a lowercase slug")
    if not getattr(family, "title", None):
        problems.append("title is empty")
    tasks = set(getattr(family, "tasks", ()) or ())
    if not tasks:
        problems.append("declares no tasks")
    unknown = tasks - set(TASKS)
    if unknown:
        problems.append(f"unknown tasks {sorted(unknown)}")
    modalities = set(getattr(family, "modalities", ()) or ())
    if not modalities or modalities - set(MODALITIES):
        problems.append(f"modalities {sorted(modalities)} must be a non-empty subset of {MODALITIES}")
    interp = getattr(family, "interpretability", None)
    if not isinstance(interp, Interpretability) or not 0.0 <= interp.score <= 1.0 or not interp.reason:
        problems.append("interpretability must be Interpretability(score in [0, 1], reason)")
    unc = getattr(family, "uncertainty", None)
    if not isinstance(unc, Uncertainty) or unc.kind not in UNCERTAINTY_KINDS or not unc.reason:
        problems.append(f"uncertainty must be Uncertainty(kind in {UNCERTAINTY_KINDS}, reason)")
    if getattr(family, "cost", None) not in ("low", "moderate", "high"):
        problems.append("cost must be 'low', 'moderate' or 'high'")
    for method in ("supports", "make_estimator", "search_space"):
        if not callable(getattr(family, method, None)):
            problems.append(f"{method} is not callable")
    return problems
