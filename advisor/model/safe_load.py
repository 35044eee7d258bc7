"""Which types `advisor.load` rebuilds from a saved model, by exact name, never by prefix.

skops rebuilds only the types it is told to trust, but a prefix such as `builtins.` or
`sklearn.` trusts callables that run code (`builtins.exec` bound in a `functools.partial`
inside a `FunctionTransformer` runs at the first `predict`). So a file may name only:

- the types skops trusts by default (primitives, containers, scikit-learn estimators, ufuncs);
- the exact names in `trusted_types.txt`: what the built-in families' saved models contain,
  derived by `scripts/derive_trusted_types.py`;
- the exact names an installed plugin's family declares in `Family.saved_types`, each only if
  it is a class or function defined inside that plugin's own package.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from functools import lru_cache
from pathlib import Path

from advisor.errors import InputError

LIST_PATH = Path(__file__).with_name("trusted_types.txt")
# Modules whose classes live in saved models and that have since moved: old name -> new name.
# A model saved before the move names the old module; it loads as the class now in the new one.
MOVED_MODULES = {"advisor.cleaning": "advisor.model.cleaning", "advisor.decision": "advisor.model.decision"}
# Packages no plugin may vouch for, whatever its entry point says: the standard library (exec,
# getattr, os, subprocess, ...) and advisor itself.
NEVER_TRUSTED = frozenset(sys.stdlib_module_names) | {"advisor"}
SHOWN = 6


@lru_cache(maxsize=1)
def read_list() -> frozenset[str]:
    """The exact type names derived from the built-in families' saved models."""
    lines = LIST_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _defined_in(name: str, package: str) -> bool:
    """True when `name` is a class or function defined (not just imported) inside `package`."""
    top = name.split(".")[0]
    if top != package or top in NEVER_TRUSTED or "." not in name:
        return False
    module_name, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception:  # noqa: BLE001 - a name that does not resolve is not trusted
        return False
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return False
    return f"{obj.__module__}.{obj.__qualname__}" == name


def declared_types() -> frozenset[str]:
    """The names installed plugins' families declare in `saved_types` that pass `_defined_in`."""
    from advisor.families.discovery import discover

    registry = discover()
    trusted = set()
    for name, family in registry.families.items():
        package = registry.plugin_of[name].module.split(":")[0].split(".")[0]
        declared = getattr(family, "saved_types", ()) or ()
        trusted.update(t for t in declared if isinstance(t, str) and _defined_in(t, package))
    return frozenset(trusted)


def current_name(type_name: str) -> str:
    """`type_name` as it is called now, if its module has moved since a model was saved."""
    module, _, attr = type_name.rpartition(".")
    return f"{MOVED_MODULES[module]}.{attr}" if module in MOVED_MODULES else type_name


def _alias_moved_modules(type_names: list[str]) -> None:
    """Make the old module names a saved model uses resolve to the modules that hold them now."""
    for name in type_names:
        module = name.rpartition(".")[0]
        if module in MOVED_MODULES and module not in sys.modules:
            sys.modules[module] = importlib.import_module(MOVED_MODULES[module])


def check_types(untrusted: list[str], source: str) -> None:
    """Raise a one-line InputError naming every type in `untrusted` that is not trusted exactly."""
    refused = sorted({name for name in untrusted if current_name(name) not in read_list()})
    if refused:  # plugins are imported only for a model that names types beyond the built-in list
        refused = sorted(set(refused) - declared_types())
    if refused:
        shown = ", ".join(name[:120] for name in refused[:SHOWN])
        more = f" and {len(refused) - SHOWN} more" if len(refused) > SHOWN else ""
        raise InputError(
            f"{source}: refusing to load types a saved advisor model does not contain: {shown}{more}; "
            "pass trust=True only if you trust this file"
        )


def load_saved(path: Path, *, trust: bool = False):
    """The object saved in `path` (skops format), rebuilt only if every type in it is trusted.

    The file is read once, so the bytes checked are the bytes loaded. `trust=True` skips the
    check: any type the file names is imported and rebuilt, which can run code.
    """
    import skops.io as sio

    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    data = path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 - not a skops file
        raise InputError(f"{path}: not a saved advisor model ({type(exc).__name__})") from None
    if not trust:
        check_types(untrusted, str(path))
    _alias_moved_modules(untrusted)
    try:
        return sio.loads(data, trusted=untrusted)
    except Exception as exc:  # noqa: BLE001 - trusted types, state that does not rebuild
        raise InputError(f"{path}: the saved model does not rebuild ({type(exc).__name__}: {exc})") from None
