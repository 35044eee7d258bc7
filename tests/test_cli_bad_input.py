"""Bad input: exit code 2 and one line naming the problem, never a traceback.

Each case builds a file (or options) and states the exact outcome a user gets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from advisor.cli import main


def _write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def _table(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def _base(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.choice(["p", "q"], size=n)})


# (id, builder(tmp_path) -> argv after "recommend", expected fragment of the one-line message)
CASES = [
    ("missing file", lambda t: [str(t / "nope.csv"), "--task", "classify", "--target", "y"], "no such file"),
    ("directory", lambda t: [str(t), "--task", "classify", "--target", "y"], "is a directory"),
    ("empty file", lambda t: [_write(t, "e.csv", ""), "--task", "classify", "--target", "y"], "file is empty"),
    ("header only", lambda t: [_write(t, "h.csv", "a,b,y\n"), "--task", "classify", "--target", "y"], "no rows"),
    ("binary file", lambda t: [_write(t, "b.csv", bytes(range(256)) * 4, "wb"), "--task", "classify", "--target", "y"], "binary file"),
    ("duplicate columns", lambda t: [_write(t, "d.csv", "a,a,y\n1,2,p\n3,4,q\n" * 10), "--task", "classify", "--target", "y"], "duplicate column names: a"),
    ("missing target", lambda t: [_table(t, _base()), "--task", "classify", "--target", "nope"], "target column 'nope' not found"),
    ("no target for classify", lambda t: [_table(t, _base()), "--task", "classify"], "needs --target"),
    ("constant target", lambda t: [_table(t, _base().assign(y="p")), "--task", "classify", "--target", "y"], "single class"),
    ("constant regress target", lambda t: [_table(t, _base().assign(y=1.0)), "--task", "regress", "--target", "y"], "constant value"),
    ("all-NaN target", lambda t: [_table(t, _base().assign(y=np.nan)), "--task", "classify", "--target", "y"], "entirely missing"),
    ("text target for regress", lambda t: [_table(t, _base()), "--task", "regress", "--target", "y"], "needs a numeric target"),
    ("one row", lambda t: [_table(t, _base().head(1)), "--task", "classify", "--target", "y"], "at least 10 are needed"),
    ("unknown task", lambda t: [_table(t, _base()), "--task", "cluster", "--target", "y"], "Invalid value for '--task'"),
    ("unknown family", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--families", "nosuch"], "unknown family nosuch"),
    ("unknown excluded family", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--exclude", "nosuch"], "unknown family nosuch"),
    ("budget zero with a model to save", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--budget", "0", "--save-model", str(t / "m.skops")], "--budget 0 trains nothing"),
    ("budget zero without a target", lambda t: [_table(t, _base()), "--task", "classify", "--budget", "0"], "needs --target"),
    ("budget negative", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--budget", "-5"], "--budget must be a positive"),
    ("weights unparsable", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--weights", "fidelity=high"], "is not a number"),
    ("weights unknown criterion", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--weights", "beauty=1"], "unknown criterion 'beauty'"),
    ("weights all zero", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--weights", "fidelity=0"], "positive weight"),
    ("image shape does not divide", lambda t: [_table(t, _base()[["a", "b"]]), "--task", "generate", "--image-shape", "3x3"], "needs 9 pixel columns"),
    ("bad image shape text", lambda t: [_table(t, _base()[["a", "b"]]), "--task", "generate", "--image-shape", "big"], "--image-shape must look like"),
    ("only an ID column", lambda t: [_table(t, pd.DataFrame({"id": range(50)})), "--task", "generate"], "no usable feature columns"),
    ("task no family supports", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--families", "pca"], "no family can do classify"),
    ("output exists", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--json", _write(t, "keep.json", "{}")], "already exists; use --force"),
    ("output folder missing", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--json", str(t / "no" / "out.json")], "does not exist"),
    ("two outputs in one file", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--json", str(t / "o.x"), "--save-model", str(t / "o.x")], "name the same file"),
    ("negative seed", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--seed", "-1"], "-1 is not in the range"),
    ("storage and no storage", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--storage", str(t / "j.log"), "--no-storage"], "not both"),
    ("weights and prefer", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--weights", "fidelity=1", "--prefer", "speed"], "--weights or --prefer, not both"),
    ("a weight given twice", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--weights", "fidelity=1,fidelity=2"], "gives fidelity twice"),
    ("image shape and sequence", lambda t: [_table(t, _base()[["a", "b"]]), "--task", "generate", "--image-shape", "1x2", "--sequence"], "not both"),
    ("every family excluded", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--families", "linear", "--exclude", "linear"], "leave no family"),
    ("empty family list", lambda t: [_table(t, _base()), "--task", "classify", "--target", "y", "--families", ""], "--families is empty"),
    ("spreadsheet", lambda t: [_write(t, "s.xlsx", b"PK\x03\x04" + bytes(200), "wb"), "--task", "classify", "--target", "y"], "save the sheet as CSV"),
    ("json table", lambda t: [_write(t, "s.json", '[{"a": 1}]'), "--task", "classify", "--target", "y"], "JSON is not read"),
    ("utf-16 text", lambda t: [_write(t, "u.csv", "a,b,y\n1,2,p\n".encode("utf-16"), "wb"), "--task", "classify", "--target", "y"], "save it as UTF-8"),
    ("npz without labels", lambda t: [_npz(t, y=False), "--task", "classify"], "an array named y"),
    ("denoise without numbers", lambda t: [_table(t, pd.DataFrame({"c": list("abc") * 20, "d": list("xyzw") * 15})), "--task", "denoise"], "denoise needs numeric columns"),
    ("id for a class label", lambda t: [_table(t, _base().assign(y=range(60))), "--task", "classify", "--target", "y"], "did you mean --task regress"),
]


def _npz(tmp_path, y=True):
    rng = np.random.default_rng(0)
    arrays = {"X": rng.random((40, 4, 4))}
    if y:
        arrays["y"] = rng.integers(0, 2, 40)
    path = tmp_path / "images.npz"
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize("name,build,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(tmp_path, classic_only, name, build, fragment):
    argv = build(tmp_path)
    if "--budget" not in argv:
        argv += ["--budget", "5"]
    result = CliRunner().invoke(main, ["recommend", *argv, "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert fragment in result.output, result.output
    assert len(lines) == 1, result.output  # click's own usage errors too: no usage block


def test_mismatched_npz_exits_2(tmp_path, classic_only):
    path = tmp_path / "imgs.npz"
    np.savez(path, X=np.zeros((20, 8, 8)), y=np.zeros(5))
    result = CliRunner().invoke(main, ["recommend", str(path), "--task", "classify", "--budget", "5", "--quiet"])
    assert result.exit_code == 2
    assert "y has shape (5,) but X has 20 rows" in result.output


def test_npz_without_X_exits_2(tmp_path, classic_only):
    path = tmp_path / "bad.npz"
    np.savez(path, images=np.zeros((20, 8, 8)))
    result = CliRunner().invoke(main, ["profile", str(path)])
    assert result.exit_code == 2
    assert "needs an array named X" in result.output


def test_existing_output_is_not_overwritten(tmp_path, classic_only):
    data = _table(tmp_path, _base())
    keep = tmp_path / "keep.json"
    keep.write_text("precious")
    result = CliRunner().invoke(main, ["recommend", data, "--task", "classify", "--target", "y", "--json", str(keep), "--budget", "5", "--quiet"])
    assert result.exit_code == 2
    assert keep.read_text() == "precious"


WARNING_CASES = [
    ("infinities", lambda f: f.assign(a=np.where(np.arange(len(f)) % 7 == 0, np.inf, f["a"])), "infinite values treated as missing in a"),
    ("all-NaN column", lambda f: f.assign(empty=np.nan), "column 'empty': every value is missing"),
    ("ID column", lambda f: f.assign(row_id=np.arange(len(f))), "look like a row ID"),
    ("class with one row", lambda f: f.assign(y=["lonely"] + list(f["y"][1:])), "classes with a single row"),
    ("datetime column", lambda f: f.assign(when=pd.date_range("2020-01-01", periods=len(f)).astype(str)), "used as days since 1970"),
    ("free text column", lambda f: f.assign(note=[f"the quick brown fox number {i} jumps" for i in range(len(f))]), "free text"),
    ("more columns than rows", lambda f: pd.concat([f.head(12).reset_index(drop=True), pd.DataFrame(np.random.default_rng(1).normal(size=(12, 14)), columns=[f"c{i}" for i in range(14)])], axis=1), "more columns (16) than rows (12)"),
]


@pytest.mark.parametrize("name,change,fragment", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_recoverable_input_warns_and_runs(tmp_path, classic_only, name, change, fragment):
    data = _table(tmp_path, change(_base()))
    result = CliRunner().invoke(main, ["recommend", data, "--task", "classify", "--target", "y", "--budget", "6", "--max-trials", "1"])
    assert result.exit_code == 0, result.output
    assert fragment in result.output


def test_semicolon_and_latin1_csv_are_read(tmp_path, classic_only):
    frame = _base()
    frame["y"] = np.where(frame["y"] == "p", "café", "naïve")
    path = tmp_path / "semi.csv"
    frame.to_csv(path, sep=";", index=False, encoding="latin-1")
    result = CliRunner().invoke(main, ["recommend", str(path), "--task", "classify", "--target", "y", "--budget", "6", "--max-trials", "1"])
    assert result.exit_code == 0, result.output
    assert "not UTF-8; read it as Latin-1" in result.output
    assert "delimiter ';'" in result.output


def test_numbers_with_decimal_commas_in_a_semicolon_csv_are_numbers(tmp_path, classic_only):
    """Where ';' separates the fields the comma is often the decimal mark: 1,5 is a number there,
    and reading it as text left the table without a usable column."""
    frame = _base()
    frame["y"] = np.where(frame["y"] == "p", 1.0, 0.0)
    path = tmp_path / "comma.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    result = CliRunner().invoke(main, ["profile", str(path)])
    assert result.exit_code == 0, result.output
    assert "read ',' as the decimal mark" in result.output
    assert "look like an ID" not in result.output
    result = CliRunner().invoke(main, ["recommend", str(path), "--task", "classify", "--target", "y", "--budget", "6", "--max-trials", "1"])
    assert result.exit_code == 0, result.output


def test_true_false_labels_with_gaps_are_classified(tmp_path, classic_only):
    """A True/False column with empty cells is read as Python booleans in an object column,
    which scikit-learn took for an unknown kind of target: every family failed."""
    frame = _base(80)
    frame["y"] = np.where(frame["a"] > 0, "True", "False")
    frame.loc[::9, "y"] = np.nan
    data = _table(tmp_path, frame)
    result = CliRunner().invoke(main, ["recommend", data, "--task", "classify", "--target", "y", "--budget", "6", "--max-trials", "1",
                                       "--families", "linear"])
    assert result.exit_code == 0, result.output
    assert "whose target 'y' is missing" in result.output


def test_many_categorical_levels_run(tmp_path, classic_only):
    rng = np.random.default_rng(0)
    n = 12_000
    frame = pd.DataFrame({"level": [f"L{i}" for i in rng.permutation(10_000).tolist() + rng.integers(0, 10_000, n - 10_000).tolist()], "x": rng.normal(size=n)})
    frame["y"] = np.where(frame["x"] > 0, "a", "b")
    data = _table(tmp_path, frame)
    result = CliRunner().invoke(main, ["recommend", data, "--task", "classify", "--target", "y", "--budget", "20", "--max-trials", "1", "--families", "linear"])
    assert result.exit_code == 0, result.output


def test_a_gzip_compressed_csv_is_read(tmp_path, classic_only):
    path = tmp_path / "t.csv.gz"
    _base().to_csv(path, index=False, compression="gzip")
    result = CliRunner().invoke(main, ["profile", str(path), "--json"])
    assert result.exit_code == 0 and '"n_rows": 60' in result.output, result.output


@pytest.fixture(scope="module")
def image_models(tmp_path_factory):
    """A classifier and a denoiser saved after training on 4x4 images (once for the module)."""
    folder = tmp_path_factory.mktemp("image_models")
    data = _npz(folder)
    saved = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVISOR_LOAD_PLUGINS", "classic")
        for task in ("classify", "denoise"):
            saved[task] = str(folder / f"{task}.skops")
            result = CliRunner().invoke(main, ["recommend", data, "--task", task, "--budget", "5", "--no-storage", "-q", "--save-model", saved[task]])
            assert result.exit_code == 0, result.output
    return data, saved


def test_images_of_another_shape_are_refused_by_predict(tmp_path, image_models):
    _, saved = image_models
    other = tmp_path / "other.npz"
    np.savez(other, X=np.random.default_rng(1).random((5, 8, 8)))
    result = CliRunner().invoke(main, ["predict", saved["classify"], str(other)])
    assert result.exit_code == 2 and "images of shape 8x8, but the model was trained on 4x4" in result.output, result.output


def test_outputs_take_the_format_their_name_asks_for(tmp_path, image_models):
    data, saved = image_models
    denoised = tmp_path / "clean.npz"
    assert CliRunner().invoke(main, ["transform", saved["denoise"], data, "-o", str(denoised)]).exit_code == 0
    assert np.load(denoised)["X"].shape == (40, 4, 4)
    predicted = tmp_path / "pred.parquet"
    assert CliRunner().invoke(main, ["predict", saved["classify"], data, "-o", str(predicted)]).exit_code == 0
    assert len(pd.read_parquet(predicted)) == 40


def test_sample_on_a_model_that_predicts_says_to_predict(image_models):
    result = CliRunner().invoke(main, ["sample", image_models[1]["classify"], "-n", "2"])
    assert result.exit_code == 2 and "use predict" in result.output, result.output


def test_listing_runs_of_a_journal_that_does_not_exist_creates_nothing(tmp_path):
    journal = tmp_path / "missing.journal"
    result = CliRunner().invoke(main, ["runs", "--storage", str(journal)])
    assert result.exit_code == 2 and "no such journal file" in result.output
    assert not journal.exists()


def test_a_report_of_a_cut_result_document_is_refused(tmp_path):
    doc = _write(tmp_path, "cut.json", '{"task": "classify", "recommendation": "linear", "ranking": [], "rationale": [], "profile": {}}')
    result = CliRunner().invoke(main, ["report", doc, "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "missing budget_s" in result.output, result.output


def test_a_gpu_that_is_not_there_is_refused_even_when_nothing_trains(tmp_path, classic_only):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    result = CliRunner().invoke(main, ["recommend", _table(tmp_path, _base()), "--task", "classify", "--target", "y", "--budget", "0", "--device", "cuda:0"])
    assert result.exit_code == 2 and "sees no CUDA GPU" in result.output, result.output
