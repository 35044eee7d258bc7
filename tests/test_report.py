"""The HTML report: self-contained, escaped, with the figures the task calls for."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from click.testing import CliRunner

import advisor
from advisor.cli import main
from advisor.output.report import render

EVIL = "<script>alert(1)</script>"


def test_report_escapes_user_strings_and_needs_no_network(classic_only, mixed_frame):
    frame = mixed_frame.rename(columns={"colour": EVIL})
    frame[EVIL] = frame[EVIL].fillna("x").replace("red", "<b>red</b>")
    rec = advisor.recommend(frame, "classify", target="label", budget=6, max_trials=2)
    page = render(rec.to_dict())
    assert EVIL not in page and "<b>red</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)  # nothing fetched at view time
    assert page.count("<svg") >= 3  # criteria, Pareto, history
    assert f"id='recommendation'>{rec.best_family}<" in page


def test_generate_report_shows_real_against_generated(tmp_path, classic_only, csv_path):
    out, html_path = tmp_path / "r.json", tmp_path / "r.html"
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "generate", "--budget", "8", "--max-trials", "1", "--json", str(out), "--report", str(html_path), "--quiet"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["previews"]["kind"] == "table" and set(doc["previews"]["columns"]) <= set(pd.read_csv(csv_path).columns)
    assert "Real against generated" in html_path.read_text()
    again = tmp_path / "again.html"
    result = CliRunner().invoke(main, ["report", str(out), "-o", str(again)])
    assert result.exit_code == 0 and "Real against generated" in again.read_text()


def test_denoise_report_shows_image_triplets(classic_only):
    rng = np.random.default_rng(0)
    imgs = np.clip(rng.uniform(0, 0.2, size=(120, 8, 8)) + (np.arange(8) % 2)[None, None, :], 0, 1)
    rec = advisor.recommend(imgs, "denoise", budget=6, max_trials=1, noise_std=0.3)
    previews = rec.to_dict()["previews"]
    assert set(previews) == {"kind", "shape", "noisy", "denoised", "clean"} and previews["shape"] == [8, 8]
    assert "Noisy, denoised and clean images" in render(rec.to_dict())


def test_report_command_rejects_other_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{}")
    result = CliRunner().invoke(main, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "not an advisor result" in result.output


def test_the_curves_chart_puts_a_forecast_at_the_training_it_is_for(monkeypatch):
    """The chart's axis is training seconds: a forecast for 100 s of training alone sits at 100 s,
    not at five times the last checkpoint; a curve still speeding up is labelled as having none."""
    from advisor.output import report

    monkeypatch.setattr(report, "_svg", lambda fig: fig)
    forecast = {"budget_s": 150.0, "training_s": 100.0, "fidelity": 0.8, "interval": [0.7, 0.9]}
    doc = {"budget_s": 30.0, "ranking": [
        {"family": "diffusion", "criteria": {"fidelity": 0.6}, "forecast": forecast,
         "curve": {"checkpoints": [[1.0, 0.5], [2.0, 0.55], [4.0, 0.6]]}},
        {"family": "ebm", "criteria": {"fidelity": 0.1}, "forecast": {"budget_s": 150.0, "reason": "...", "speeding_up": True},
         "curve": {"checkpoints": [[1.0, 0.0], [2.0, 0.01], [4.0, 0.1]]}},
    ]}
    left = report.curves_chart(doc).axes[0]
    dotted = [line for line in left.lines if line.get_linestyle() == ":"]
    assert [list(line.get_xdata()) for line in dotted] == [[4.0, 100.0]]
    assert "ebm (still speeding up: no forecast)" in [t.get_text() for t in left.get_legend().get_texts()]
