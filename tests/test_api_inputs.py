"""Inputs from Python that a user meets: target shapes and dtypes, column names, files that are
not saved models, and the returned model's methods on edge cases. Each case gets the result a
scikit-learn user expects, or one clear `InputError` (a `ValueError`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

import advisor
from advisor.errors import InputError
from advisor.model.conditional import ConditioningError

QUICK = {"budget": 5, "max_trials": 1}


@pytest.fixture
def blobs():
    """150 rows of three well-separated classes in four columns."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 50)
    X = rng.normal(size=(150, 4)) + y[:, None] * 3.0
    return X, y


@pytest.mark.parametrize("labels", [lambda y: y.reshape(-1, 1), lambda y: pd.DataFrame({"label": y}),
                                    lambda y: np.array(["a", "b", "c"])[y].reshape(-1, 1)], ids=["ints", "frame", "text"])
def test_a_target_given_as_one_column_is_flattened(classic_only, blobs, labels):
    X, y = blobs
    rec = advisor.recommend((X, labels(y)), task="classify", families=["linear"], **QUICK)
    assert rec.best_estimator_.predict(X[:3]).shape == (3,)


def test_a_target_with_two_columns_is_refused_in_one_line(classic_only, blobs):
    X, y = blobs
    with pytest.raises(InputError, match="one label per row"):
        advisor.recommend((X, np.c_[y, y]), task="classify", families=["linear"], **QUICK)


@pytest.mark.parametrize("dtype, expected", [("Int64", np.int64), ("boolean", np.bool_)])
def test_nullable_labels_come_back_as_plain_ones(classic_only, blobs, dtype, expected):
    X, y = blobs
    labels = pd.array(y if dtype == "Int64" else y == 0, dtype=dtype)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(t=labels)
    predicted = advisor.recommend(frame, task="classify", target="t", families=["linear"], **QUICK).best_estimator_.predict(frame.head(3))
    assert predicted.dtype == expected


@pytest.mark.parametrize("name", [4, np.int64(4)])
def test_a_column_named_by_a_number_can_be_the_target(classic_only, blobs, name):
    X, y = blobs
    frame = pd.DataFrame(np.c_[X, y])  # columns 0..4, as a frame built from an array has
    rec = advisor.recommend(frame, task="classify", target=name, families=["linear"], **QUICK)
    assert rec.target == "4" and rec.best_estimator_.predict(frame.head(2)).shape == (2,)


def test_multiindex_columns_predict_on_the_frame_they_trained_on(classic_only, blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=pd.MultiIndex.from_tuples([("sepal", "l"), ("sepal", "w"), ("petal", "l"), ("petal", "w")]))
    rec = advisor.recommend((frame, y), task="classify", families=["linear"], **QUICK)
    assert (rec.best_estimator_.predict(frame) == y).mean() > 0.9


def test_complex_numbers_are_refused(classic_only, blobs):
    X, y = blobs
    with pytest.raises(InputError, match="complex"):
        advisor.recommend((X.astype(complex), y), task="classify", families=["linear"], **QUICK)


@pytest.mark.parametrize("max_trials", [0, -1, 1.5])
def test_max_trials_must_be_a_positive_whole_number(classic_only, blobs, max_trials):
    with pytest.raises(InputError, match="max-trials"):
        advisor.recommend(blobs, task="classify", families=["linear"], budget=5, max_trials=max_trials)


def test_no_rows_to_predict_on_gets_one_message(classic_only, blobs):
    X, y = blobs
    model = advisor.recommend((pd.DataFrame(X, columns=list("abcd")), y), task="classify", families=["linear"], **QUICK).best_estimator_
    with pytest.raises(InputError, match="no rows"):
        model.predict(pd.DataFrame(columns=list("abcd")))


@pytest.mark.parametrize("content", [lambda: LogisticRegression().fit([[0.0], [1.0]], [0, 1]), lambda: {"a": 1}], ids=["model", "dict"])
def test_loading_a_skops_file_that_advisor_did_not_save_is_refused(tmp_path, content):
    path = tmp_path / "other.skops"
    sio.dump(content(), path)
    with pytest.raises(InputError, match="not a model saved by advisor"):
        advisor.load(path)


