"""Do the torch families run on CUDA, and how much faster? Fit time per family, CPU against GPU.

    python benchmarks/bench_device.py [--rows 4000] [--out benchmarks/results/device.md]

Each torch family's default estimator is fitted on the same synthetic data (a mixed-type table,
and 16x16 images for the image families) once with device="cpu" and once with device="cuda",
under the same 60 s deadline; the table gives fit seconds and rows per second per epoch where the
estimator records its epochs (`history_`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import ROOT, machine_line

TORCH_PLUGINS = ("diffusion", "ebm", "dbn", "bnn", "cnn", "resnet")


def tabular(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 12)), columns=[f"f{i}" for i in range(12)])
    X["group"] = rng.choice(["a", "b", "c"], size=n)
    y = pd.Series(np.where(X["f0"] * X["f1"] + (X["group"] == "a") > 0, "yes", "no"))
    return X, y


def images(n: int, side: int = 16, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    imgs = rng.uniform(0, 0.2, size=(n, side, side))
    labels = np.arange(n) % 2
    for i in range(n):
        k = rng.integers(side)
        if labels[i]:
            imgs[i, k, :] = 1.0
        else:
            imgs[i, :, k] = 1.0
    return pd.DataFrame(imgs.reshape(n, -1), columns=[f"p{j}" for j in range(side * side)]), pd.Series(labels)


def main() -> None:
    import torch

    from advisor.data.preparation import prepare
    from advisor.data.tables import Table
    from advisor.families.discovery import discover
    from advisor.runtime import budget

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "device.md"))
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    registry = discover()
    rows = []
    for name, family in sorted(registry.families.items()):
        if registry.plugin_of[name].name not in TORCH_PLUGINS:
            continue
        for modality, make in (("tabular", tabular), ("image", images)):
            if modality not in family.modalities:
                continue
            task = next((t for t in ("classify", "generate", "embed", "detect", "denoise") if t in family.tasks), None)
            X, y = make(args.rows)
            frame = X.assign(target=y.to_numpy()) if task == "classify" else X
            data = prepare(Table(frame, "bench"), task, "target" if task == "classify" else None)
            ok, _ = family.supports(task, data.profile)
            if not ok:
                continue
            timings = {}
            for device in devices:
                est = family.make_estimator(task, data.profile, **family.default_params(task, data.profile))
                est.set_params(**{k: v for k, v in {"device": device, "random_state": 0}.items() if k in est.get_params()})
                start = time.perf_counter()
                with budget.fit_scope(time.monotonic() + 60):
                    est.fit(data.X, data.y) if task == "classify" else est.fit(data.X)
                if device == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - start
                history = getattr(est, "history_", None)
                epochs = len(getattr(history, "losses", []) or []) if history is not None else None
                timings[device] = (seconds, epochs)
            cpu_s, cpu_epochs = timings["cpu"]
            row = {"family": name, "task": task, "data": modality, "cpu_s": cpu_s, "cpu_epochs": cpu_epochs}
            if "cuda" in timings:
                row.update(cuda_s=timings["cuda"][0], cuda_epochs=timings["cuda"][1])
            rows.append(row)
            print(row, flush=True)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    lines = [
        "# Torch families on CPU and CUDA",
        "",
        f"Command: `python benchmarks/bench_device.py --rows {args.rows}`",
        f"Machine: {machine_line()}; GPU: {gpu}.",
        "Default parameters of each family, the same data and a 60 s deadline on both devices.",
        "",
        "| family | task | data | CPU fit s | CPU epochs | CPU rows/s/epoch | CUDA fit s | CUDA epochs | CUDA rows/s/epoch | speed-up per epoch |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        def rate(s, e):
            return args.rows * e / s if e else None

        cpu_rate = rate(r["cpu_s"], r["cpu_epochs"])
        cuda_rate = rate(r.get("cuda_s", 0) or 1, r.get("cuda_epochs"))
        speed = f"{cuda_rate / cpu_rate:.1f}x" if cpu_rate and cuda_rate else "-"
        fmt = lambda v: "-" if v is None else (f"{v:,.0f}" if v > 100 else f"{v:.2f}")  # noqa: E731
        lines.append(f"| {r['family']} | {r['task']} | {r['data']} | {r['cpu_s']:.2f} | {r['cpu_epochs'] or '-'} | {fmt(cpu_rate)} | {fmt(r.get('cuda_s'))} | {r.get('cuda_epochs') or '-'} | {fmt(cuda_rate)} | {speed} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
