"""Every environment variable advisor reads, in one place.

`settings()` reads them when called, so a test's `monkeypatch.setenv` and a long-lived process
see the current values. The README's "Environment" section lists the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STALL_TRIALS = 25  # a family whose last 25 trials found nothing better is done

# name -> what it does (shown by the README and kept in step by a test)
VARIABLES = {
    "ADVISOR_HOME": "where the default trial journal lives (default: $XDG_CACHE_HOME/advisor or ~/.cache/advisor)",
    "ADVISOR_DATASETS_DIR": "the folder of the bundled example datasets, instead of the installed ones",
    "ADVISOR_LOAD_PLUGINS": "a comma list: load only these plugin entry points",
    "ADVISOR_PLUGIN_MODULES": "a comma list of modules to load as plugins without installing them",
    "ADVISOR_STALL_TRIALS": f"trials without improvement after which a family is done (default {STALL_TRIALS})",
    "ADVISOR_PRIOR": "off: the search ignores the prior's guidance (for benchmarks of the guidance)",
    "ADVISOR_PRIOR_EXCLUDE": "a comma list of benchmark cases the priors leave out (leave-one-out evaluation)",
    "ADVISOR_DEBUG": "1: an internal error shows its traceback instead of one line",
}


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    home: Path
    datasets_dir: str | None
    load_plugins: tuple[str, ...] | None  # None: every installed plugin
    plugin_modules: tuple[str, ...]
    stall_trials: int
    prior_guidance: bool
    prior_exclude: tuple[str, ...]
    debug: bool


def settings(environ=None) -> Settings:
    """The settings the environment gives now."""
    env = os.environ if environ is None else environ
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    wanted = env.get("ADVISOR_LOAD_PLUGINS")
    return Settings(
        home=Path(env["ADVISOR_HOME"]) if env.get("ADVISOR_HOME") else cache / "advisor",
        datasets_dir=env.get("ADVISOR_DATASETS_DIR") or None,
        load_plugins=None if wanted is None else _names(wanted),
        plugin_modules=_names(env.get("ADVISOR_PLUGIN_MODULES")),
        stall_trials=int(env.get("ADVISOR_STALL_TRIALS") or STALL_TRIALS),
        prior_guidance=env.get("ADVISOR_PRIOR", "on").strip().lower() not in ("off", "0", "no", "false"),
        prior_exclude=_names(env.get("ADVISOR_PRIOR_EXCLUDE")),
        debug=bool(env.get("ADVISOR_DEBUG")),
    )
