"""Do the torch families run on CUDA, and how much faster? Training speed per family, CPU against GPU.

    python benchmarks/bench_device.py [--rows 4000] [--seconds 10] [--out benchmarks/results/device.md]

Each torch family's default estimator is fitted on the same synthetic data (a mixed-type table,
and 16x16 images for the families that take images) once with device="cpu" and once with
device="cuda", each fit under the same short deadline. Most families train to that deadline on a
CPU, so fit seconds alone say little: the comparison is seconds per training epoch, read from the
training record every torch estimator keeps (`history_`). CUDA's one-off start-up (context,
cuBLAS, cuDNN) is paid before the first timed fit and reported on its own. The table is written
again after every row, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import ROOT, log, machine_line

TORCH_PLUGINS = ("diffusion", "ebm", "dbn", "bnn", "cnn", "resnet")
TASK_ORDER = ("classify", "generate", "embed", "detect", "denoise")


def tabular(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 12)), columns=[f"f{i}" for i in range(12)])
    X["group"] = rng.choice(["a", "b", "c"], size=n)
    y = pd.Series(np.where(X["f0"] * X["f1"] + (X["group"] == "a") > 0, "yes", "no"))
    return X, y


def images(n: int, side: int = 16, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A bright row (class 1) or column (class 0) on a dim noisy background."""
    rng = np.random.default_rng(seed)
    imgs = rng.uniform(0, 0.2, size=(n, side, side))
    labels = np.arange(n) % 2
    where = rng.integers(side, size=n)
    for i in range(n):
        if labels[i]:
            imgs[i, where[i], :] = 1.0
        else:
            imgs[i, :, where[i]] = 1.0
    return pd.DataFrame(imgs.reshape(n, -1), columns=[f"p{j}" for j in range(side * side)]), pd.Series(labels)


def training_record(history) -> tuple[int | None, float | None, str | None]:
    """(epochs, seconds in the training loop, how it stopped) from an estimator's `history_`.
    The DBN classifier keeps its fine-tuning record under "finetune" (pre-training aside)."""
    if not isinstance(history, dict):
        return None, None, None
    if "finetune" in history:
        history = history["finetune"]
    epochs = history.get("epochs")
    seconds = history.get("seconds")
    return (int(epochs) if epochs else None), (float(seconds) if seconds else None), history.get("stopped_by")


def warm_up_cuda() -> float:
    """Create the CUDA context and load cuBLAS and cuDNN once, so no timed fit pays for them."""
    import torch

    start = time.perf_counter()
    x = torch.randn(64, 3, 16, 16, device="cuda", requires_grad=True)
    conv = torch.nn.Conv2d(3, 8, 3).to("cuda")
    (conv(x).sum() + (x.flatten(1) @ x.flatten(1).T).sum()).backward()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def fit_once(family, task, data, device: str, seconds: float) -> dict:
    import torch

    from advisor.runtime import budget

    est = family.make_estimator(task, data.profile, **family.default_params(task, data.profile))
    est.set_params(**{k: v for k, v in {"device": device, "random_state": 0}.items() if k in est.get_params()})
    start = time.perf_counter()
    with budget.fit_scope(time.monotonic() + seconds):
        est.fit(data.X, data.y) if task == "classify" else est.fit(data.X)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    fit_s = time.perf_counter() - start
    epochs, loop_s, stopped_by = training_record(getattr(est, "history_", None))
    per_epoch = loop_s / epochs if epochs and loop_s else None
    threads = est.get_params().get("n_threads") or torch.get_num_threads()  # the CNN and ResNet cap their own
    return {"fit_s": fit_s, "epochs": epochs, "s_per_epoch": per_epoch, "stopped_by": stopped_by, "threads": threads}


def cases(registry, rows: int, wanted: set[str] | None):
    from advisor.data.preparation import prepare
    from advisor.data.tables import Table

    for name, family in sorted(registry.families.items()):
        if registry.plugin_of[name].name not in TORCH_PLUGINS or (wanted and name not in wanted):
            continue
        for modality, make in (("tabular", tabular), ("image", images)):
            if modality not in family.modalities:
                continue
            task = next((t for t in TASK_ORDER if t in family.tasks), None)
            X, y = make(rows)
            frame = X.assign(target=y.to_numpy()) if task == "classify" else X
            data = prepare(Table(frame, "bench"), task, "target" if task == "classify" else None)
            if family.supports(task, data.profile)[0]:
                yield name, family, task, modality, data


def table(rows: list[dict], args, gpu: str, startup_s: float | None) -> str:
    def num(v, digits=2):
        return "-" if v is None else f"{v:.{digits}f}"

    lines = [
        "# Torch families on CPU and CUDA",
        "",
        f"Command: `python benchmarks/bench_device.py --rows {args.rows} --seconds {args.seconds:g}`",
        "",
        f"Machine: {machine_line()}; torch threads: {args.threads}; GPU: {gpu}"
        + (f" (CUDA start-up {startup_s:.1f} s, paid once before the first fit and not in the table)." if startup_s is not None else "."),
        f"Each family's default estimator, the same {args.rows:,} rows (a 13-column mixed table, or 16x16 images),",
        f"fitted once per device under a {args.seconds:g} s deadline. Seconds per epoch are the training loop's own",
        "(data preparation and the DBN's layer-wise pre-training aside); the speed-up is CPU seconds per epoch",
        "over CUDA seconds per epoch. CPU threads: each estimator's own `n_threads` where it has one (the CNN",
        "and ResNet default to one), else torch's.",
        "",
        "| family | task | data | CPU threads | CPU fit s | CPU epochs | CPU s/epoch | CUDA fit s | CUDA epochs | CUDA s/epoch | speed-up per epoch | stopped by (CPU / CUDA) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cpu, cuda = r["cpu"], r.get("cuda") or {}
        speed = (f"{cpu['s_per_epoch'] / cuda['s_per_epoch']:.1f}x"
                 if cpu.get("s_per_epoch") and cuda.get("s_per_epoch") else "-")
        lines.append(
            f"| {r['family']} | {r['task']} | {r['data']} | {cpu['threads']} | {num(cpu['fit_s'], 1)} | {cpu['epochs'] or '-'} | {num(cpu['s_per_epoch'], 3)} "
            f"| {num(cuda.get('fit_s'), 1)} | {cuda.get('epochs') or '-'} | {num(cuda.get('s_per_epoch'), 3)} | {speed} "
            f"| {cpu['stopped_by'] or '-'} / {cuda.get('stopped_by') or '-'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import torch

    from advisor.families.discovery import discover

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=10.0, help="deadline of each fit")
    parser.add_argument("--families", nargs="*", help="only these families (default: every torch family)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "device.md"))
    args = parser.parse_args()
    args.threads = torch.get_num_threads()
    has_cuda = torch.cuda.is_available()
    gpu = torch.cuda.get_device_name(0) if has_cuda else "none"
    startup_s = warm_up_cuda() if has_cuda else None
    rows = []
    for name, family, task, modality, data in cases(discover(), args.rows, set(args.families or ())):
        row = {"family": name, "task": task, "data": modality, "cpu": fit_once(family, task, data, "cpu", args.seconds)}
        if has_cuda:
            row["cuda"] = fit_once(family, task, data, "cuda", args.seconds)
        rows.append(row)
        log(f"{name} {task} {modality}: {row}")
        Path(args.out).write_text(table(rows, args, gpu, startup_s))
    print(table(rows, args, gpu, startup_s))


if __name__ == "__main__":
    main()
