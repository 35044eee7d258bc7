"""Every task end to end through the CLI, on tiny data with tiny budgets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.testing import toy_images

DESIGN_FIELDS = {"schema_version", "task", "target", "budget_s", "elapsed_s", "recommendation", "ranking", "pareto", "rationale", "profile", "warnings"}
ENTRY_FIELDS = {"family", "score", "criteria", "metrics", "params", "trials", "status", "reason"}


def _run(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result


def _images(n=160, side=8, seed=0):
    """Horizontal (label 1) or vertical (label 0) bars: advisor.testing's toy images, labelled."""
    frame = toy_images(n, side, seed)
    frame["label"] = np.arange(n) % 2
    return frame


@pytest.mark.parametrize(
    "task,target,extra",
    [
        ("classify", "label", []),
        ("regress", "a", []),
        ("generate", None, []),
        ("detect", None, []),
        ("embed", "label", []),
    ],
)
def test_tabular_tasks_write_a_complete_document(tmp_path, classic_only, csv_path, task, target, extra):
    out = tmp_path / "out.json"
    args = ["recommend", str(csv_path), "--task", task, "--budget", "8", "--max-trials", "2", "--json", str(out), "--quiet", *extra]
    if target:
        args += ["--target", target]
    if task == "regress":  # a numeric target without holes
        frame = pd.read_csv(csv_path).dropna(subset=["a"])
        frame.to_csv(csv_path, index=False)
    result = _run(args)
    doc = json.loads(out.read_text())
    assert DESIGN_FIELDS <= set(doc)
    assert doc["task"] == task
    assert doc["recommendation"] in result.output
    scored = [e for e in doc["ranking"] if e["criteria"]]
    assert scored, [(e["family"], e["status"], e["reason"]) for e in doc["ranking"]]
    assert doc["recommendation"] == scored[0]["family"]
    for entry in doc["ranking"]:
        assert ENTRY_FIELDS <= set(entry)
        if entry["criteria"]:
            assert all(0 <= v <= 1 for v in entry["criteria"].values())
    assert doc["elapsed_s"] <= 8 + 5
    assert set(doc["pareto"]) <= {e["family"] for e in scored}
    if task == "embed":  # judged by a probe on the given labels, so no label-free caveat
        assert not any("Without labels" in line for line in doc["rationale"])


