"""Reading the request: the data's profile, the image shape, and which families to try.

Shared by the search and by the advice without training, and light to import: `--budget 0`
must answer in about a second.
"""

from __future__ import annotations

from advisor.data.profiling import Profile
from advisor.data.tables import read_table
from advisor.errors import InputError
from advisor.families.contract import Support


def parse_shape(image_shape) -> tuple[int, ...] | None:
    if image_shape is None:
        return None
    if isinstance(image_shape, str):
        try:
            shape = tuple(int(p) for p in image_shape.lower().split("x"))
        except ValueError:
            raise InputError(f"--image-shape must look like 28x28 or 32x32x3, got {image_shape!r}") from None
    else:
        shape = tuple(int(p) for p in image_shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise InputError(f"--image-shape must be HxW or HxWxC with positive sizes, got {image_shape!r}")
    return shape


def profile(data, *, target: str | None = None, task: str | None = None, image_shape=None, sequence: bool = False, seed: int = 0) -> Profile:
    """Profile a dataset without training anything."""
    from advisor.data.preparation import drop_constants
    from advisor.data.profiling import profile_frame

    table = read_table(data, target)
    tgt = target if isinstance(target, str) else table.target
    prof = profile_frame(table.frame, tgt, task=task, image_shape=parse_shape(image_shape) or table.image_shape, sequence=sequence, seed=seed,
                         named_columns=table.named_columns)
    drop_constants(prof, table.frame, task, [])  # as a run would: a column with one value teaches nothing
    prof.warnings = table.warnings + prof.warnings
    return prof


def select(registry, task: str, families, exclude) -> list[str]:
    known = sorted(registry.families)
    if isinstance(families, str) and not families.strip():
        raise InputError("--families is empty; name at least one family (see `advisor families`)")
    chosen = list(known)
    if families:
        wanted = [f.strip() for f in (families.split(",") if isinstance(families, str) else families) if f.strip()]
        unknown = [f for f in wanted if f not in registry.families]
        if unknown:
            raise InputError(f"unknown family {', '.join(unknown)}; known: {', '.join(known)}")
        chosen = wanted
    if exclude:
        dropped = [f.strip() for f in (exclude.split(",") if isinstance(exclude, str) else exclude) if f.strip()]
        unknown = [f for f in dropped if f not in registry.families]
        if unknown:
            raise InputError(f"unknown family {', '.join(unknown)} in --exclude; known: {', '.join(known)}")
        chosen = [f for f in chosen if f not in dropped]
    if (families or exclude) and not chosen:
        raise InputError("--families and --exclude leave no family to try")
    return chosen


def supports(family, task, profile) -> Support:
    try:
        answer = family.supports(task, profile)
        ok, reason = answer
        return Support(bool(ok), str(reason))
    except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the run
        return Support(False, f"supports() raised {type(exc).__name__}: {exc}")
