"""Benchmark the `cnn` and `resnet` families on the public cases, and write the figures down.

Each (family, case) pair runs the advisor restricted to that family (`advisor.recommend(...,
families=[family], budget=BUDGET)`: the default trial, further Optuna trials while the budget
lasts, the winner refit on every train row when time allows), then scores the returned model on
the case's test rows with the shared scorer. Targets come from the issue; the gradient-boosting
and raw-pixel references from the scorer's `public/baselines.json`.

A second part measures training throughput (rows per second per epoch) of each family's default
network on digits images, waveform sequences and the anes96 table, on the CPU and, where torch
sees one, on CUDA.

    python benchmarks/bench_cnn_resnet.py [--bench-dir DIR] [--budget 60] [--cases a,b] [--out PATH]
    python benchmarks/bench_cnn_resnet.py --throughput-only [--device cuda]   (JSON on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# (family, case): the target for it, as (reference kind, threshold) -- see `_verdict`.
PLAN = [
    ("cnn", "clf_digits", ("accuracy", 0.98)),
    ("cnn", "clf_waveforms", ("accuracy", 0.95)),
    ("cnn", "emb_digits", ("above_raw_probe", None)),
    ("cnn", "dn_digits", ("above_pca", None)),
    ("resnet", "clf_digits", ("accuracy", 0.98)),
    ("resnet", "clf_breast_cancer", ("near_hgb", 0.02)),
    ("resnet", "clf_wine", ("near_hgb", 0.02)),
    ("resnet", "clf_anes96", ("near_hgb", 0.02)),
    ("resnet", "reg_diabetes", ("near_hgb", 0.02)),
    ("resnet", "reg_weather", ("near_hgb", 0.02)),
    ("resnet", "dn_digits", ("above_pca", None)),
]


def bench_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    if os.environ.get("ADVISOR_BENCH_DIR"):
        return Path(os.environ["ADVISOR_BENCH_DIR"]).resolve()
    return (REPO / ".." / "shared" / "bench").resolve()


def load_baselines(bench: Path) -> dict:
    rows = json.loads((bench / "public" / "baselines.json").read_text())
    return {(r["case"], r["model"]): r for r in rows}


def fidelity_of(task: str, metrics: dict):
    """The figure the advisor's fidelity uses: balanced accuracy, R^2, probe accuracy, PSNR."""
    return {"classify": metrics.get("balanced_accuracy"), "regress": metrics.get("r2"), "embed": metrics.get("probe_accuracy"), "denoise": metrics.get("psnr")}[task]


def _verdict(target, task, result, baselines, case):
    kind, threshold = target
    m = result["metrics"]
    if kind == "accuracy":
        return m["accuracy"] >= threshold, f"accuracy >= {threshold}"
    if kind == "above_raw_probe":
        return m["probe_accuracy"] > m["raw_probe_accuracy"], f"probe > raw pixels ({m['raw_probe_accuracy']:.3f})"
    if kind == "above_pca":
        ref = baselines[(case, "pca_recon")]["value"]
        return m["psnr"] > ref, f"PSNR > PCA-16 ({ref:.2f} dB)"
    hgb = fidelity_of(task, baselines[(case, "hgb")]["metrics"])
    name = "balanced accuracy" if task == "classify" else "R^2"
    return fidelity_of(task, m) >= hgb - threshold, f"{name} >= HGB {hgb:.3f} - {threshold}"


def run_case(family: str, case: str, budget: float, seed: int, device: str):
    import advisor
    from score import evaluate, load_case

    train, _, meta = load_case(case)
    task = meta["task"]
    target = meta["target"] if task in ("classify", "regress") else None
    kwargs = {}
    if task == "denoise":
        kwargs["noise_std"] = float(meta.get("noise_sigma") or 0.2)
    t0 = time.monotonic()
    rec = advisor.recommend(train, task, target=target, budget=budget, families=[family], seed=seed, device=device, **kwargs)
    elapsed = time.monotonic() - t0
    result = evaluate(case, rec.best_estimator_)
    entry = next(e for e in rec.to_dict()["ranking"] if e["family"] == family)
    trials = entry.get("trials") or {}
    return task, result, {
        "elapsed_s": elapsed,
        "trials": f"{trials.get('complete', 0)} done, {trials.get('pruned', 0)} pruned, {trials.get('failed', 0)} failed",
        "status": entry.get("status"),
        "params": entry.get("params"),
        "warnings": [w for w in rec.warnings if "refit" in w],
    }


