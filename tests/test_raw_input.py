"""The returned model takes the user's raw rows, and arrays read as tables.

Every cleaning rule the run applies (dates, numbers stored as text, infinities, IDs, constant
columns, column order) is a fitted step of the returned model, so it predicts on rows shaped
exactly like the training input: from Python, after `advisor.load`, and from `advisor predict`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import advisor
from advisor.cli import main
from advisor.data.preparation import prepare
from advisor.data.tables import Table, read_table
from advisor.model.cleaning import AdvisorPipeline, InputCleaner


@pytest.fixture
def messy_frame():
    """A table with every kind of column the cleaning handles, and a label that depends on them."""
    rng = np.random.default_rng(1)
    n = 240
    when = pd.date_range("2020-01-01", periods=n, freq="D")
    level = rng.normal(size=n)
    noise = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(1000, 1000 + n),
            "when": when.strftime("%Y-%m-%d"),
            "level_text": [f"{v:.3f}" for v in level],
            "noise": noise,
            "site": rng.choice(["north", "south"], size=n),
            "constant": 7,
        }
    )
    frame.loc[[4, 50], "level_text"] = "n/a"
    frame.loc[[9, 77], "noise"] = np.inf
    late = np.asarray(when > pd.Timestamp("2020-05-01"))
    frame["label"] = np.where(level + 1.5 * late > 0.4, "high", "low")
    return frame


def _classic(monkeypatch):
    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic")


def test_every_cleaning_rule_is_a_step_of_the_returned_model(messy_frame, monkeypatch):
    _classic(monkeypatch)
    rec = advisor.recommend(messy_frame, task="classify", target="label", budget=6, storage=None, families="linear")
    model = rec.best_estimator_
    assert isinstance(model, AdvisorPipeline) and isinstance(model.steps[0][1], InputCleaner)
    kinds = dict(model.steps[0][1].columns)
    assert kinds == {"when": "datetime", "level_text": "numeric", "noise": "numeric", "site": "categorical"}
    raw = messy_frame.drop(columns="label")
    predicted = model.predict(raw)
    assert len(predicted) == len(raw) and set(predicted) <= {"high", "low"}
    assert np.mean(predicted == messy_frame["label"]) > 0.8  # the dates and text numbers carry the signal
    # Column order, an extra (target) column and a missing ID column do not matter.
    shuffled = messy_frame[["site", "label", "noise", "constant", "level_text", "when"]]
    assert (model.predict(shuffled) == predicted).all()
    assert model.predict_proba(raw).shape == (len(raw), 2)
    with pytest.raises(advisor.InputError, match="missing: when"):
        model.predict(raw.drop(columns="when"))


def test_generated_rows_come_back_in_the_users_form(messy_frame, monkeypatch):
    _classic(monkeypatch)
    rec = advisor.recommend(messy_frame.drop(columns="label"), task="generate", budget=6, storage=None, families="gaussian_mixture")
    rows = rec.best_estimator_.sample(20, random_state=0)
    assert list(rows.columns) == ["when", "level_text", "noise", "site", "constant"]
    assert pd.to_datetime(rows["when"], format="%Y-%m-%d").notna().all()  # dates written as the user wrote them
    assert (rows["constant"] == 7).all()
    assert set(rows["site"]) <= {"north", "south"}


def test_saved_model_predicts_raw_rows_after_load_and_from_the_cli(messy_frame, monkeypatch, tmp_path):
    _classic(monkeypatch)
    data = tmp_path / "messy.csv"
    messy_frame.to_csv(data, index=False)
    model_path = tmp_path / "model.skops"
    runner = CliRunner()
    made = runner.invoke(main, ["recommend", str(data), "--task", "classify", "--target", "label", "--budget", "6",
                                "--families", "linear", "--no-storage", "--quiet", "--save-model", str(model_path)])
    assert made.exit_code == 0, made.output
    loaded = advisor.load(model_path)
    raw = pd.read_csv(data)
    from_python = loaded.best_estimator_.predict(raw)
    out = tmp_path / "predictions.csv"
    predicted = runner.invoke(main, ["predict", str(model_path), str(data), "-o", str(out)])
    assert predicted.exit_code == 0, predicted.output
    from_cli = pd.read_csv(out)
    assert list(from_cli["prediction"]) == list(from_python)
    assert {"proba_high", "proba_low"} <= set(from_cli.columns)
    missing = raw.drop(columns=["when"])
    missing.to_csv(tmp_path / "short.csv", index=False)
    refused = runner.invoke(main, ["predict", str(model_path), str(tmp_path / "short.csv")])
    assert refused.exit_code == 2 and "missing: when" in refused.output


def test_numpy_arrays_are_tables_unless_the_user_says_otherwise():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    assert advisor.profile((X, y), task="classify").modality == "tabular"
    assert advisor.profile((X, y), task="classify", sequence=True).modality == "sequence"
    images = np.random.default_rng(0).random((40, 8, 8))
    assert advisor.profile(images).modality == "image"
    # Names a user wrote keep the indexed-name rules.
    named = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    assert advisor.profile(named).modality == "sequence"
    pixels = pd.DataFrame(np.random.default_rng(0).random((40, 64)), columns=[f"p{i}" for i in range(64)])
    assert advisor.profile(pixels).modality == "image"


def test_advisor_classifier_on_breast_cancer_arrays_ranks_only_tabular_families(monkeypatch):
    from sklearn.datasets import load_breast_cancer

    from advisor import AdvisorClassifier

    monkeypatch.setenv("ADVISOR_LOAD_PLUGINS", "classic,cnn")
    X, y = load_breast_cancer(return_X_y=True)
    clf = AdvisorClassifier(budget=6, families=["linear", "cnn"]).fit(X, y)
    rec = clf.recommendation_
    assert rec.profile.modality == "tabular"
    status = {e["family"]: e["status"] for e in rec.ranking_entries}
    assert status == {"linear": "ok", "cnn": "unsupported"}
    assert clf.score(X, y) > 0.9


def test_profile_and_cleaning_see_the_development_rows_only(messy_frame):
    frame = messy_frame.copy()
    data = prepare(Table(frame, "test"), "classify", "label", seed=0)
    test_rows = data.splits.test
    development = np.setdiff1d(np.arange(len(frame)), test_rows)
    assert len(test_rows) and len(development) == len(frame) - len(test_rows)
    noise = pd.to_numeric(frame["noise"]).replace([np.inf, -np.inf], np.nan)
    stats = data.profile.column("noise").stats
    assert stats["max"] == pytest.approx(noise.iloc[development].max())
    assert stats["max"] < noise.max() or noise.idxmax() in development
    assert data.profile.n_rows == len(frame)
    # A value only the test rows hold does not change how a column is read.
    frame.loc[frame.index[test_rows], "site"] = "east"
    again = prepare(Table(frame, "test"), "classify", "label", seed=0)
    assert again.profile.column("site").stats == data.profile.column("site").stats


def test_an_id_column_is_still_an_id_when_only_some_rows_are_profiled(messy_frame):
    data = prepare(read_table(messy_frame), "classify", "label", seed=0)
    assert data.profile.column("row_id").kind == "id"
    assert "row_id" not in data.X.columns


@pytest.mark.parametrize("task,family,method", [
    ("detect", "isolation_forest", "score_samples"),
    ("embed", "pca", "transform"),
    ("denoise", "pca", "transform"),
])
def test_every_task_method_takes_the_raw_rows(messy_frame, monkeypatch, task, family, method):
    _classic(monkeypatch)
    raw = messy_frame.drop(columns="label")
    rec = advisor.recommend(raw, task=task, budget=5, storage=None, families=family)
    out = getattr(rec.best_estimator_, method)(raw)
    assert len(out) == len(raw)
    assert np.isfinite(np.asarray(out, dtype=float)).all()
    if task == "denoise":  # denoised rows: the numeric columns in the user's order, constants kept
        assert list(out.columns) == ["level_text", "noise", "constant"]
        assert (out["constant"] == 7).all()


def test_generated_stamps_keep_the_inputs_zone_unit_and_times_near_midnight():
    """Stamps come back as they were written: in their time zone and to the second (not as
    naive UTC nanoseconds), and a time of 02:00 is a time, not a date."""
    frame = pd.DataFrame({
        "zoned": pd.date_range("2020-01-01", periods=48, freq="h", tz="Europe/Paris"),
        "early": [f"2020-01-{d:02d} 02:00:00" for d in range(1, 25)] * 2,
        "x": np.arange(48.0),
    })
    cleaner = InputCleaner(columns=[("zoned", "datetime"), ("early", "datetime"), ("x", "numeric")]).fit(frame)
    model_rows = cleaner.transform(frame)
    model_rows["zoned"] += 0.0123  # a generated value between the training stamps
    back = cleaner.inverse_transform(model_rows)
    assert str(back["zoned"].dt.tz) == "UTC+01:00" and back["zoned"].iloc[0].strftime("%H:%M:%S") == "00:17:43"
    assert back["early"].iloc[0] == "2020-01-01 02:00:00"