def test_detect_without_labels_says_it_judged_on_synthetic_anomalies(tmp_path, classic_only, csv_path):
    """Injected anomalies can rank detectors unlike real ones (benchmarks/results/anomaly_proxy.md),
    so the advice says what it was judged on and how to judge on real anomalies."""
    out = tmp_path / "out.json"
    _run(["recommend", str(csv_path), "--task", "detect", "--budget", "8", "--max-trials", "2", "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text())
    assert doc["ranking"][0]["metrics"]["anomalies"] == "injected"
    assert any("synthetic anomalies" in line and "--target" in line for line in doc["rationale"])

    frame = pd.read_csv(csv_path)
    frame["is_anomaly"] = (frame["a"].abs() > frame["a"].abs().quantile(0.9)).astype(int)
    frame.to_csv(csv_path, index=False)
    _run(["recommend", str(csv_path), "--task", "detect", "--target", "is_anomaly", "--budget", "8", "--max-trials", "2",
          "--json", str(out), "--quiet", "--force"])
    doc = json.loads(out.read_text())
    assert doc["ranking"][0]["metrics"]["anomalies"] == "labels"
    assert not any("synthetic anomalies" in line for line in doc["rationale"])


def test_denoise_on_images_beats_the_noisy_input(tmp_path, classic_only):
    path = tmp_path / "img.csv"
    _images().drop(columns="label").to_csv(path, index=False)
    out = tmp_path / "out.json"
    _run(["recommend", str(path), "--task", "denoise", "--budget", "8", "--max-trials", "2", "--noise-std", "0.3", "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text())
    assert doc["profile"]["modality"] == "image"
    best = doc["ranking"][0]["metrics"]
    assert best["psnr"] > best["psnr_noisy"]


def test_npz_images_are_profiled_as_images(tmp_path):
    frame = _images()
    path = tmp_path / "img.npz"
    np.savez(path, X=frame.drop(columns="label").to_numpy().reshape(-1, 8, 8), y=frame["label"].to_numpy())
    result = _run(["profile", str(path), "--target", "y", "--json"])
    prof = json.loads(result.output)
    assert prof["modality"] == "image" and prof["image_shape"] == [8, 8]
    assert prof["target_kind"] == "binary"


def test_sequence_columns_are_not_read_as_images(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 64)), columns=[f"x{i}" for i in range(64)])
    path = tmp_path / "seq.csv"
    frame.to_csv(path, index=False)
    prof = json.loads(_run(["profile", str(path), "--json"]).output)
    assert prof["modality"] == "sequence" and prof["sequence_length"] == 64


def test_families_lists_the_classic_plugin(classic_only):
    doc = json.loads(_run(["families", "--json"]).output)
    names = {f["name"] for f in doc["families"]}
    assert {"hist_gradient_boosting", "linear", "gaussian_mixture", "smote", "isolation_forest", "pca"} <= names
    hgb = next(f for f in doc["families"] if f["name"] == "hist_gradient_boosting")
    assert hgb["plugin"] == "classic" and hgb["version"] and hgb["interpretability"]["reason"]
    only_detect = json.loads(_run(["families", "--task", "detect", "--json"]).output)
    assert {f["name"] for f in only_detect["families"]} >= {"isolation_forest"}
    assert all("detect" in f["tasks"] for f in only_detect["families"])


def test_saved_model_is_used_from_the_cli(tmp_path, classic_only, csv_path):
    model = tmp_path / "model.skops"
    _run(["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "6", "--max-trials", "2", "--save-model", str(model), "--quiet"])
    pred = tmp_path / "pred.csv"
    _run(["predict", str(model), str(csv_path), "-o", str(pred)])
    out = pd.read_csv(pred)
    assert len(out) == len(pd.read_csv(csv_path)) and set(out["prediction"]) <= {"yes", "no"}
    gen_model = tmp_path / "gen.skops"
    _run(["recommend", str(csv_path), "--task", "generate", "--budget", "8", "--max-trials", "2", "--save-model", str(gen_model), "--quiet"])
    samples = tmp_path / "samples.csv"
    _run(["sample", str(gen_model), "-n", "50", "-o", str(samples)])
    assert list(pd.read_csv(samples).columns) == list(pd.read_csv(csv_path).columns)
    wrong = CliRunner().invoke(main, ["sample", str(model), "-n", "5"])
    assert wrong.exit_code == 2 and "cannot sample" in wrong.output


def test_help_lists_the_commands():
    result = _run(["--help"])
    for command in ("recommend", "families", "profile", "sample", "predict", "transform"):
        assert command in result.output


@pytest.mark.parametrize(
    "task,target,command,column",
    [("regress", "b", "predict", "prediction"), ("detect", None, "predict", "score"), ("embed", None, "transform", "z0"), ("denoise", None, "transform", "a")],
)
def test_saved_models_of_every_task_work_from_the_cli(tmp_path, classic_only, csv_path, task, target, command, column):
    data = tmp_path / "numeric.csv"
    pd.read_csv(csv_path)[["a", "b", "count"]].dropna().to_csv(data, index=False)
    model = tmp_path / f"{task}.skops"
    args = ["recommend", str(data), "--task", task, "--budget", "6", "--max-trials", "1", "--save-model", str(model), "--quiet"]
    _run(args + (["--target", target] if target else []))
    rows = tmp_path / "rows.csv"
    frame = pd.read_csv(data)
    (frame.drop(columns=target) if target else frame).to_csv(rows, index=False)
    out = tmp_path / "out.csv"
    _run([command, str(model), str(rows), "-o", str(out)])
    result = pd.read_csv(out)
    assert len(result) == len(frame) and column in result.columns
    again = CliRunner().invoke(main, [command, str(model), str(rows), "-o", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
