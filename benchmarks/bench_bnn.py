"""Benchmark the `bnn` family on the public cases, and write the figures down.

Part 1, the issue's targets. Each case runs the advisor restricted to one family
(`advisor.recommend(train, task, families=[family], budget=BUDGET)`: the default trial, more
Optuna trials while the budget lasts, the winner refit on every train row when time allows), and
the shared scorer grades the returned model on the case's test rows.

- classification (breast cancer, wine, anes96, digits, waveforms): the BNN against the `resnet`
  family on the same cases (or, where that plugin does not load, a deterministic network of the
  same shape: `BNNClassifier(method="ensemble", n_members=1)`, one network, no posterior).
  Target: a lower ECE, and an accuracy at most 3 points below.
- regression (diabetes, weather): 90 % interval coverage of `predict(X, return_std=True)`.
  Target: between 0.85 and 0.95.

Part 2, the inference methods: each method's default network fitted once on the whole train
split (no search; a 30 s deadline per fit) and scored the same way.

Part 3, throughput: rows per second per training epoch and per prediction (32 weight draws) of
the default network of each method, on random data shaped like digits, waveforms and anes96.

    python benchmarks/bench_bnn.py [--bench-dir DIR] [--budget 60] [--cases a,b] [--out PATH]
    python benchmarks/bench_bnn.py --throughput-only [--device cuda]    (JSON on stdout)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, bench_dir, import_scorer, machine_line  # noqa: E402

CLASSIFY = ["clf_breast_cancer", "clf_wine", "clf_anes96", "clf_digits", "clf_waveforms"]
REGRESS = ["reg_diabetes", "reg_weather"]
METHOD_CASES = ["clf_breast_cancer", "clf_wine", "clf_anes96", "clf_digits", "reg_diabetes", "reg_weather"]
METHODS = {"vi": {}, "mc_dropout": {"dropout": 0.1}, "ensemble": {"n_members": 5}}
ACCURACY_SLACK = 0.03
COVERAGE = (0.85, 0.95)


def recommend_case(score, case: str, family: str, budget: float, seed: int, device: str) -> dict:
    import advisor

    train, _, meta = score.load_case(case)
    t0 = time.monotonic()
    rec = advisor.recommend(train, meta["task"], target=meta["target"], budget=budget, families=[family], seed=seed, device=device)
    elapsed = time.monotonic() - t0
    result = score.evaluate(case, rec.best_estimator_)
    entry = next(e for e in rec.to_dict()["ranking"] if e["family"] == family)
    trials = entry.get("trials") or {}
    params = entry.get("params") or {}
    return {
        "metrics": result["metrics"],
        "seconds": elapsed,
        "trials": f"{trials.get('complete', 0)}/{trials.get('pruned', 0)}/{trials.get('failed', 0)}",
        "method": params.get("method", "-"),
        "refit": not any("refit" in w for w in rec.warnings),
        "status": entry.get("status"),
    }


def deterministic_case(score, case: str, seed: int) -> dict:
    """The fallback reference when the resnet plugin is missing: one deterministic network."""
    from advisor.runtime import budget as budget_ctx
    from advisor_plugins.bnn.estimators import BNNClassifier

    X, y, _, _ = score.split_xy(case)
    _, _, meta = score.load_case(case)
    extra = {"image_shape": tuple(meta["image_shape"])} if meta.get("image_shape") else {}
    if case == "clf_waveforms":
        extra["sequence"] = True
    t0 = time.monotonic()
    with budget_ctx.fit_scope(time.monotonic() + 60):
        est = BNNClassifier(method="ensemble", n_members=1, max_epochs=400, random_state=seed, **extra).fit(X, y)
    return {"metrics": score.evaluate(case, est)["metrics"], "seconds": time.monotonic() - t0, "trials": "1/0/0", "method": "deterministic", "refit": True, "status": "ok"}


def method_case(score, case: str, method: str, seed: int) -> dict:
    from advisor.runtime import budget as budget_ctx
    from advisor_plugins.bnn.estimators import BNNClassifier, BNNRegressor

    X, y, _, _ = score.split_xy(case)
    _, _, meta = score.load_case(case)
    extra = {"image_shape": tuple(meta["image_shape"])} if meta.get("image_shape") else {}
    model = BNNClassifier if meta["task"] == "classify" else BNNRegressor
    t0 = time.monotonic()
    with budget_ctx.fit_scope(time.monotonic() + 30):
        est = model(method=method, max_epochs=400, random_state=seed, **METHODS[method], **extra).fit(X, y)
    fit_s = time.monotonic() - t0
    result = score.evaluate(case, est)
    return {"metrics": result["metrics"], "fit_s": fit_s, "epochs": est.history_["epochs"], "stopped_by": est.history_["stopped_by"]}


def synthetic(case: str, n: int | None = None):
    """Random data shaped like a public case (throughput does not depend on the values)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    if case == "clf_digits":
        n = n or 1437
        return pd.DataFrame(rng.uniform(size=(n, 64)), columns=[f"p{i}" for i in range(64)]), rng.integers(0, 10, size=n), {"image_shape": (8, 8)}
    if case == "clf_waveforms":
        n = n or 2400
        return pd.DataFrame(rng.normal(size=(n, 64)), columns=[f"x{i}" for i in range(64)]), rng.integers(0, 4, size=n), {"sequence": True}
    n = n or 755  # shaped like clf_anes96: numerics with holes and two text columns
    X = pd.DataFrame({f"n{i}": rng.normal(size=n) for i in range(7)})
    X["educ"] = rng.choice(["MS", "HSdrop", "HS", "Coll", "CCdeg", "BAdeg", "MAdeg"], size=n)
    X["PID"] = rng.choice(["strDem", "weakDem", "indDem", "indind", "indRep", "weakRep", "strRep"], size=n)
    X.loc[rng.choice(n, 40, replace=False), "n0"] = np.nan
    return X, rng.integers(0, 2, size=n), {}


