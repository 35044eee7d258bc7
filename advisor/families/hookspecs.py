"""The plugin hooks. A plugin implements them with `@advisor.hookimpl`."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "advisor"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_families(register):
    """Register model families: call `register(family)` once per `advisor.Family`."""
