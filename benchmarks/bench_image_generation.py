"""Image generation on gen_digits, judged two ways side by side: the shared scorer's C2ST and a
Fréchet distance in the feature space of a small fixed network.

    python benchmarks/bench_image_generation.py [--bench-dir DIR] [--budget 120] [--families diffusion ebm gaussian_mixture]

Each family is searched alone by the advisor with `--budget` seconds (as the suite's oracle
runs it: `advisor.recommend(train, "generate", families=NAME, budget=B, seed=0)`), and 1,000
rows are drawn from the returned generator. C2ST comes from `score.evaluate` on the test rows.

The Fréchet distance follows FID (Heusel et al., 2017), with Inception replaced by a network
that fits 8x8 digits: a two-hidden-layer perceptron (128 and 64 ReLU units, scikit-learn, seed
0) trained once to classify the training digits; a sample's features are its 64 activations of
the last hidden layer, and the distance is that between Gaussians fitted to the features of the
test digits and of the generated ones. The same distance for the training digits against the
test digits is the floor a perfect generator would reach at this sample size. C2ST asks whether
any difference can be detected; the distance says how far apart, in what a digit classifier
sees, so a generator that is easy to detect but draws recognisable digits still scores well.
Writes `benchmarks/results/image_generation.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
from _common import ROOT, bench_dir, import_scorer

RESULTS = ROOT / "benchmarks" / "results"
CASE = "gen_digits"
N_SAMPLES = 1000


class FixedFeatures:
    """The small fixed network: trained once on the labelled training digits, then only read."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        from sklearn.neural_network import MLPClassifier

        self.net = MLPClassifier(hidden_layer_sizes=(128, 64), max_iter=500, random_state=0).fit(images, labels)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        h = np.asarray(images, dtype=float)
        for w, b in zip(self.net.coefs_[:-1], self.net.intercepts_[:-1]):
            h = np.maximum(h @ w + b, 0.0)
        return h


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between Gaussians fitted to `a` and `b`.

    Tr((S_a S_b)^1/2) is the sum of the square roots of the eigenvalues of S_a^1/2 S_b S_a^1/2,
    which is symmetric and positive semi-definite: stable where dead units make S singular.
    """
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    half = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    root_trace = np.sqrt(np.clip(np.linalg.eigvalsh(half @ s_b @ half), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * root_trace)


def as_pixels(rows, columns) -> np.ndarray:
    """Generated rows (a frame with the pixel columns, or an image array) as (n, 64) floats."""
    if hasattr(rows, "columns"):
        return rows[list(columns)].to_numpy(dtype=float)
    return np.asarray(rows, dtype=float).reshape(len(rows), -1)


def run_family(family: str, budget: float, train, score) -> dict:
    import advisor

    start = time.monotonic()
    rec = advisor.recommend(train, "generate", families=family, budget=budget, seed=0, image_shape=(8, 8))
    wall = time.monotonic() - start
    result = score.evaluate(CASE, rec.best_estimator_)
    samples = rec.best_estimator_.sample(N_SAMPLES, random_state=0)
    entry = next((e for e in rec.ranking_entries if e["family"] == family), {})
    return {"family": family, "wall_s": round(wall, 1), "c2st_score": result["value"], "samples": samples,
            "class_tvd": result["metrics"].get("class_tvd"), "params": (entry.get("params") or {}),
            "stopped_by": (entry.get("curve") or {}).get("stopped_by")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir")
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--families", nargs="+", default=["diffusion", "ebm", "gaussian_mixture"])
    args = parser.parse_args(argv)
    folder = bench_dir(args.bench_dir)
    os.environ["BENCH_DIR"] = str(folder / "public")
    score = import_scorer(folder)
    train, test, meta = score.load_case(CASE)
    features = FixedFeatures(train.to_numpy(dtype=float), meta["extra"]["train_labels"]["label"].to_numpy())
    test_features = features(test.to_numpy(dtype=float))
    floor = frechet_distance(features(train.to_numpy(dtype=float)[:N_SAMPLES]), test_features)
    rows = []
    for family in args.families:
        print(f"{family}: searching alone for {args.budget:g} s", file=sys.stderr, flush=True)
        out = run_family(family, args.budget, train, score)
        out["frechet"] = frechet_distance(features(as_pixels(out.pop("samples"), train.columns)), test_features)
        rows.append(out)
        print(f"  C2ST {out['c2st_score']:.3f}, Fréchet distance {out['frechet']:.2f}", file=sys.stderr, flush=True)
    doc = {"case": CASE, "budget_s": args.budget, "samples": N_SAMPLES, "frechet_floor": floor, "runs": rows,
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"}
    (RESULTS / "image_generation.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    (RESULTS / "image_generation.md").write_text(report(doc))
    print(f"wrote {RESULTS / 'image_generation.md'}", file=sys.stderr)


def report(doc: dict) -> str:
    lines = [
        "# Image generation: C2ST and a Fréchet distance side by side",
        "",
        f"`python benchmarks/bench_image_generation.py --budget {doc['budget_s']:g}` on {doc['case']} ({doc['machine']}).",
        f"Each family searched alone by the advisor with {doc['budget_s']:g} s; {doc['samples']} generated digits against the",
        "test digits. C2ST from the shared scorer (1 = indistinguishable, higher is better); the Fréchet distance",
        "in the 64 features of a fixed digit classifier (a 128-64 perceptron trained on the training digits; lower is",
        f"better); the training digits themselves lie {doc['frechet_floor']:.2f} from the test digits, the floor at this sample size.",
        "`class_tvd`: how far the classes the scorer's own digit classifier sees in the samples are from the test",
        "digits' (mode coverage; lower is better).",
        "",
        "| family | C2ST | Fréchet distance | class_tvd | wall s | training stopped by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in sorted(doc["runs"], key=lambda r: r["frechet"]):
        tvd = "-" if r.get("class_tvd") is None else f"{r['class_tvd']:.3f}"
        lines.append(f"| {r['family']} | {r['c2st_score']:.3f} | {r['frechet']:.2f} | {tvd} | {r['wall_s']:.0f} | {r.get('stopped_by') or '-'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
