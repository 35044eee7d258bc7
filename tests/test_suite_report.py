"""The benchmark report on a small records file: only the current protocol's advisor, oracle and
prior records count, and the advice and verdict checks come out as the figures say."""

from __future__ import annotations

import importlib
import sys
import json
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def job_key(job: dict) -> str:
    return json.dumps({k: job[k] for k in sorted(job)}, sort_keys=True)


CURRENT = object()  # the kind's current protocol (suite.PROTOCOLS)


def record(kind: str, case: str, budget: float, job: dict, protocol=CURRENT, **fields) -> dict:
    job = {"kind": kind, "case": case, "budget": budget, **job}
    if protocol is CURRENT:
        sys.path.insert(0, str(BENCHMARKS))
        import suite
        from suite_report import task_of

        protocol = suite.protocol_of(kind, task_of(case), budget)
    if protocol is not None:
        job["protocol"] = protocol
    return {"key": job_key(job), "job": job, "wall_s": 1.0, **fields}


def entry(family: str, fidelity: float, ci, tied_with, selection: str, source: str = "measured") -> dict:
    return {"family": family, "status": "ok", "score": fidelity, "criteria": {"fidelity": fidelity},
            "metrics": {"uncertainty_source": source}, "fidelity_ci": ci, "tied_with": tied_with, "selection": selection}


def advisor(case: str, budget: float, family: str, value: float, ranking: list[dict], prefer: str | None = None, **metrics) -> dict:
    job = {"guidance": "none", **({"prefer": prefer} if prefer else {})}
    return record("advisor", case, budget, job, family=family, value=value, metrics={"accuracy": value, **metrics}, ranking=ranking)


def oracle(case: str, family: str, value: float, budget: float = 60.0, protocol=CURRENT) -> dict:
    return record("oracle", case, budget, {"family": family}, protocol=protocol, family=family, value=value)


def records() -> list[dict]:
    imbalanced = [entry("linear", 0.80, [0.76, 0.84], ["hist_gradient_boosting"], "5-fold cross-validation"),
                  entry("hist_gradient_boosting", 0.78, None, ["linear"], "validation rows")]
    embed = [entry("pca", 0.9, [0.88, 0.92], [], "validation rows")]
    return [
        # The current protocol: the oracle (a 150 s rerun counts over the 60 s run) and the advisor.
        oracle("emb_digits", "cnn", 0.950), oracle("emb_digits", "cnn", 0.965, budget=150.0), oracle("emb_digits", "pca", 0.940),
        oracle("emb_waveforms", "pca", 0.800), oracle("emb_waveforms", "kernel_features", 0.850),
        oracle("clf_imbalanced", "linear", 0.950), oracle("clf_imbalanced", "hist_gradient_boosting", 0.949),
        advisor("emb_digits", 60.0, "pca", 0.94, embed),
        advisor("emb_waveforms", 60.0, "kernel_features", 0.85, [entry("kernel_features", 0.9, [0.85, 0.95], [], "validation rows")]),
        advisor("clf_imbalanced", 60.0, "linear", 0.95, imbalanced, balanced_accuracy=0.80, log_loss=0.2, ece=0.01),
        advisor("clf_imbalanced", 30.0, "hist_gradient_boosting", 0.949,
                [entry("hist_gradient_boosting", 0.7, [0.6, 0.8], [], "validation rows", source="declared")]),
        advisor("emb_digits", 60.0, "cnn", 0.965, embed, prefer="quality"),
        # An earlier protocol: would change the oracle's best, the picks and every check if it counted.
        oracle("emb_digits", "resnet", 0.990, protocol=None),
        oracle("emb_waveforms", "dbn", 0.990, protocol=1),
        record("advisor", "clf_imbalanced", 60.0, {"guidance": "none"}, protocol=None, family="dbn", value=0.5,
               metrics={"balanced_accuracy": 0.5}, ranking=[{"family": "dbn", "status": "ok", "criteria": {"fidelity": 0.5}, "metrics": {}}]),
        record("prior", "emb_digits", 0, {}, protocol=None, family="pca", wall_s=0.5, source="prior", ranking=[]),
        # Peers do not depend on the protocol.
        record("peer", "clf_imbalanced", 30.0, {"tool": "flaml"}, protocol=None, value=0.948, metrics={"accuracy": 0.948}),
    ]


