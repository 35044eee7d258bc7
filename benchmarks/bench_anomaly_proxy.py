"""Do injected anomalies rank detectors as the real anomalies do? Evidence for the detect
fidelity the advisor uses when the data has no anomaly labels.

    python benchmarks/bench_anomaly_proxy.py [--bench-dir DIR] [--cases det_breast_cancer,det_latent8]
                                             [--seconds 25] [--injections 3] [--out PATH]

For each detect case of the shared benchmark (train rows unlabelled, test rows labelled), every
detect family is fitted with its default parameters on 80 % of the train rows (within
`--seconds`), as the advisor's search would, and scored:
- on the case's test rows against their real anomaly labels (the figure the proxy should predict);
- on the other 20 % of the train rows with the advisor's own injected anomalies
  (`advisor.criteria.inject_anomalies`, one per two rows; `--injections` draws);
- on the same rows with one kind of synthetic anomaly at a time, the four kinds of ADBench
  (Han et al., 2022): *value* (one column moved 3-5 sd), *dependency* (each column from another
  row), *local* (a row moved by twice a draw of the data's own covariance, along its
  correlations) and *global* (uniform over the columns' ranges).
A proxy is as good as its ranking of the families: its pick, and the Spearman correlation of its
AUCs with the real ones. Writes `benchmarks/results/anomaly_proxy.md`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import bench_dir, case_benchmark_parser, import_scorer, machine_line, one_torch_thread, write_markdown  # noqa: E402

CASES = ["det_breast_cancer", "det_latent8"]
FAMILIES = ["gaussian_mixture", "isolation_forest", "ebm", "diffusion", "arf", "dbn"]
KINDS = ["value", "dependency", "local", "global"]


def synthetic(rows: pd.DataFrame, kind: str, rng) -> pd.DataFrame:
    """One synthetic anomaly per two of `rows`, all of one kind (numeric columns are moved)."""
    numeric = [c for c in rows.columns if pd.api.types.is_numeric_dtype(rows[c]) and not pd.api.types.is_bool_dtype(rows[c])]
    n = max(20, len(rows) // 2)
    base = rows.iloc[rng.integers(len(rows), size=n)].reset_index(drop=True)
    values = rows[numeric].to_numpy(dtype=float)
    out = base.copy()
    if kind == "value":
        sd = np.where(values.std(0) > 0, values.std(0), 1.0)
        for i, j in enumerate(rng.integers(len(numeric), size=n)):
            out.loc[i, numeric[j]] = base.loc[i, numeric[j]] + rng.choice([-1, 1]) * rng.uniform(3, 5) * sd[j]
    elif kind == "dependency":
        for col in rows.columns:
            out[col] = rows[col].to_numpy()[rng.integers(len(rows), size=n)]
    elif kind == "local":
        cov = np.cov(values, rowvar=False) + 1e-6 * np.diag(values.var(0) + 1e-12)
        out[numeric] = base[numeric].to_numpy(dtype=float) + 2.0 * rng.normal(size=(n, len(numeric))) @ np.linalg.cholesky(cov).T
    else:  # global
        low, high = values.min(0), values.max(0)
        out[numeric] = rng.uniform(low - 0.05 * (high - low), high + 0.05 * (high - low), size=(n, len(numeric)))
    return out


def auc_against(est, normal_scores: np.ndarray, anomalies: pd.DataFrame) -> float:
    from sklearn.metrics import roc_auc_score

    scores = np.r_[normal_scores, est.score_samples(anomalies)]
    return float(roc_auc_score(np.r_[np.zeros(len(normal_scores)), np.ones(len(scores) - len(normal_scores))], -scores))


def run_case(name: str, scorer, seconds: float, injections: int, log) -> pd.DataFrame:
    import advisor.data.preparation
    import advisor.data.tables
    import advisor.runtime.budget
    from advisor.criteria import inject_anomalies
    from advisor.families.discovery import discover
    from sklearn.metrics import roc_auc_score

    train, test, meta = scorer.load_case(name)
    labels = test[meta["target"]].to_numpy(dtype=float)
    data = advisor.data.preparation.prepare(advisor.data.tables.Table(train, name), "detect", None)
    order = np.random.default_rng(0).permutation(len(data.X))
    cut = int(0.8 * len(order))
    fit_rows = data.X.iloc[order[:cut]].reset_index(drop=True)
    held_out = data.X.iloc[order[cut:]].reset_index(drop=True)
    test_rows = data.cleaner.transform(test.drop(columns=[meta["target"]]))
    log(f"{name}: {len(fit_rows)} fit / {len(held_out)} held-out rows, {len(test_rows)} test rows ({int(labels.sum())} anomalies)")
    registry, rows = discover(), []
    for family_name in FAMILIES:
        family = registry.get(family_name)
        if family is None or not family.supports("detect", data.profile).ok:
            continue
        est = family.make_estimator("detect", data.profile, **family.default_params("detect", data.profile))
        if "random_state" in est.get_params():
            est.set_params(random_state=0)
        start = time.perf_counter()
        with advisor.runtime.budget.fit_scope(time.monotonic() + seconds):
            est.fit(fit_rows)
        row = {"family": family_name, "fit_s": time.perf_counter() - start,
               "real": float(roc_auc_score(labels, -est.score_samples(test_rows)))}
        normal = est.score_samples(held_out)
        injected = []
        for seed in range(injections):
            mixed, is_anomaly = inject_anomalies(held_out, seed=seed)
            injected.append(float(roc_auc_score(is_anomaly, -est.score_samples(mixed))))
        row["injected"] = float(np.mean(injected))
        for kind in KINDS:
            rng = np.random.default_rng(1)
            row[kind] = float(np.mean([auc_against(est, normal, synthetic(held_out, kind, rng)) for _ in range(injections)]))
        rows.append(row)
        log(f"  {family_name:18s} real {row['real']:.3f}  injected {row['injected']:.3f}  fit {row['fit_s']:.0f} s")
    return pd.DataFrame(rows).set_index("family")


def write_report(results: dict, args, path: Path, wall: float) -> None:
    from scipy.stats import spearmanr

    lines = ["# Injected anomalies against real ones: does the detect proxy rank detectors right?", "",
             f"Command: `python benchmarks/bench_anomaly_proxy.py --cases {','.join(results)} --seconds {args.seconds:g} "
             f"--injections {args.injections}` ({wall / 60:.0f} min)", "", f"Machine: {machine_line()}; torch threads 1.", "",
             "ROC-AUC of each detect family (default parameters, fitted on 80 % of the unlabelled train rows): **real** on the "
             "test rows against their anomaly labels; **injected** on the other 20 % with the advisor's own synthetic anomalies "
             "(the detect fidelity without labels); then one ADBench kind of synthetic anomaly at a time (Han et al., 2022). "
             "Each synthetic figure is the mean of the draws.", ""]
    cols = ["injected"] + KINDS
    lines += ["## How each proxy ranks the families", "",
              "*pick*: the family the proxy scores highest, with its real AUC; *regret*: best real AUC minus the pick's; rho: "
              "Spearman correlation of the proxy's AUCs with the real ones.", "",
              "| case | proxy | pick (real AUC) | regret | rho |", "|---|---|---|---|---|"]
    for case, t in results.items():
        for col in cols:
            pick = t[col].idxmax()
            lines.append(f"| {case} | {col} | {pick} ({t.loc[pick, 'real']:.3f}) | {t['real'].max() - t.loc[pick, 'real']:.3f} | "
                         f"{spearmanr(t[col], t['real']).correlation:.2f} |")
    for case, t in results.items():
        lines += ["", f"## {case}", "", "| family | fit s | real | " + " | ".join(cols) + " |", "|---" * (3 + len(cols)) + "|"]
        for family, r in t.sort_values("real", ascending=False).iterrows():
            lines.append(f"| {family} | {r['fit_s']:.0f} | {r['real']:.3f} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    write_markdown(path, lines)


def main(argv=None) -> None:
    parser = case_benchmark_parser(__doc__, CASES, 25.0, REPO / "benchmarks" / "results" / "anomaly_proxy.md")
    parser.add_argument("--injections", type=int, default=3, help="synthetic draws per proxy")
    args = parser.parse_args(argv)
    one_torch_thread()
    scorer = import_scorer(bench_dir(args.bench_dir))
    start = time.perf_counter()
    results = {case: run_case(case, scorer, args.seconds, args.injections, lambda m: print(m, flush=True))
               for case in args.cases.split(",")}
    write_report(results, args, Path(args.out), time.perf_counter() - start)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
