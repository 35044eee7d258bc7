"""Finding, loading and isolating plugins.

Discovery goes through the entry-point group ``advisor`` (the built-in families are registered
there by the project's own packaging, exactly like a third-party package). Each plugin is loaded
and called on its own, so one that fails to import or raises in its hook is recorded and skipped
while the others still work.

Escape hatches: ``ADVISOR_LOAD_PLUGINS=classic,diffusion`` loads only the named entry points;
``ADVISOR_PLUGIN_MODULES=pkg.mod,other.mod`` also loads explicitly named modules (handy while
writing a plugin that is not installed yet).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from advisor.families import hookspecs
from advisor.families.contract import Family, validate_family
from advisor.settings import settings

ENTRY_POINT_GROUP = "advisor"


@dataclass
class PluginRecord:
    """One plugin: where it came from, what it registered, and what went wrong."""

    name: str
    module: str
    version: str | None = None
    families: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Registry:
    """Families that loaded, and the plugins behind them (failed ones included)."""

    families: dict[str, Family] = field(default_factory=dict)
    plugin_of: dict[str, PluginRecord] = field(default_factory=dict)
    plugins: list[PluginRecord] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f"plugin {p.name}: {p.error}" for p in self.plugins if p.error]

    def get(self, name: str) -> Family:
        return self.families[name]


def get_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager that knows the hook specifications (no plugins registered)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    wanted = settings().load_plugins
    if wanted is not None:
        eps = [ep for ep in eps if ep.name in wanted]
    # Sorted and de-duplicated so that the order (and so every seeded run) is deterministic.
    unique = {ep.name: ep for ep in sorted(eps, key=lambda ep: (ep.name, ep.value))}
    return list(unique.values())


def _load_candidates(extra_modules: tuple[str, ...]) -> list[tuple[PluginRecord, object]]:
    """Import each plugin on its own; failures become records with an error."""
    loaded = []
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        record = PluginRecord(ep.name, ep.value, getattr(dist, "version", None))
        try:
            loaded.append((record, ep.load()))
        except BaseException as exc:  # noqa: BLE001 - a plugin may raise anything at import
            if isinstance(exc, KeyboardInterrupt):
                raise
            record.error = f"failed to import: {_one_line(exc)}"
            loaded.append((record, None))
    modules = list(extra_modules) + list(settings().plugin_modules)
    for module_name in modules:
        record = PluginRecord(module_name.rsplit(".", 1)[-1], module_name)
        try:
            loaded.append((record, importlib.import_module(module_name)))
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            record.error = f"failed to import: {_one_line(exc)}"
            loaded.append((record, None))
    return loaded


def discover(extra_modules: tuple[str, ...] = ()) -> Registry:
    """Load every plugin and collect the families they register."""
    registry = Registry()
    pm = get_plugin_manager()
    for record, module in _load_candidates(tuple(extra_modules)):
        registry.plugins.append(record)
        if module is None:
            continue
        if record.version is None:
            record.version = getattr(module, "__version__", None)
        try:
            pm.register(module, name=record.name)
            pm.check_pending()  # catches misspelled hook names
        except Exception as exc:  # noqa: BLE001
            record.error = f"invalid plugin: {_one_line(exc)}"
            if pm.is_registered(module):
                pm.unregister(module)
            continue
        for impl in pm.hook.register_families.get_hookimpls():
            if impl.plugin is module:
                _call_register(impl, record, registry)
    return registry


def _call_register(impl, record: PluginRecord, registry: Registry) -> None:
    def register(family: Family) -> None:
        problems = validate_family(family)
        if problems:
            raise ValueError(f"family {getattr(family, 'name', family)!r}: {'; '.join(problems)}")
        if family.name in registry.families:
            owner = registry.plugin_of[family.name].name
            raise ValueError(f"family {family.name!r} is already registered by plugin {owner!r}")
        registry.families[family.name] = family
        registry.plugin_of[family.name] = record
        record.families.append(family.name)

    kwargs = {"register": register}
    try:
        impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
    except Exception as exc:  # noqa: BLE001 - a raising hook must not take the others down
        record.error = f"register_families raised {_one_line(exc)}"
