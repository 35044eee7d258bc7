"""The JSON document, saving and safe loading."""

from __future__ import annotations

import json

import pytest
import skops.io as sio

import advisor
from advisor.errors import InputError
from advisor.judging.ranking import CRITERIA, parse_weights, pareto_front


@pytest.fixture
def rec(classic_only, mixed_frame):
    return advisor.recommend(mixed_frame, "classify", target="label", budget=6, max_trials=1)


def test_document_has_every_design_field(rec):
    doc = json.loads(rec.to_json())
    for field in ("schema_version", "task", "target", "budget_s", "elapsed_s", "recommendation", "ranking", "pareto", "rationale", "profile", "warnings"):
        assert field in doc
    assert doc["versions"]["scikit-learn"] and doc["versions"]["plugins"]["classic"]
    assert doc["seed"] == 0 and doc["source"] == "search"
    assert any(str(round(doc["ranking"][0]["criteria"]["fidelity"], 3))[:4] in line for line in doc["rationale"])


def test_ranking_frame(rec):
    frame = rec.ranking
    assert list(frame.columns[:6]) == ["family", "score", *CRITERIA]
    assert frame.iloc[0]["family"] == rec.best_family


def test_save_and_load_give_the_same_predictions(rec, tmp_path, mixed_frame):
    path = rec.save(tmp_path / "model.skops")
    loaded = advisor.load(path)
    X = mixed_frame.drop(columns="label")
    assert (loaded.best_estimator_.predict(X) == rec.best_estimator_.predict(X)).all()
    assert loaded.best_family == rec.best_family and loaded.to_dict()["ranking"] == rec.to_dict()["ranking"]


class Foreign:
    """A type no trusted package defines: loading must not rebuild it silently."""

    def __init__(self):
        self.payload = "anything"


def test_loading_refuses_foreign_types(tmp_path):
    path = tmp_path / "evil.skops"
    sio.dump({"document": "{}", "estimator": Foreign()}, path)
    with pytest.raises(InputError, match="refusing to load"):
        advisor.load(path)


def test_loading_a_non_model_is_an_input_error(tmp_path):
    path = tmp_path / "x.skops"
    path.write_text("not a zip")
    with pytest.raises(InputError, match="not a saved advisor model"):
        advisor.load(path)


def test_weights_presets_and_normalisation():
    assert parse_weights("fidelity=3,compute=1", "classify") == {"fidelity": 0.75, "uncertainty": 0.0, "compute": 0.25, "interpretability": 0.0}
    assert parse_weights(None, "classify", prefer="speed")["compute"] > 0.4
    with pytest.raises(InputError):
        parse_weights("fidelity=-1", "classify")


def test_pareto_front():
    def entry(name, *values):
        return {"family": name, "criteria": dict(zip(CRITERIA, values))}

    entries = [entry("a", 0.9, 0.5, 0.5, 0.5), entry("b", 0.8, 0.5, 0.9, 0.5), entry("c", 0.7, 0.4, 0.4, 0.4)]
    assert pareto_front(entries) == ["a", "b"]
