"""Rows drawn for given target values (advisor.model.conditional): exact for the model's joint
distribution, the target's own distribution kept by default, and one-line errors for values the
model cannot give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.criteria.unsupervised import ml_efficiency
from advisor.model.conditional import ConditioningError, sample_given, wanted_values


class TwoClasses:
    """A generator whose rows are class "a" with x near 0 (90 %) or class "b" with x near 10."""

    def sample(self, n, random_state=None):
        rng = np.random.default_rng(random_state)
        label = np.where(rng.random(n) < 0.1, "b", "a")
        return pd.DataFrame({"x": np.where(label == "b", 10.0, 0.0) + rng.normal(0, 0.1, n), "label": label})


class NumericTarget:
    """A generator whose target y is uniform on [0, 100] and whose x is y plus a little noise."""

    def sample(self, n, random_state=None):
        rng = np.random.default_rng(random_state)
        y = rng.uniform(0, 100, n)
        return pd.DataFrame({"x": y + rng.normal(0, 0.5, n), "y": y})


def test_rejection_gives_the_models_rows_for_each_wanted_class_in_order():
    rows = sample_given(TwoClasses(), "label", ["b", "a", "b", "b"], numeric=False, random_state=0)
    assert rows["label"].tolist() == ["b", "a", "b", "b"]
    assert np.allclose(rows["x"], [10, 0, 10, 10], atol=1)


def test_a_class_the_model_never_makes_is_an_error_when_asked_and_filled_when_drawn():
    with pytest.raises(ConditioningError, match="too rare"):
        sample_given(TwoClasses(), "label", ["c"] * 5, numeric=False, random_state=0)
    rows = sample_given(TwoClasses(), "label", ["a", "c", "c"], numeric=False, random_state=0, fill=True)
    assert len(rows) == 3 and rows["label"].iloc[0] == "a"


def test_a_numeric_target_takes_the_rows_drawn_nearest_to_each_value():
    rows = sample_given(NumericTarget(), "y", [10.0, 90.0, 50.0], numeric=True, random_state=0)
    assert rows["y"].tolist() == [10.0, 90.0, 50.0]
    assert np.allclose(rows["x"], [10, 90, 50], atol=2)


@pytest.mark.parametrize(("y", "levels", "message"), [
    ("c", ["a", "b"], "c is not a value of label seen in training"),
    (["a", "b"], ["a", "b"], "y has 2 values for 3 rows"),
    ("ten", None, "label is numeric"),
])
def test_wanted_values_say_what_is_wrong(y, levels, message):
    with pytest.raises(ConditioningError, match=message):
        wanted_values(y, 3, "label", levels)


def test_ml_efficiency_gap_is_small_for_faithful_rows_and_large_for_shuffled_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    real = pd.DataFrame({"x": x, "label": np.where(x > 0, "pos", "neg")})
    train, held_out = real.iloc[:400], real.iloc[400:]
    faithful = ml_efficiency(train.sample(frac=1, random_state=1), train, held_out, "label")
    shuffled = train.assign(label=rng.permutation(train["label"].to_numpy()))
    broken = ml_efficiency(shuffled, train, held_out, "label")
    assert abs(faithful["mle_gap"]) < 0.02
    assert broken["mle_gap"] > 0.3


@pytest.fixture(scope="module")
def penguin_generator(tmp_path_factory):
    """A generator fitted on penguins with species as the target, saved as the CLI saves it."""
    import advisor
    from advisor import datasets

    frame = datasets.load("penguins")
    rec = advisor.recommend(frame, "generate", target="species", budget=8, families="smote", seed=0, max_trials=2)
    path = tmp_path_factory.mktemp("model") / "penguins.skops"
    rec.save(path)
    return frame, rec, path


def test_a_generator_fitted_with_a_target_samples_for_given_values(penguin_generator):
    frame, rec, _ = penguin_generator
    rows = rec.best_estimator_.sample(200, random_state=0, y="Gentoo")
    assert set(rows["species"]) == {"Gentoo"}
    gentoo, others = frame[frame.species == "Gentoo"], frame[frame.species != "Gentoo"]
    assert abs(rows["flipper_length_mm"].mean() - gentoo["flipper_length_mm"].mean()) < 4
    assert rows["flipper_length_mm"].mean() > others["flipper_length_mm"].mean() + 10
    assert rec.ranking_entries[0]["metrics"]["mle_gap"] < 0.1  # the ML-efficiency gap is reported


def test_by_default_the_target_keeps_its_real_distribution(penguin_generator):
    frame, rec, _ = penguin_generator
    drawn = rec.best_estimator_.sample(2000, random_state=0)["species"].value_counts(normalize=True)
    real = frame["species"].value_counts(normalize=True)
    assert np.allclose(drawn.reindex(real.index), real, atol=0.04)


def test_the_command_line_samples_for_a_given_value_and_refuses_an_unknown_one(penguin_generator, tmp_path):
    _, _, path = penguin_generator
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(main, ["sample", str(path), "-n", "20", "--given", "Adelie", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out)["species"]) == {"Adelie"}
    result = CliRunner().invoke(main, ["sample", str(path), "-n", "20", "--given", "Emperor"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --given: Emperor is not a value of species seen in training (seen: Adelie, Chinstrap, Gentoo)"]


def three_classes(n=600, seed=0) -> pd.DataFrame:
    """x sits at 0, 5 or 10 by class ("c" is rare); z is noise."""
    rng = np.random.default_rng(seed)
    label = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    x = np.select([label == "a", label == "b"], [0.0, 5.0], 10.0) + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "label": pd.Series(label, dtype="category")})


def test_a_mixture_told_the_target_learns_one_mixture_per_class():
    from advisor_plugins.classic.estimators import GaussianMixtureGenerator

    real = three_classes()
    model = GaussianMixtureGenerator(n_components=3, condition_on="label", random_state=0).fit(real)
    rows = model.sample(3000, random_state=1)
    assert list(rows.columns) == list(real.columns) and rows.dtypes.equals(real.dtypes)
    shares = rows["label"].value_counts(normalize=True)
    assert abs(shares["c"] - (real["label"] == "c").mean()) < 0.03  # the target keeps its distribution
    for value in "abc":  # and each class its own rows, the rare one included
        assert abs(rows.loc[rows.label == value, "x"].mean() - real.loc[real.label == value, "x"].mean()) < 0.3
    assert (model.score_samples(real.assign(x=real.x + 20.0)) < model.score_samples(real)).all()


def test_the_mixture_family_conditions_on_a_categorical_target_only():
    from advisor.advise import profile as profile_data
    from advisor.families.discovery import discover

    family = discover().families["gaussian_mixture"]
    real = three_classes()
    told = family.make_estimator("generate", profile_data(real, target="label", task="generate"), **family.default_params("generate", None))
    untold = family.make_estimator("generate", profile_data(real, task="generate"), **family.default_params("generate", None))
    numeric = family.make_estimator("generate", profile_data(real, target="x", task="generate"), **family.default_params("generate", None))
    assert told.condition_on == "label" and untold.condition_on is None and numeric.condition_on is None


def test_a_saved_class_conditioned_mixture_loads_and_samples_the_same(tmp_path):
    import advisor

    rec = advisor.recommend(three_classes(), "generate", target="label", budget=6, families="gaussian_mixture", seed=0, max_trials=1)
    assert rec.best_estimator_.model.condition_on == "label"
    path = tmp_path / "mixture.skops"
    rec.save(path)
    loaded = advisor.load(path).best_estimator_  # without trust: only advisor's own types
    assert loaded.sample(50, random_state=3).equals(rec.best_estimator_.sample(50, random_state=3))
    assert set(loaded.sample(20, random_state=0, y="c")["label"]) == {"c"}


@pytest.fixture(scope="module")
def class_conditioned_diffusion():
    pytest.importorskip("torch")
    from advisor_plugins.diffusion.estimators import DiffusionGenerator

    real = three_classes()
    model = DiffusionGenerator(condition_on="label", width=64, depth=2, diffusion_steps=100, epochs=60, batch_size=128,
                               sample_steps=20, random_state=0, device="cpu").fit(real)
    return real, model


def test_a_diffusion_model_told_the_target_conditions_its_denoiser_on_the_class(class_conditioned_diffusion):
    real, model = class_conditioned_diffusion
    rows = model.sample(2000, random_state=1)
    assert list(rows.columns) == list(real.columns) and rows.dtypes.equals(real.dtypes)
    shares = rows["label"].value_counts(normalize=True)
    assert abs(shares["c"] - (real["label"] == "c").mean()) < 0.03  # drawn in the training rows' shares
    for value in "abc":  # each class its own rows: the label moves x by 5 per class
        assert abs(rows.loc[rows.label == value, "x"].mean() - real.loc[real.label == value, "x"].mean()) < 1.0


def test_a_class_conditioned_diffusion_model_draws_rows_for_given_classes_in_order(class_conditioned_diffusion):
    real, model = class_conditioned_diffusion
    wanted = ["c"] * 100 + ["a"] * 100
    rows = model.sample_for(wanted, random_state=2)
    assert rows["label"].tolist() == wanted and rows.dtypes.equals(real.dtypes)
    assert abs(rows["x"].iloc[:100].mean() - 10.0) < 1.0 and abs(rows["x"].iloc[100:].mean()) < 1.0
    with pytest.raises(ValueError, match="d: not a value of label"):
        model.sample_for(["a", "d"])


def test_a_mixture_per_class_draws_rows_for_given_classes_in_order():
    from advisor_plugins.classic.estimators import GaussianMixtureGenerator

    real = three_classes()
    model = GaussianMixtureGenerator(n_components=3, condition_on="label", random_state=0).fit(real)
    rows = model.sample_for(["b", "c", "b", "a"] * 50, random_state=0)
    assert rows["label"].tolist() == ["b", "c", "b", "a"] * 50 and rows.dtypes.equals(real.dtypes)
    assert abs(rows.loc[rows.label == "c", "x"].mean() - 10.0) < 0.5
    assert len(model.sample_for([])) == 0 and len(model.sample(0)) == 0


class ConditionedOnLabel:
    """A generator fitted conditioned on "label": it draws given values itself and never jointly."""

    condition_on = "label"
    condition_values_ = ["a", "b"]

    def sample_for(self, values, random_state=None):
        return pd.DataFrame({"x": [10.0 if v == "b" else 0.0 for v in values], "label": list(values)})

    def sample(self, n, random_state=None):
        raise AssertionError("rejection sampling was used where the model conditions itself")


def test_a_model_conditioned_on_the_target_draws_given_values_without_rejection():
    rows = sample_given(ConditionedOnLabel(), "label", ["b", "a", "b"], numeric=False, random_state=0)
    assert rows["label"].tolist() == ["b", "a", "b"] and rows["x"].tolist() == [10.0, 0.0, 10.0]
    with pytest.raises(AssertionError, match="rejection"):  # a value it was not conditioned on: the joint route
        sample_given(ConditionedOnLabel(), "label", ["c"], numeric=False, random_state=0)


@pytest.mark.parametrize("name", ["diffusion", "ebm"])
def test_the_deep_generators_condition_on_a_categorical_target_of_a_table_only(name):
    pytest.importorskip("torch")
    from advisor.advise import profile as profile_data
    from advisor.families.discovery import discover

    family = discover().families[name]
    real = three_classes()

    def made(**told):
        profile = profile_data(real, task="generate", **told)
        return family.make_estimator("generate", profile, **family.default_params("generate", profile))

    assert made(target="label").condition_on == "label"
    assert made().condition_on is None and made(target="x").condition_on is None


@pytest.mark.parametrize("name", ["diffusion", "ebm"])
def test_a_saved_class_conditioned_deep_generator_loads_and_samples_the_same(tmp_path, name):
    pytest.importorskip("torch")
    import advisor

    rec = advisor.recommend(three_classes(200), "generate", target="label", budget=8, families=name, seed=0)
    assert rec.best_estimator_.model.condition_on == "label"
    path = tmp_path / f"{name}.skops"
    rec.save(path)
    loaded = advisor.load(path).best_estimator_  # without trust: only advisor's own types
    assert loaded.sample(30, random_state=3).equals(rec.best_estimator_.sample(30, random_state=3))
    assert set(loaded.sample(10, random_state=0, y="b")["label"]) == {"b"}


def test_an_energy_model_told_the_target_conditions_its_energy_on_the_class():
    pytest.importorskip("torch")
    from advisor_plugins.ebm.estimators import EnergyGenerator

    real = three_classes()
    model = EnergyGenerator(condition_on="label", width=64, depth=2, max_epochs=60, n_sigmas=6, sigma_min=0.05,
                            langevin_steps=100, random_state=0, device="cpu").fit(real)
    rows = model.sample(1000, random_state=1)
    assert list(rows.columns) == list(real.columns) and rows.dtypes.equals(real.dtypes)
    assert abs(rows["label"].value_counts(normalize=True)["c"] - 0.1) < 0.03
    wanted = ["c"] * 100 + ["a"] * 100
    given = model.sample_for(wanted, random_state=2)
    assert given["label"].tolist() == wanted
    assert abs(given["x"].iloc[:100].mean() - 10.0) < 1.0 and abs(given["x"].iloc[100:].mean()) < 1.0
