"""Measuring what a fit costs: wall seconds and peak resident memory."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _status_kb(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); False where that is not possible."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def available_memory_mb() -> float | None:
    """Memory the kernel can give without swapping (Linux MemAvailable), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measured(fn, *args, **kwargs):
    """Run `fn` and return `(result, seconds, peak_mb)`.

    Peak memory is the process's peak resident size during the call above what it held
    before (Linux: reset through /proc/self/clear_refs, read from VmHWM); None elsewhere.
    It sees torch and numpy allocations alike, at no cost to the fit.
    """
    before = _status_kb("VmRSS")
    can_reset = _reset_peak()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM") if can_reset else None
    peak_mb = None if peak is None or before is None else max(peak - before, 0) / 1024
    return result, seconds, peak_mb


SMALL_DATA_ROWS = 20_000


def thread_limit(n_rows: int):
    """One BLAS/OpenMP thread for small data, where threads cost more than they give.

    On small tables a multi-threaded fit spends its time starting and synchronising threads,
    and when other processes share the cores, OpenMP's spinning threads can slow a fit tenfold.
    Large data keeps the libraries' defaults.
    """
    from contextlib import nullcontext

    if n_rows >= SMALL_DATA_ROWS:
        return nullcontext()
    return _one_thread()


@contextmanager
def _one_thread():
    """threadpoolctl reaches BLAS and OpenMP; torch's own pool is set apart (when it is loaded)."""
    import sys

    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(1)
        with threadpool_limits(limits=1):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)
