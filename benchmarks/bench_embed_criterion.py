"""Does a label-free criterion pick the embedding a linear probe would? Evidence for
`advisor.judging.embed_quality.label_free_score` against trustworthiness.

    python benchmarks/bench_embed_criterion.py [--bench-dir DIR] [--cases emb_digits,emb_waveforms,...]
                                               [--seconds 45] [--random-configs 2] [--out PATH]

Cases: the shared benchmark's `emb_digits` (8x8 images) and `emb_waveforms` (length-64
sequences), and three built from the bundled datasets by a stratified 80/20 split whose labels
the embeddings never see: `digits` (images; split seed 1, so its rows differ from emb_digits'),
`iris` and `penguins` (tables, the latter with categorical columns; split seed 0).

For every case each embed family that applies (pca, kernel_features, dbn, cnn, resnet) is fitted
on the train rows with its default parameters and with `--random-configs` random draws from its
search space (Optuna's RandomSampler, seeds 1, 2, ...), each within `--seconds`; beside them
simple baselines: the standardised raw features, PCA with 2, 8 and 32 components, and a
32-dimensional Gaussian random projection. Each embedding of the test rows gets
- its probe accuracy: the shared scorer's linear probe (standardise, logistic regression,
  stratified 5-fold accuracy) with the hidden labels;
- trustworthiness (k = 5, against the standardised raw rows): the advisor's label-free fidelity
  until now;
- RankMe (effective rank, Garrido et al., 2023) alone;
- LiDAR (Thilak et al., 2023): the effective rank of the linear discriminant matrix with each
  row and its perturbed views as one class, a rank measure that knows the nuisances (measured as
  an alternative; the advisor does not use it);
- `label_free_score` and its view-retrieval part alone (no rank discount).
Each criterion picks the embedding it scores highest; the pick's probe accuracy is compared with
the best one, and the Spearman correlation between criterion and probe is taken over all the
case's embeddings. The same is repeated on three random 300-row subsets of the test rows (the size
of the advisor's held-out rows), and `label_free_score` is timed on 1,000 train rows.

Deep fits stop at a wall-clock deadline, so on a loaded machine their figures move a little
between runs. Writes `benchmarks/results/embed_criterion.md`.
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

RESULTS = REPO / "benchmarks" / "results"
CASES = ["emb_digits", "emb_waveforms", "digits", "iris", "penguins"]
BUNDLED = {"digits": ("label", (8, 8), 1), "iris": ("species", None, 0), "penguins": ("species", None, 0)}
FAMILIES = ["pca", "kernel_features", "dbn", "cnn", "resnet"]
CRITERIA = ["trustworthiness", "rankme", "lidar", "retrieval", "label_free_score"]
SUBSET_ROWS, SUBSET_DRAWS = 300, 3


class Baseline:
    """Standardised raw features, PCA of them, or a Gaussian random projection of them."""

    def __init__(self, kind: str, n: int = 0, seed: int = 0):
        self.kind, self.n, self.seed = kind, n, seed

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        from advisor.nn.encoding import TabularEncoder

        self.encoder_ = TabularEncoder(numeric="standard", max_levels=50).fit(X)
        E = self.encoder_.transform(X).astype(float)
        if self.kind == "pca":
            self.pca_ = PCA(min(self.n, E.shape[1]), random_state=self.seed).fit(E)
        elif self.kind == "projection":
            self.W_ = np.random.default_rng(self.seed).normal(size=(E.shape[1], self.n)) / np.sqrt(E.shape[1])
        return self

    def transform(self, X):
        E = self.encoder_.transform(X).astype(float)
        if self.kind == "pca":
            return self.pca_.transform(E)
        if self.kind == "projection":
            return E @ self.W_
        return E


def load_case(name: str, scorer):
    """(train rows, test rows, test labels, prepare() options) with the labels kept apart."""
    if name in BUNDLED:
        from sklearn.model_selection import train_test_split

        target, shape, split_seed = BUNDLED[name]
        frame = pd.read_csv(REPO / "datasets" / f"{name}.csv")
        frame = frame[frame[target].notna()].reset_index(drop=True)
        train, test = train_test_split(frame, test_size=0.2, stratify=frame[target], random_state=split_seed)
        labels = test[target].astype(str).to_numpy()
        options = {"image_shape": shape} if shape else {}
        return train.drop(columns=[target]).reset_index(drop=True), test.drop(columns=[target]).reset_index(drop=True), labels, options
    train, test, meta = scorer.load_case(name)
    target = meta["target"]
    labels = scorer._norm_labels(test[target].to_numpy())
    if meta.get("image_shape"):
        options = {"image_shape": tuple(meta["image_shape"])}
    else:
        options = {"sequence": bool(meta.get("sequence_length"))}
    return train, test.drop(columns=[target]), labels, options


def candidates(profile, n_random: int):
    """(name, family, estimator) for the baselines, then each family's default and random configurations."""
    import optuna

    from advisor.families.discovery import discover

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = [("raw", "baseline", Baseline("raw")), ("pca2", "baseline", Baseline("pca", 2)), ("pca8", "baseline", Baseline("pca", 8)),
           ("pca32", "baseline", Baseline("pca", 32)), ("projection32", "baseline", Baseline("projection", 32))]
    registry = discover()
    for name in FAMILIES:
        family = registry.get(name)
        if not family.supports("embed", profile).ok:
            continue
        configs = [("default", family.default_params("embed", profile))]
        for k in range(1, n_random + 1):
            study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=k))
            configs.append((f"random{k}", family.search_space(study.ask(), "embed", profile)))
        for tag, params in configs:
            est = family.make_estimator("embed", profile, **params)
            if "random_state" in est.get_params():
                est.set_params(random_state=0)
            out.append((f"{name}-{tag}", name, est))
    return out