@pytest.fixture
def report(tmp_path, monkeypatch):
    """The report module reading `records` from a folder of its own, writing nowhere else."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("suite_report")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "machine.json").write_text(json.dumps({"cores": 2, "memory_gb": 8, "python": "3", "torch": "x",
                                                    "scikit-learn": "x", "optuna": "x"}))
    bench = tmp_path / "bench" / "public"
    bench.mkdir(parents=True)
    (bench / "baselines.json").write_text(json.dumps([{"case": "clf_imbalanced", "model": "hgb", "metrics": {"balanced_accuracy": 0.608}}]))
    monkeypatch.setenv("ADVISOR_BENCH_DIR", str(bench.parent))
    monkeypatch.setattr(module, "SUITE", suite)
    monkeypatch.setattr(module, "RESULTS_MD", tmp_path / "RESULTS.md")
    monkeypatch.setattr(module, "RESULTS_JSON", tmp_path / "results.json")

    def with_records(rows: list[dict]):
        (suite / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return module

    return with_records


def test_only_the_current_protocol_counts(report):
    module = report(records())
    kept = module.load()
    assert all(module.current(r) and r["job"].get("protocol") is not None for r in kept if r["job"]["kind"] != "peer")
    assert len(kept) == 13  # 7 oracle runs, 5 advisor runs, 1 peer
    assert module.oracle_table(kept)["emb_digits"] == {"cnn": 0.965, "pca": 0.940}
    idx = module.index(kept)
    assert module.advisor_run(idx, "clf_imbalanced", 60.0)["family"] == "linear"
    assert module.advisor_run(idx, "emb_digits", 60.0, "quality")["family"] == "cnn"


def test_regret_ties_and_checks(report):
    module = report(records())
    module.write()
    text = (module.RESULTS_MD).read_text()
    summary = json.loads(module.RESULTS_JSON.read_text())["summary"]

    target = summary["advice_regret"]["60s_default"]
    assert target == {"median_regret": 0.0, "mean_regret": 0.83, "hit_rate": 0.667, "exact_hit_rate": 0.667, "cases": 3}
    assert summary["advice_targets_at_default_budget"] == {"median_regret_at_most_1_point": True, "hit_rate_at_least_70_percent": False}
    assert summary["advice_regret"]["60s_quality"]["cases"] == 1
    assert "median regret ≤ 1 point — **met**; the oracle's best in at least 70% of cases, ties counted as hits — **MISSED**" in text
    assert "30 s, `--prefer quality`: no runs recorded yet under the current protocol." in text
    assert "resnet" not in text and "dbn" not in text  # the earlier protocol's oracle and advisor runs

    assert ("| clf_imbalanced | linear | linear | hist_gradient_boosting | linear 0.800 [0.760, 0.840] (5-fold cross-validation); "
            "hist_gradient_boosting 0.780 no interval (validation rows) | 0.950 | "
            "accuracy 0.950, balanced_accuracy 0.800, log_loss 0.200, ece 0.010 |") in text

    assert summary["embed_check"] == {"points_behind_best": {"emb_digits": 2.5, "emb_waveforms": 0.0}, "within_points": 3.0, "met": True}
    assert summary["imbalanced_check"]["met"] is True
    assert "0.608 in the scorer's baselines" in text and "class-weighted logistic regression 0.811" in text
    assert summary["uncertainty_measured_check"] == {"entries": 3, "declared": ["clf_imbalanced 30 s: hist_gradient_boosting"], "met": False}
    assert summary["interval_and_ties_check"] == {"entries": 6, "lacking": [], "no_interval": 1, "met": True}
    assert "No prior runs recorded yet under the current protocol." in text


def with_probe_rows(rows: list[dict], pca_correct: list[int]) -> list[dict]:
    """emb_digits' oracle runs with their test rows: cnn (the best, 0.965) right on the first 193 of 200."""
    for r in rows:
        job = r["job"]
        if job["kind"] == "oracle" and job["case"] == "emb_digits" and job["family"] == "cnn" and job["budget"] == 150.0:
            r["rows"] = {"metric": "probe_accuracy", "correct": [1] * 193 + [0] * 7}
        if job["kind"] == "oracle" and job["case"] == "emb_digits" and job["family"] == "pca":
            r["rows"] = {"metric": "probe_accuracy", "correct": pca_correct}
    return rows


@pytest.mark.parametrize(("pca_correct", "hit_rate"), [
    # pca (0.940) wrong on 12 rows cnn gets right, right on the 7 cnn gets wrong: the test rows cannot tell them apart
    ([1] * 181 + [0] * 12 + [1] * 7, 1.0),
    # pca wrong on 5 rows cnn gets right and nowhere better: a real lead of 2.5 points
    ([1] * 188 + [0] * 12, 0.667),
])
def test_a_pick_the_oracle_cannot_tell_from_its_best_counts_as_a_hit(report, pca_correct, hit_rate):
    module = report(with_probe_rows(records(), pca_correct))
    module.write()
    target = json.loads(module.RESULTS_JSON.read_text())["summary"]["advice_regret"]["60s_default"]
    assert target["exact_hit_rate"] == 0.667  # the emb_digits pick, pca, is not the exact best
    assert target["hit_rate"] == hit_rate
    tied_cell = "| emb_digits | 0.965 (cnn; pca) |"
    assert (tied_cell in module.RESULTS_MD.read_text()) is (hit_rate == 1.0)