def throughput(device: str, epochs: int = 3, batch_sizes=(64,)) -> list[dict]:
    """Training rows/s per epoch (fixed epochs, no validation share) and prediction rows/s."""
    import torch

    from advisor.nn.device import resolve_device
    from advisor_plugins.bnn.estimators import BNNClassifier

    device = resolve_device(device)
    rows = []
    for case in ("clf_digits", "clf_waveforms", "clf_anes96"):
        X, y, extra = synthetic(case)
        for method, params in METHODS.items():
            for batch in batch_sizes:
                est = BNNClassifier(method=method, max_epochs=epochs, patience=None, validation_fraction=0.0, batch_size=batch, random_state=0, device=device, **params, **extra)
                est.fit(X.iloc[:128], y[:128])  # warm-up: imports, allocations, kernels
                est.fit(X, y)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                start = time.perf_counter()
                est.predict_proba(X)
                predict_s = time.perf_counter() - start
                rows.append({
                    "case": case, "method": method, "device": device, "batch": batch, "rows": len(X), "epochs": est.history_["epochs"],
                    "train_rows_per_s": len(X) * est.history_["epochs"] / est.history_["seconds"],
                    "predict_rows_per_s": len(X) / predict_s,
                })
    return rows


def _fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def write_report(path: Path, args, clf, reg, methods, speed, reference: str, wall_s: float) -> None:
    lines = [
        "# bnn on the public benchmark cases",
        "",
        f"Command: `nice -n 10 .venv/bin/python benchmarks/bench_bnn.py --budget {args.budget:g}`",
        "",
        f"Machine: {machine_line()}; no GPU. Small fits run on one torch thread (the core's",
        "`thread_limit`). The 2 cores were shared with other work while this ran, so times are noisy.",
        f"Whole run: {wall_s / 60:.1f} min.",
        "",
        "Each row of the first two tables: `advisor.recommend(train.csv, task, families=[family],",
        f"budget={args.budget:g}, seed={args.seed})`, then the shared scorer on test.csv. `trials` is",
        "done/pruned/failed; `refit` says whether the winner was refit on every train row (else the",
        "search model, fitted on 60 % of them, is scored); `method` is the winning inference method.",
        "",
        f"## Classification: calibration against {reference}",
        "",
        f"Target: ECE below the reference's, accuracy at most {ACCURACY_SLACK * 100:.0f} points below it.",
        "",
        "| case | bnn accuracy | bnn ECE | bnn log loss | method | trials | s | refit | ref accuracy | ref ECE | ref log loss | s | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missed = []
    for case, (b, r) in clf.items():
        bm, rm = b["metrics"], r["metrics"]
        ok_ece = bm["ece"] < rm["ece"]
        ok_acc = bm["accuracy"] >= rm["accuracy"] - ACCURACY_SLACK
        met = "yes" if ok_ece and ok_acc else "no"
        if not ok_ece:
            missed.append(f"{case}: ECE {bm['ece']:.4f} is not below the reference's {rm['ece']:.4f}")
        if not ok_acc:
            missed.append(f"{case}: accuracy {bm['accuracy']:.4f} is more than {ACCURACY_SLACK:.2f} below {rm['accuracy']:.4f}")
        lines.append(
            f"| {case} | {bm['accuracy']:.4f} | {bm['ece']:.4f} | {bm['log_loss']:.4f} | {b['method']} | {b['trials']} | {b['seconds']:.0f} | {'yes' if b['refit'] else 'no'} "
            f"| {rm['accuracy']:.4f} | {rm['ece']:.4f} | {rm['log_loss']:.4f} | {r['seconds']:.0f} | {met} |"
        )
    lines += [
        "",
        "## Regression: 90 % interval coverage",
        "",
        f"Target: coverage90 of `predict(X, return_std=True)` between {COVERAGE[0]} and {COVERAGE[1]}.",
        "",
        "| case | coverage90 | interval90 width | R² | rmse | Gaussian nll | method | trials | s | refit | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, b in reg.items():
        m = b["metrics"]
        ok = COVERAGE[0] <= m["coverage90"] <= COVERAGE[1]
        if not ok:
            missed.append(f"{case}: coverage90 {m['coverage90']:.3f} is outside [{COVERAGE[0]}, {COVERAGE[1]}]")
        lines.append(
            f"| {case} | {m['coverage90']:.3f} | {m['interval90_width']:.3f} | {m['r2']:.4f} | {m['rmse']:.4g} | {m['nll']:.3f} | {b['method']} | {b['trials']} | {b['seconds']:.0f} | {'yes' if b['refit'] else 'no'} | {'yes' if ok else 'no'} |"
        )
    lines += ["", "## Targets missed", ""]
    lines += [f"- {m}" for m in missed] or ["- none"]
    if methods:
        lines += [
            "",
            "## Inference methods, default networks, no search",
            "",
            "Each method's default network fitted once on all train rows (`max_epochs=400`, early",
            "stopping, a 30 s deadline), scored on test.csv. Classification: accuracy / ECE;",
            "regression: R² / coverage90. `s` is the fit time.",
            "",
            "| case | " + " | ".join(f"{m} | s" for m in METHODS) + " |",
            "|---|" + "---|---|" * len(METHODS),
        ]
        for case, per in methods.items():
            cells = []
            for method in METHODS:
                r = per[method]
                m = r["metrics"]
                pair = f"{m['accuracy']:.3f} / {m['ece']:.3f}" if "ece" in m else f"{m['r2']:.3f} / {m['coverage90']:.3f}"
                cells.append(f"{pair} | {r['fit_s']:.1f}")
            lines.append(f"| {case} | " + " | ".join(cells) + " |")
    if speed:
        lines += [
            "",
            "## Throughput",
            "",
            "Default network of each method on random data shaped like the case (3 epochs, no",
            "validation share, after a warm-up fit): training rows per second per epoch, and",
            "prediction rows per second (`predict_proba`, 32 weight draws; ensembles: 5 members).",
            "",
            "| data shaped like | method | device | batch | rows | train rows/s | predict rows/s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in speed:
            lines.append(f"| {r['case']} | {r['method']} | {r['device']} | {r['batch']} | {r['rows']} | {r['train_rows_per_s']:.0f} | {r['predict_rows_per_s']:.0f} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=None)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cases", default=None, help="comma-separated subset of the cases")
    parser.add_argument("--no-methods", action="store_true", help="skip the per-method table")
    parser.add_argument("--throughput-only", action="store_true", help="print the throughput rows as JSON and stop")
    parser.add_argument("--batch-sizes", default="64", help="batch sizes of the throughput part, e.g. 64,256")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bnn.md"))
    args = parser.parse_args(argv)
    if args.throughput_only:
        print(json.dumps(throughput(args.device, batch_sizes=[int(b) for b in args.batch_sizes.split(",")]), indent=1))
        return 0
    score = import_scorer(bench_dir(args.bench_dir))
    import advisor

    start = time.monotonic()
    wanted = set(args.cases.split(",")) if args.cases else None
    has_resnet = "resnet" in advisor.discover().families
    reference = "the `resnet` family (same budget)" if has_resnet else "a deterministic network of the same shape (`resnet` did not load)"
    clf, reg, methods = {}, {}, {}
    for case in CLASSIFY:
        if wanted and case not in wanted:
            continue
        bnn = recommend_case(score, case, "bnn", args.budget, args.seed, args.device)
        ref = recommend_case(score, case, "resnet", args.budget, args.seed, args.device) if has_resnet else deterministic_case(score, case, args.seed)
        clf[case] = (bnn, ref)
        print(case, "bnn", round(bnn["metrics"]["accuracy"], 4), round(bnn["metrics"]["ece"], 4), "| ref", round(ref["metrics"]["accuracy"], 4), round(ref["metrics"]["ece"], 4), flush=True)
    for case in REGRESS:
        if wanted and case not in wanted:
            continue
        reg[case] = recommend_case(score, case, "bnn", args.budget, args.seed, args.device)
        print(case, "bnn coverage90", round(reg[case]["metrics"]["coverage90"], 3), "r2", round(reg[case]["metrics"]["r2"], 4), flush=True)
    if not args.no_methods:
        for case in METHOD_CASES:
            if wanted and case not in wanted:
                continue
            methods[case] = {m: method_case(score, case, m, args.seed) for m in METHODS}
            print(case, {m: round(r["fit_s"], 1) for m, r in methods[case].items()}, flush=True)
    speed = throughput("cpu")
    write_report(Path(args.out), args, clf, reg, methods, speed, reference, time.monotonic() - start)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