def trustworthiness_of(X: pd.DataFrame, Z: np.ndarray) -> float:
    """As the advisor scored an embedding without labels: k = 5 against the standardised raw rows."""
    from sklearn.manifold import trustworthiness

    from advisor.nn.encoding import TabularEncoder

    raw = TabularEncoder(numeric="standard", max_levels=50).fit(X).transform(X)[:1000]
    k = max(min(5, len(raw) // 2 - 1), 1)
    return float(trustworthiness(raw, Z[:1000], n_neighbors=k))


def lidar_of(est, X: pd.DataFrame, Z: np.ndarray, profile, seed=0, delta=1e-4, eps=1e-7) -> float:
    """LiDAR (Thilak et al., 2023): the effective rank of the linear discriminant matrix whose
    classes are the rows and whose samples are each row with its perturbed views (the views
    `label_free_score` uses): how many directions separate rows more than a nuisance moves them.
    An alternative to `label_free_score`, measured here and not used by the advisor."""
    from advisor.judging.embed_quality import _as_matrix, _Standardiser, perturbed_views

    X = X.reset_index(drop=True)
    scale = _Standardiser(Z)
    samples = [scale(Z)]
    for _, view in perturbed_views(X, profile.modality, profile.image_shape, np.random.default_rng(seed)):
        try:
            samples.append(scale(_as_matrix(est.transform(view), len(X))))
        except Exception:  # noqa: BLE001 - a view the estimator cannot embed is left out
            continue
    S = np.stack(samples, 1)  # rows, samples, dims
    if S.shape[2] == 0 or S.shape[1] < 2:
        return 0.0
    means = S.mean(1)
    centred = means - means.mean(0)
    between = centred.T @ centred / len(S)
    spread = S - means[:, None]
    within = np.einsum("nqd,nqe->de", spread, spread) / (S.shape[0] * S.shape[1]) + delta * np.eye(S.shape[2])
    values, vectors = np.linalg.eigh(within)
    root = vectors @ np.diag(values ** -0.5) @ vectors.T
    lam = np.clip(np.linalg.eigvalsh(root @ between @ root), 0.0, None)
    p = lam / max(lam.sum(), 1e-300) + eps
    p = p / p.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def criteria_of(est, X, Z, profile, seed=0) -> dict:
    from advisor.judging.embed_quality import _Standardiser, effective_rank, label_free_score

    t0 = time.perf_counter()
    score, metrics = label_free_score(est, X, Z, modality=profile.modality, image_shape=profile.image_shape, seed=seed)
    seconds = time.perf_counter() - t0
    Zs = _Standardiser(Z)(Z)
    return {
        "trustworthiness": trustworthiness_of(X, Z),
        "rankme": effective_rank(Zs) if Zs.shape[1] else 0.0,
        "lidar": lidar_of(est, X, Z, profile, seed),
        "retrieval": metrics.get("retrieval", 0.0),
        "label_free_score": score,
        "retrieval_shift": metrics.get("retrieval_shift"),
        "retrieval_noise": metrics.get("retrieval_noise"),
        "rank_factor": metrics.get("rank_factor"),
        "score_seconds": seconds,
    }


def run_case(name: str, scorer, seconds: float, n_random: int, log) -> dict:
    import advisor.data.preparation
    import advisor.data.tables
    import advisor.runtime.budget

    train, test, labels, options = load_case(name, scorer)
    data = advisor.data.preparation.prepare(advisor.data.tables.Table(train, name), "embed", None, **options)
    profile = data.profile
    X_train, X_test = data.X, data.cleaner.transform(test)
    log(f"{name}: {profile.modality}, {len(X_train)} train / {len(X_test)} test rows, {X_train.shape[1]} columns")
    rows, fitted = [], []
    for label, family, est in candidates(profile, n_random):
        t0 = time.perf_counter()
        try:
            with advisor.runtime.budget.fit_scope(time.monotonic() + seconds):
                est.fit(X_train)
            Z = np.asarray(est.transform(X_test), dtype=float).reshape(len(X_test), -1)
            if not np.all(np.isfinite(Z)):
                raise ValueError("non-finite embedding")
        except Exception as exc:  # noqa: BLE001 - a failed fit is reported, not fatal
            log(f"  {label}: failed ({type(exc).__name__}: {exc})"[:200])
            continue
        fit_s = time.perf_counter() - t0
        row = {"embedding": label, "family": family, "dim": Z.shape[1], "fit_s": fit_s, "probe": scorer._probe(Z, labels)}
        row.update(criteria_of(est, X_test, Z, profile))
        rows.append(row)
        fitted.append((label, est, Z))
        log(f"  {label:24s} dim {Z.shape[1]:4d}  probe {row['probe']:.3f}  trust {row['trustworthiness']:.3f}  "
            f"score {row['label_free_score']:.3f}  fit {fit_s:.0f} s")
    table = pd.DataFrame(rows).set_index("embedding")

    subsets = []
    for draw in range(SUBSET_DRAWS if len(X_test) > SUBSET_ROWS else 0):
        idx = np.sort(np.random.default_rng(draw).choice(len(X_test), SUBSET_ROWS, replace=False))
        sub_rows = {}
        for label, est, Z in fitted:
            crit = criteria_of(est, X_test.iloc[idx].reset_index(drop=True), Z[idx], profile, seed=draw)
            sub_rows[label] = {"probe": table.loc[label, "probe"], **crit}
        subsets.append(pd.DataFrame(sub_rows).T)

    timing = {}
    if len(X_train) >= 1000:
        from advisor.judging.embed_quality import label_free_score

        rows_1k = X_train.iloc[:1000].reset_index(drop=True)
        for label, est, _ in fitted:
            Z = np.asarray(est.transform(rows_1k), dtype=float).reshape(1000, -1)
            t0 = time.perf_counter()
            label_free_score(est, rows_1k, Z, modality=profile.modality, image_shape=profile.image_shape)
            timing[label] = time.perf_counter() - t0
    return {"table": table, "subsets": subsets, "timing": timing, "profile": profile, "n_test": len(X_test)}


# -- summaries --------------------------------------------------------------------------------
def picks(table: pd.DataFrame, criterion: str) -> dict:
    from scipy.stats import spearmanr

    values = table[criterion].astype(float)
    tied = values.index[np.isclose(values, values.max(), rtol=0, atol=1e-9)]
    pick_probe = float(table.loc[tied, "probe"].mean())  # a tie is worth what a coin flip among the tied gets
    best = table["probe"].max()
    families = table[table["family"] != "baseline"] if "family" in table else table
    rho = spearmanr(values, table["probe"].astype(float)).correlation
    pick = tied[0] if len(tied) == 1 else f"{len(tied)} tied: {', '.join(tied)}"
    return {"pick": pick, "pick_probe": pick_probe, "best": float(best),
            "best_family": float(families["probe"].max()), "regret": float(best - pick_probe), "spearman": float(rho)}


def rank_sensitivity(table: pd.DataFrame) -> dict:
    """Spearman and regret of retrieval x (1 - exp(-rank / c)) for other scales c (inf: no discount)."""
    out = {}
    for c in (2.0, 4.0, 8.0, float("inf")):
        t = table.copy()
        t["s"] = t["retrieval"] * (1 - np.exp(-t["rankme"] / c)) if np.isfinite(c) else t["retrieval"]
        p = picks(t, "s")
        out[c] = (p["spearman"], p["regret"])
    return out


def fmt(x, digits=3):
    return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def write_report(results: dict, args, path: Path, wall: float) -> None:
    lines = ["# A label-free criterion for embeddings: view retrieval against trustworthiness", ""]
    lines += [f"Command: `python benchmarks/bench_embed_criterion.py --cases {','.join(results)} --seconds {args.seconds:g} "
              f"--random-configs {args.random_configs}` ({wall / 60:.0f} min)", ""]
    lines += [f"Machine: {machine_line()}; torch threads 1. The cores were shared with other work, so deep fits (cut at "
              f"{args.seconds:g} s) and timings are noisy.", ""]
    lines += ["Each case: every embedding fitted on the train rows without labels, scored on the test rows. **probe** is the "
              "shared scorer's linear probe with the hidden labels (the figure to predict); **trust** is trustworthiness "
              "(k = 5), the advisor's label-free fidelity until now; **rank** is RankMe (effective rank of the "
              "standardised embedding); **lidar** is LiDAR (effective rank of the discriminant matrix of rows against their "
              "perturbed views, Thilak et al., 2023; measured as an alternative, not used); **shift** / **noise** are the view-retrieval scores (mean reciprocal rank of a "
              "row found from its shifted / noisy copy); **score** is `label_free_score` = mean retrieval x "
              "(1 - exp(-rank / 4)).", ""]
    lines += ["## Target", "", "The pick of `label_free_score` within 0.03 of the best family's probe accuracy on emb_digits and "
              "emb_waveforms (trustworthiness's pick beside it):", ""]
    for case in ("emb_digits", "emb_waveforms"):
        if case in results:
            ours, old = picks(results[case]["table"], "label_free_score"), picks(results[case]["table"], "trustworthiness")
            gap = ours["best_family"] - ours["pick_probe"]
            lines.append(f"- {case}: {ours['pick']} {ours['pick_probe']:.3f} against {ours['best_family']:.3f}, "
                         f"{gap:.3f} below: {'met' if gap <= 0.03 else 'missed'} (trustworthiness: {old['pick']} {old['pick_probe']:.3f})")
    lines += [""]
    lines += ["## Picks", "", "Each criterion picks the embedding it scores highest (where several tie, the pick's probe is their mean). *regret*: best probe accuracy of the case minus "
              "the pick's; *best family*: best probe among the families' embeddings (baselines left out); rho: Spearman "
              "correlation between criterion and probe over the case's embeddings.", ""]
    lines += ["| case | rows | embeddings | criterion | pick | pick's probe | best probe | best family | regret | rho |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for case, res in results.items():
        t = res["table"]
        for crit in CRITERIA:
            p = picks(t, crit)
            bold = "**" if crit == "label_free_score" else ""
            lines.append(f"| {case} | {res['n_test']} | {len(t)} | {bold}{crit}{bold} | {p['pick']} | {p['pick_probe']:.3f} | "
                         f"{p['best']:.3f} | {p['best_family']:.3f} | {p['regret']:.3f} | {p['spearman']:.2f} |")
    lines += ["", f"### On {SUBSET_ROWS}-row subsets of the test rows ({SUBSET_DRAWS} random draws)", "",
              "Mean rho and the picks of each draw (probe accuracy of the pick in brackets); the probe is that of all test rows.", "",
              "| case | criterion | mean rho | picks |", "|---|---|---|---|"]
    for case, res in results.items():
        if not res["subsets"]:
            continue
        for crit in CRITERIA:
            ps = [picks(s, crit) for s in res["subsets"]]
            chosen = ", ".join(f"{p['pick']} ({p['pick_probe']:.3f})" for p in ps)
            lines.append(f"| {case} | {crit} | {np.mean([p['spearman'] for p in ps]):.2f} | {chosen} |")
    lines += ["", "### Scale of the rank discount", "",
              "rho / regret of retrieval x (1 - exp(-rank / c)) on all test rows; c = 4 is the one used, inf is retrieval alone.", "",
              "| case | c = 2 | c = 4 | c = 8 | inf |", "|---|---|---|---|---|"]
    for case, res in results.items():
        sens = rank_sensitivity(res["table"])
        lines.append(f"| {case} | " + " | ".join(f"{r:.2f} / {g:.3f}" for r, g in sens.values()) + " |")
    lines += ["", "### Time of `label_free_score` on 1,000 rows", "",
              "Seconds for 1,000 train rows given their embedding (the perturbed views' transforms included).", "",
              "| case | median | slowest |", "|---|---|---|"]
    for case, res in results.items():
        if res["timing"]:
            slowest = max(res["timing"], key=res["timing"].get)
            lines.append(f"| {case} | {np.median(list(res['timing'].values())):.2f} | {res['timing'][slowest]:.2f} ({slowest}) |")
    for case, res in results.items():
        t = res["table"].sort_values("probe", ascending=False)
        prof = res["profile"]
        shape = f" {'x'.join(map(str, prof.image_shape))}" if prof.image_shape else ""
        lines += ["", f"## {case} ({prof.modality}{shape}, {res['n_test']} test rows)", "",
                  "| embedding | dim | fit s | probe | trust | rank | lidar | shift | noise | score |", "|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in t.iterrows():
            lines.append(f"| {name} | {r['dim']} | {r['fit_s']:.0f} | {r['probe']:.3f} | {r['trustworthiness']:.3f} | {r['rankme']:.1f} | {r['lidar']:.1f} | "
                         f"{fmt(r['retrieval_shift'])} | {fmt(r['retrieval_noise'])} | {r['label_free_score']:.3f} |")
    write_markdown(path, lines)


def main(argv=None) -> None:
    parser = case_benchmark_parser(__doc__, CASES, 45.0, RESULTS / "embed_criterion.md")
    parser.add_argument("--random-configs", type=int, default=2, help="random search-space draws per family")
    args = parser.parse_args(argv)
    one_torch_thread()
    scorer = import_scorer(bench_dir(args.bench_dir))
    start = time.perf_counter()
    results = {}
    for case in args.cases.split(","):
        results[case] = run_case(case, scorer, args.seconds, args.random_configs, lambda m: print(m, flush=True))
    write_report(results, args, Path(args.out), time.perf_counter() - start)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
