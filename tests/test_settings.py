"""advisor.settings is where environment variables are read, and the README lists each one."""

import re
from pathlib import Path

from advisor.settings import STALL_TRIALS, VARIABLES, settings

ROOT = Path(__file__).resolve().parents[1]


def test_settings_come_from_the_environment_given():
    env = {
        "ADVISOR_HOME": "/data/advisor",
        "ADVISOR_LOAD_PLUGINS": "classic, cnn,",
        "ADVISOR_STALL_TRIALS": "7",
        "ADVISOR_PRIOR": "Off",
        "ADVISOR_PRIOR_EXCLUDE": "clf_wine",
    }
    got = settings(env)
    assert got.home == Path("/data/advisor")
    assert got.load_plugins == ("classic", "cnn") and got.plugin_modules == ()
    assert got.stall_trials == 7 and got.prior_guidance is False and got.prior_exclude == ("clf_wine",)
    default = settings({"XDG_CACHE_HOME": "/cache"})
    assert default.home == Path("/cache/advisor") and default.load_plugins is None
    assert default.stall_trials == STALL_TRIALS and default.prior_guidance and not default.debug


def test_no_other_module_reads_the_environment():
    readers = []
    for path in sorted((ROOT / "advisor").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")):
        if path.name != "settings.py" and re.search(r"os\.environ|os\.getenv", path.read_text()):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_the_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"`(ADVISOR_\w+)`", section) == list(VARIABLES)