def test_earlier_protocol_alone_reports_nothing_measured(report):
    sys.path.insert(0, str(BENCHMARKS))
    import suite

    from suite_report import task_of

    current = lambda r: r["job"].get("protocol") == suite.protocol_of(r["job"]["kind"], task_of(r["job"]["case"]), r["job"]["budget"])  # noqa: E731
    module = report([r for r in records() if r["job"]["kind"] == "peer" or not current(r)])
    text, doc = module.render()
    for section in ("No oracle runs recorded yet under the current protocol.",
                    "No advisor runs at 60 s recorded yet under the current protocol.",
                    "No advisor runs recorded yet under the current protocol.",
                    "No advisor prediction runs recorded yet under the current protocol."):
        assert section in text
    assert doc["earlier_protocol_records"] == 4
    assert "advice_regret" not in doc["summary"]


def test_generation_oracle_runs_count_only_with_their_rows(report):
    """A generation case's oracle run of the protocol before its C2ST was kept row by row is an
    earlier protocol's; another task's oracle run of that protocol still counts."""
    module = report(records())
    generation_then = oracle("gen_ring8", "arf", 0.99, protocol=module.PROTOCOLS["oracle"])
    generation_now = oracle("gen_ring8", "arf", 0.99, protocol=module.protocol_of("oracle", "generate"))
    classify = oracle("clf_wine", "linear", 0.99, protocol=module.PROTOCOLS["oracle"])
    assert [module.current(r) for r in (generation_then, generation_now, classify)] == [False, True, True]


def test_the_c2st_rows_give_back_the_scorers_value_and_tell_a_tie_from_a_lead():
    """The C2ST recomputed from its rows (out-of-fold probabilities of real and generated rows,
    fold by fold) equals 1 - 2|mean AUC - 0.5|; two generators whose rows overlap are tied, and
    one the classifier tells from the real rows far better is not."""
    from sklearn.metrics import roc_auc_score

    sys.path.insert(0, str(BENCHMARKS))
    import oracle_rows

    rng = np.random.default_rng(0)
    n = 300
    fold = np.arange(n) % 5

    def rows(shift):  # generated rows' probabilities shifted up by `shift`: easier to tell from real ones
        return {"metric": "c2st_score", "fold_real": fold.tolist(), "fold_synthetic": rng.permutation(fold).tolist(),
                "p_real": [rng.uniform(0, 1, n).tolist()], "p_synthetic": [np.clip(rng.uniform(0, 1, n) + shift, 0, 1).tolist()]}

    close, also_close, far = rows(0.02), rows(0.03), rows(0.4)
    real, syn = np.asarray(close["p_real"][0]), np.asarray(close["p_synthetic"][0])
    folds_syn = np.asarray(close["fold_synthetic"])
    aucs = [roc_auc_score(np.r_[np.zeros((fold == f).sum()), np.ones((folds_syn == f).sum())], np.r_[real[fold == f], syn[folds_syn == f]])
            for f in range(5)]
    assert oracle_rows.value(close, np.arange(n)) == pytest.approx(1 - 2 * abs(np.mean(aucs) - 0.5))
    points = lambda best, other: 100 * (best - other)  # noqa: E731
    assert oracle_rows.tied_with_best(close, also_close, points)[0]
    assert not oracle_rows.tied_with_best(close, far, points)[0]


def test_a_gap_to_a_specialist_is_placed_against_the_seed_spread(report, tmp_path):
    module = report([])
    fits = [{"seed": i, "c2st_score": v, "memorization_share": 0.55, "memorization_share_test": 0.52} for i, v in enumerate((0.90, 0.92, 0.94))]
    spread = tmp_path / "arf_seeds.json"
    spread.write_text(json.dumps({"seeds": 3, "runs": [{"case": "gen_fair", "settings": "family defaults", "params": {}, "fits": fits}]}))
    runs = [record("advisor", "gen_fair", 60.0, {"guidance": "none"}, family="arf", value=0.91),
            record("peer", "gen_fair", 60.0, {"tool": "synthcity_arf"}, protocol=None, value=0.96),
            record("peer", "gen_fair", 60.0, {"tool": "sdv_tvae"}, protocol=None, value=0.10)]
    [line] = module.seed_spread_note({"gen_fair"}, runs, spread)
    assert "0.920 ± 0.020 (0.900-0.940" in line
    assert "the advisor's run (arf) 0.910 1.0 points below their mean, within their range" in line
    assert "synthcity_arf's 0.960 4.0 points above their mean, above their range" in line
    assert "sdv_tvae" not in line  # SDV has its own comparison
    assert module.seed_spread_note({"gen_ring8"}, runs, spread) == []
    assert module.seed_spread_note({"gen_fair"}, runs, tmp_path / "missing.json") == []