def synthetic_case(case: str, seed: int = 0):
    """Random data shaped like a public case (throughput does not depend on the values)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    if case == "clf_digits":
        X = pd.DataFrame(rng.uniform(size=(1437, 64)), columns=[f"p{i}" for i in range(64)])
        return X, rng.integers(0, 10, size=1437)
    if case == "clf_waveforms":
        return pd.DataFrame(rng.normal(size=(2400, 64)), columns=[f"x{i}" for i in range(64)]), rng.integers(0, 4, size=2400)
    n = 755  # clf_anes96: 10 numeric / text columns with holes
    X = pd.DataFrame({f"n{i}": rng.normal(size=n) for i in range(7)})
    X["educ"] = rng.choice(["MS", "HSdrop", "HS", "Coll", "CCdeg", "BAdeg", "MAdeg"], size=n)
    X["PID"] = rng.choice(["strDem", "weakDem", "indDem", "indind", "indRep", "weakRep", "strRep"], size=n)
    X.loc[rng.choice(n, 40, replace=False), "n0"] = np.nan
    return X, rng.integers(0, 2, size=n)


def throughput(device: str, epochs: int = 3, batch_sizes=(64,), threads_too: bool = False) -> list[dict]:
    """Rows per second per epoch of each family's default network (fixed epochs, no deadline,
    no validation share), on random data shaped like the public cases."""
    import torch

    from advisor.nn.device import resolve_device
    from advisor_plugins.cnn.estimators import CNNClassifier
    from advisor_plugins.resnet.estimators import ResNetClassifier

    device = resolve_device(device)
    out = []
    setups = [
        ("cnn", "clf_digits", CNNClassifier, dict(image_shape=(8, 8), channels=32, n_blocks=2, kernel_size=3, augment=True)),
        ("cnn", "clf_waveforms", CNNClassifier, dict(channels=16, n_blocks=3, kernel_size=7)),
        ("resnet", "clf_digits", ResNetClassifier, dict(image_shape=(8, 8), modality="image", width=32, n_blocks=3, augment=True)),
        ("resnet", "clf_waveforms", ResNetClassifier, dict(modality="sequence", width=16, n_blocks=3, kernel_size=7)),
        ("resnet", "clf_anes96", ResNetClassifier, dict(modality="tabular", width=64, n_blocks=2)),
    ]
    runs = [(setup, batch, 1) for setup in setups for batch in batch_sizes]
    if device == "cpu" and threads_too:  # what the default of one torch thread is worth
        runs += [(setup, batch_sizes[0], 2) for setup in setups[:2]]
    for (family, case, cls, params), batch, threads in runs:
        X, y = synthetic_case(case)
        est = cls(max_epochs=epochs, patience=None, validation_fraction=0.0, batch_size=batch, n_threads=threads, random_state=0, device=device, **params)
        est.fit(X.iloc[:128], y[:128])  # warm-up (allocations, kernels)
        start = time.perf_counter()
        est.fit(X, y)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        out.append({"family": family, "case": case, "device": device, "threads": threads, "batch": batch, "rows": len(X), "epochs": est.n_epochs_, "rows_per_s": len(X) * est.n_epochs_ / seconds})
    return out


def machine() -> str:
    import torch

    cores = os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return f"{platform.processor() or platform.machine()}, {cores} CPU cores, torch {torch.__version__} (threads per fit: 1), GPU: {gpu}, Python {platform.python_version()}"


def write_report(path: Path, rows: list[dict], speed: list[dict], command: str, budget: float, extra_speed: str | None) -> None:
    lines = [
        "# cnn and resnet on the public benchmark cases",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}. The 2 cores were shared with other work while this ran, so times are noisy.",
        "",
        f"Each row: `advisor.recommend(train.csv, task, families=[family], budget={budget:g}, seed=0)`, then the shared scorer on test.csv.",
        "`refit` says whether the winner was refit on every train row (else the model from the search, fitted on 60 % of them, is scored).",
        "",
    ]
    for family in ("cnn", "resnet"):
        part = [r for r in rows if r["family"] == family]
        if not part:
            continue
        lines += [f"## {family}", "", "| case | metric | value | fidelity | target | met | trials | seconds | refit |", "|---|---|---|---|---|---|---|---|---|"]
        for r in part:
            lines.append(
                f"| {r['case']} | {r['metric']} | {r['value']:.4g} | {r['fidelity']:.4g} | {r['target']} | {'yes' if r['met'] else '**no**'} | {r['trials']} | {r['elapsed_s']:.0f} | {'no' if r['refit_skipped'] else 'yes'} |"
            )
        lines.append("")
    missed = [r for r in rows if not r["met"]]
    lines += ["## Targets missed", ""]
    lines += [f"- {r['family']} on {r['case']}: {r['metric']} {r['value']:.4g} ({r['target']})." for r in missed] or ["- none"]
    lines += [
        "",
        "## Training throughput",
        "",
        "Rows per second per epoch of each family's default network on random data shaped like the case (fit time includes the per-fit setup), this machine:",
        "",
        "| family | data shaped like | device | torch threads | batch | rows | rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in speed:
        lines.append(f"| {s['family']} | {s['case']} | {s['device']} | {s['threads']} | {s['batch']} | {s['rows']} | {s['rows_per_s']:.0f} |")
    if extra_speed:
        lines += ["", extra_speed.strip()]
    lines.append("")
    path.write_text("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=None, help="folder with score.py and public/ (default ../shared/bench or $ADVISOR_BENCH_DIR)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per family and case")
    parser.add_argument("--cases", default=None, help="comma-separated family:case or case filters")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "cnn_resnet.md"))
    parser.add_argument("--json", default=None, help="also write the raw figures here")
    parser.add_argument("--throughput-only", action="store_true", help="print the throughput table as JSON and stop")
    parser.add_argument("--extra-throughput", default=None, help="markdown file appended to the throughput section (e.g. CUDA figures)")
    args = parser.parse_args(argv)

    if args.throughput_only:
        print(json.dumps(throughput(args.device, batch_sizes=(64, 256)), indent=1))
        return 0
    bench = bench_dir(args.bench_dir)
    sys.path.insert(0, str(bench))
    os.environ.setdefault("BENCH_DIR", str(bench / "public"))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    baselines = load_baselines(bench)
    wanted = None if not args.cases else {c.strip() for c in args.cases.split(",")}
    rows = []
    for family, case, target in PLAN:
        if wanted and case not in wanted and f"{family}:{case}" not in wanted:
            continue
        task, result, info = run_case(family, case, args.budget, args.seed, args.device)
        met, target_text = _verdict(target, task, result, baselines, case)
        row = {
            "family": family,
            "case": case,
            "task": task,
            "metric": result["metric"],
            "value": result["value"],
            "fidelity": fidelity_of(task, result["metrics"]),
            "metrics": result["metrics"],
            "target": target_text,
            "met": bool(met),
            "trials": info["trials"],
            "elapsed_s": info["elapsed_s"],
            "params": info["params"],
            "refit_skipped": bool(info["warnings"]),
        }
        rows.append(row)
        print(f"{family:7s} {case:18s} {result['metric']}={result['value']:.4g} target: {target_text} met={met} trials={info['trials']} {info['elapsed_s']:.0f}s", flush=True)
    speed = throughput("cpu", threads_too=True)
    extra = Path(args.extra_throughput).read_text() if args.extra_throughput else None
    shown = list(argv if argv is not None else sys.argv[1:])
    for flag in ("--extra-throughput", "--json", "--out"):  # local file names, not part of the recipe
        if flag in shown:
            i = shown.index(flag)
            del shown[i : i + 2]
    command = "nice -n 10 .venv/bin/python benchmarks/bench_cnn_resnet.py " + " ".join(shown)
    write_report(Path(args.out), rows, speed, command.strip(), args.budget, extra)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "throughput": speed}, indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
