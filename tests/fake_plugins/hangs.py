"""Families that never return from fit: a pure-Python loop, and blocking C-level sleeps."""

import ctypes
import time

from advisor import hookimpl
from fake_plugins.fakes import MajorityVote, fake_family


class _Hang(MajorityVote):
    def __init__(self, mode="python_loop"):
        self.mode = mode

    def _train(self, X, y):
        if self.mode == "python_loop":
            while True:
                pass
        elif self.mode == "time_sleep":
            time.sleep(3600)
        else:
            ctypes.CDLL(None).sleep(3600)  # libc sleep(3): C code, outside the interpreter


@hookimpl
def register_families(register):
    for mode in ("python_loop", "time_sleep", "libc_sleep"):
        register(fake_family(f"hang_{mode}", lambda mode=mode, **params: _Hang(mode=mode), title=f"Hangs ({mode})", cost="high"))
