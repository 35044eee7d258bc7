"""Helpers shared by the benchmark scripts: finding the public cases and describing the machine."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_dir(arg: str | None = None) -> Path:
    """The public benchmark folder: --bench-dir, else ADVISOR_BENCH_DIR, else ../shared/bench."""
    path = Path(arg or os.environ.get("ADVISOR_BENCH_DIR") or ROOT.parent / "shared" / "bench")
    if not (path / "score.py").exists():
        sys.exit(f"no score.py in {path}; pass --bench-dir pointing at the benchmark folder")
    return path


def import_scorer(path: Path):
    sys.path.insert(0, str(path))
    import score  # noqa: PLC0415 - the scorer lives outside the project on purpose

    return score


def machine() -> dict:
    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "torch": version("torch"),
        "scikit-learn": version("scikit-learn"),
        "optuna": version("optuna"),
        "advisor": version("advisor"),
    }


def machine_line() -> str:
    m = machine()
    return f"{m['cores']} cores, {m['memory_gb']} GB RAM, Python {m['python']}, torch {m['torch']}, scikit-learn {m['scikit-learn']}, optuna {m['optuna']}"


def log(msg: str) -> None:
    """Progress on stderr, so that stdout stays the results."""
    print(msg, file=sys.stderr, flush=True)


def trial_summary(info) -> str:
    """'complete/total' from a ranking entry's trial summary."""
    if isinstance(info, dict):
        return f"{info.get('complete', 0)}/{info.get('total', 0)}"
    return str(info)


def family_report_head(title: str, family: str, budget: float, command: str, total: float, references: str) -> list[str]:
    """The opening lines of a one-family benchmark report: command, machine, protocol."""
    return [
        f"# {title} (`{family}`) on the public cases",
        "",
        f"Command: `{command}` (from the repository root; total wall time {total / 60:.1f} min).",
        "",
        f"Machine: {machine_line()}; shared with other work, load average {os.getloadavg()[0]:.1f} at the end, so timings are noisy.",
        "",
        f"Protocol: `advisor.recommend(train.csv, task, families=['{family}'], budget={budget:g}, seed=0, device='cpu')` — an Optuna search",
        "from the family's default parameters, the winner refit on all of train.csv — then `score.evaluate(case, rec.best_estimator_)`",
        f"on the test rows. {references}",
        "",
    ]


def one_torch_thread() -> None:
    """Quiet warnings and keep torch on one thread, so that deep fits cut by a deadline train as
    far in each run whatever else the machine runs (where torch is installed)."""
    import warnings

    warnings.filterwarnings("ignore")
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def write_markdown(path, lines: list[str]) -> None:
    """Write a report's lines to `path`, making its folder."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def case_benchmark_parser(doc: str, cases: list[str], seconds: float, out) -> argparse.ArgumentParser:
    """The options every per-case criterion benchmark takes (--bench-dir, --cases, --seconds,
    --out), with the script's own defaults; the script adds its own options after."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--bench-dir")
    parser.add_argument("--cases", default=",".join(cases))
    parser.add_argument("--seconds", type=float, default=seconds, help="wall-clock limit of each fit")
    parser.add_argument("--out", default=str(out))
    return parser