@pytest.fixture
def conditional_generator(classic_only):
    """A generator fitted with a numeric target column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    frame["size"] = frame["x"] * 2 + rng.normal(scale=0.1, size=200)
    return advisor.recommend(frame, task="generate", target="size", families=["smote"], **QUICK).best_estimator_, frame


def test_zero_rows_sampled_keep_every_column(conditional_generator):
    model, frame = conditional_generator
    empty = model.sample(0)
    assert len(empty) == 0 and set(empty.columns) == set(frame.columns)
    assert len(model.sample(0, y=1.0)) == 0


@pytest.mark.parametrize("n", [-1, 2.5])
def test_a_bad_number_of_rows_to_sample_is_refused(conditional_generator, n):
    with pytest.raises(InputError, match="number of rows"):
        conditional_generator[0].sample(n)


def test_a_missing_target_value_to_sample_for_is_refused(conditional_generator):
    with pytest.raises(ConditioningError, match="finite"):
        conditional_generator[0].sample(3, y=float("nan"))


def test_the_mixture_detector_has_a_decision_function_like_the_others(classic_only):
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(300, 3)), [[8.0, 8.0, 8.0]]]
    model = advisor.recommend(X, task="detect", families=["gaussian_mixture"], **QUICK).best_estimator_
    decision = model.decision_function(X)
    assert decision[-1] < 0 < np.median(decision)
    assert (np.where(decision >= 0, 1, -1) == model.predict(X)).all()


def test_labels_that_are_numbers_with_fractions_are_classes(classic_only, blobs):
    X, y = blobs
    labels = np.array([0.5, 1.5, 2.25])[y]
    rec = advisor.recommend((X, labels), task="classify", families=["linear"], **QUICK)
    assert set(rec.best_estimator_.predict(X)) <= {"0.5", "1.5", "2.25"}
    assert any("fractions" in w for w in rec.warnings)


def test_an_id_for_a_class_label_is_refused_with_the_likely_task(classic_only, blobs):
    X, _ = blobs
    with pytest.raises(InputError, match="did you mean --task regress"):
        advisor.recommend((X, np.arange(len(X)) + 1000), task="classify", families=["linear"], **QUICK)


def test_true_false_is_not_a_regression_target(classic_only, blobs):
    X, y = blobs
    with pytest.raises(InputError, match="True/False"):
        advisor.recommend((X, y == 0), task="regress", families=["linear"], **QUICK)


def test_boosting_trains_when_a_class_has_a_single_row(classic_only, blobs):
    X, y = blobs
    X, y = np.r_[X, [[9.0, 9.0, 9.0, 9.0]]], np.r_[y, 3]
    rec = advisor.recommend((X, y), task="classify", families=["hist_gradient_boosting"], **QUICK)
    entry = next(e for e in rec.ranking_entries if e["family"] == "hist_gradient_boosting")
    assert entry["status"] == "ok", entry.get("reason")


def test_a_feature_that_copies_the_target_is_warned_of(classic_only, blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=np.array(["p", "q", "r"])[y])
    frame["code"] = frame["label"].str.upper()
    rec = advisor.recommend(frame, task="classify", target="label", families=["linear"], **QUICK)
    assert any("'code' gives the target away" in w for w in rec.warnings)
    plain = advisor.recommend(frame.drop(columns="code"), task="classify", target="label", families=["linear"], **QUICK)
    assert not any("gives the target away" in w for w in plain.warnings)


def test_a_target_no_family_can_predict_is_said_so(classic_only):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "y": rng.standard_cauchy(size=200)})
    rec = advisor.recommend(frame, task="regress", target="y", families=["linear"], **QUICK)
    assert any("better than the target's mean" in line for line in rec.rationale)


def test_a_single_row_class_does_not_pull_down_the_cross_validated_score(classic_only, blobs):
    X, y = blobs
    X, y = np.r_[X, [[9.0, 9.0, 9.0, 9.0]]], np.r_[y, 3]
    rec = advisor.recommend((X, y), task="classify", families=["linear"], budget=10, max_trials=2)
    entry = next(e for e in rec.ranking_entries if e["family"] == "linear")
    assert "cross-validation" in entry["selection"]
    assert entry["criteria"]["fidelity"] > 0.9  # three separable classes; the lone fourth row counted 0.75 at best


def test_a_target_value_beyond_the_training_range_is_warned_of(conditional_generator):
    model, frame = conditional_generator
    with pytest.warns(UserWarning, match="outside its training values"):
        rows = model.sample(3, y=1e9)
    assert len(rows) == 3
