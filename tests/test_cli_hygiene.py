"""The command line and the library agree, and the CLI behaves like a good citizen.

`--device cuda:N` means on the CLI what it means in Python; a report never switches the user's
matplotlib backend; `advisor runs` prints a table like the other commands; bad input exits 2
through click's own exception handling, bugs exit 1 in one line, interrupts exit 130 / 143.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

import advisor
from advisor.cli import AdvisorGroup, main
from advisor.errors import InputError
from advisor.runtime.interrupts import Terminated


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def _python(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter: module and backend state cannot leak between tests."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, env={**os.environ, **env})


# --device -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["auto", "cpu", "cuda", "cuda:0", "cuda:1", "cuda:12"])
def test_device_spellings_the_api_accepts_parse(spelling):
    from advisor.nn.device import parse_device

    assert parse_device(spelling) == spelling


@pytest.mark.parametrize("spelling", ["gpu", "cuda:x", "cuda:", "cuda:-1", "CUDA", "cuda1", "cpu:0", ""])
def test_misspelled_devices_are_input_errors(spelling):
    from advisor.nn.device import parse_device, resolve_device

    for check in (parse_device, resolve_device):
        with pytest.raises(InputError, match="unknown device"):
            check(spelling)


@pytest.mark.parametrize("command", [["recommend", "data.csv", "--task", "classify"], ["worker", "--storage", "j.journal", "--study", "s"]], ids=["recommend", "worker"])
@pytest.mark.parametrize("spelling", ["gpu", "cuda:x"])
def test_bad_device_is_a_usage_error(command, spelling):
    result = CliRunner().invoke(main, [*command, "--device", spelling])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in _lines(result.output) if line.startswith("Error:")]
    assert len(errors) == 1 and "'--device'" in errors[0] and repr(spelling) in errors[0], result.output


def test_cuda_index_reaches_the_api(monkeypatch, csv_path):
    seen = {}

    def fake_recommend(data, task, **options):
        seen.update(options)
        raise InputError("stopped by the test")

    monkeypatch.setattr("advisor.advise.recommend", fake_recommend)
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--device", "cuda:1", "--no-storage", "--quiet"])
    assert seen.get("device") == "cuda:1", result.output
    assert result.exit_code == 2 and "stopped by the test" in result.output


def test_cuda_without_a_gpu_says_so_in_one_line_like_the_api(classic_only, csv_path, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: cuda:1 may well be valid here")
    with pytest.raises(InputError) as raised:
        advisor.recommend(str(csv_path), "classify", target="label", budget=5, device="cuda:1")
    assert str(raised.value) == "--device cuda:1 asked for, but torch sees no CUDA GPU"
    for argv in (
        ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "5", "--device", "cuda:1", "--quiet"],
        ["worker", "--storage", str(tmp_path / "j.journal"), "--study", "s", "--budget", "5", "--device", "cuda:1", "--quiet"],
    ):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2, result.output
        assert _lines(result.output) == [f"Error: {raised.value}"], result.output


# the report and matplotlib -----------------------------------------------------------------


def _document(previews: dict) -> dict:
    """A result document with every figure the report draws, built by hand: no search needed."""
    def entry(name, fidelity, compute, history):
        return {
            "family": name,
            "score": 0.7 * fidelity + 0.3 * compute,
            "criteria": {"fidelity": fidelity, "uncertainty": 0.6, "compute": compute, "interpretability": 0.5},
            "status": "ok",
            "reason": None,
            "trials": {"total": len(history), "history": history},
        }

    column = {"name": "a", "kind": "numeric", "dtype": "float64", "missing": 0.0, "unique": 50, "role": "feature", "note": None}
    return {
        "schema_version": 1,
        "task": "generate",
        "target": None,
        "recommendation": "gmm",
        "rationale": ["gmm has the best fidelity."],
        "budget_s": 10.0,
        "elapsed_s": 4.2,
        "seed": 0,
        "weights": {"fidelity": 0.7, "compute": 0.3},
        "ranking": [
            entry("gmm", 0.8, 1.0, [[0, 0.7, "COMPLETE", 0.1], [1, 0.8, "COMPLETE", 0.1]]),
            entry("smote", 0.6, 0.9, [[0, 0.6, "COMPLETE", 0.1]]),
            {"family": "broken", "score": None, "criteria": None, "status": "failed", "reason": "raised ValueError", "trials": {"total": 1, "history": []}},
        ],
        "pareto": ["gmm", "smote"],
        "profile": {"n_rows": 50, "n_features": 1, "modality": "table", "image_shape": None, "missing_share": 0.0, "intrinsic_dim": 1, "modality_reason": "one numeric column", "columns": [column]},
        "previews": previews,
        "warnings": [],
        "versions": {"advisor": "test"},
    }


def test_writing_a_report_leaves_the_matplotlib_backend_alone(tmp_path):
    table = {"kind": "table", "columns": ["a", "c"], "real": {"a": [0.1, 0.5, 0.9], "c": ["x", "y", "x"]}, "generated": {"a": [0.2, 0.4, 1.0], "c": ["x", "x", "y"]}}
    images = {"kind": "images", "shape": [2, 2], "noisy": [[[0.1, 0.9], [0.5, 0.2]]] * 3, "denoised": [[[0.0, 1.0], [0.5, 0.1]]] * 3, "clean": [[[0.0, 1.0], [0.5, 0.0]]] * 3}
    for name, previews in (("table", table), ("images", images)):
        (tmp_path / f"{name}.json").write_text(json.dumps(_document(previews)))
    done = _python(
        f"""
        import json, sys
        import matplotlib
        matplotlib.use("pdf")
        from advisor.output.report import read_document, write_report
        for name in ("table", "images"):
            write_report(read_document({str(tmp_path)!r} + f"/{{name}}.json"), {str(tmp_path)!r} + f"/{{name}}.html")
        print(json.dumps({{"backend": matplotlib.get_backend(), "pyplot": "matplotlib.pyplot" in sys.modules}}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"backend": "pdf", "pyplot": False}
    page = (tmp_path / "table.html").read_text()
    assert page.count("<svg") == 4 and "Real against generated" in page  # criteria, Pareto, history, marginals
    page = (tmp_path / "images.html").read_text()
    assert page.count("<svg") == 4 and "Noisy, denoised and clean images" in page


# advisor runs -------------------------------------------------------------------------------

RUNS = [
    {"study": "advisor-classify-0123456789abcdef-89abcdef", "task": "classify", "target": "label", "data": "data/train.csv", "fingerprint": "0123456789abcdef", "status": "finished", "recommendation": "hist_gradient_boosting", "trials": 12, "started": "2024-05-01T12:00:00+00:00"},
    {"study": "mine", "task": "generate", "target": None, "data": None, "fingerprint": "fedcba9876543210", "status": "interrupted", "recommendation": None, "trials": None, "started": None},
]


def test_runs_prints_a_table_and_keeps_json(monkeypatch):
    monkeypatch.setattr("advisor.search.storage.open_storage", lambda spec: None)
    monkeypatch.setattr("advisor.search.storage.list_runs", lambda storage: RUNS)
    result = CliRunner().invoke(main, ["runs"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert lines[0].strip() == "advisor runs"
    assert any(all(col in line for col in ("started", "task", "status", "recommendation", "trials", "study", "data")) for line in lines), result.output
    row = next(line for line in lines if RUNS[0]["study"] in line)  # whole, on one line
    assert "hist_gradient_boosting" in row and "12" in row and "data/train.csv" in row
    assert any("mine" in line and "(in memory)" in line for line in lines)
    as_json = CliRunner().invoke(main, ["runs", "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output) == RUNS
    monkeypatch.setattr("advisor.search.storage.list_runs", lambda storage: [])
    assert CliRunner().invoke(main, ["runs"]).output.strip() == "no runs recorded"


def test_runs_lists_a_real_run(classic_only, csv_path, tmp_path):
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--budget", "5", "--max-trials", "1", "--families", "linear", "--json", str(out), "--quiet"])
    assert done.exit_code == 0, done.output
    study = json.loads(out.read_text())["search"]["study"]
    listed = CliRunner().invoke(main, ["runs"])
    assert listed.exit_code == 0, listed.output
    assert any(study in line and "linear" in line and "finished" in line for line in _lines(listed.output)), listed.output


# errors and exit codes ----------------------------------------------------------------------


def test_input_error_is_a_click_exception_and_still_a_plain_error():
    assert issubclass(InputError, click.ClickException) and issubclass(InputError, ValueError) and issubclass(InputError, advisor.AdvisorError)
    exc = InputError("bad\n   input\tspread over lines")
    assert exc.exit_code == 2
    assert str(exc) == "bad input spread over lines" and exc.args == ("bad input spread over lines",)
    again = pickle.loads(pickle.dumps(exc))  # crosses process boundaries (joblib, workers) intact
    assert type(again) is InputError and str(again) == str(exc)
    try:
        raise InputError("caught like any exception")
    except advisor.InputError as caught:
        assert str(caught) == "caught like any exception"


def test_input_error_exits_2_from_any_click_command():
    """Click itself handles InputError: no override of the group is needed for exit code 2."""

    @click.command()
    def plain():
        raise InputError("the data is wrong")

    result = CliRunner().invoke(plain, [])
    assert result.exit_code == 2
    assert result.output == "Error: the data is wrong\n"
    assert AdvisorGroup.invoke is click.Group.invoke


def test_unexpected_error_is_one_line_and_exit_1(monkeypatch, csv_path):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\n  on two lines")

    monkeypatch.setattr("advisor.advise.profile", broken)
    result = CliRunner().invoke(main, ["profile", str(csv_path)])
    assert result.exit_code == 1
    assert _lines(result.output) == ["Error: internal error (RuntimeError: boom on two lines); set ADVISOR_DEBUG=1 for details"]


@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "ADVISOR_DEBUG"])
def test_traceback_only_with_advisor_debug(debug, tmp_path):
    done = _python(
        f"""
        import advisor.advise
        def broken(*args, **kwargs):
            raise RuntimeError("boom")
        advisor.advise.profile = broken
        from advisor.cli import main
        main(["profile", {str(tmp_path / "x.csv")!r}])
        """,
        ADVISOR_DEBUG="1" if debug else "",
    )
    assert done.returncode == 1
    if debug:
        assert "Traceback" in done.stderr and "RuntimeError: boom" in done.stderr
    else:
        assert _lines(done.stderr) == ["Error: internal error (RuntimeError: boom); set ADVISOR_DEBUG=1 for details"]


@pytest.mark.parametrize("stop,code", [(KeyboardInterrupt, 130), (Terminated, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupt_outside_the_search_keeps_its_exit_code(monkeypatch, csv_path, stop, code):
    def interrupted(*args, **kwargs):
        raise stop()

    monkeypatch.setattr("advisor.advise.recommend", interrupted)
    result = CliRunner().invoke(main, ["recommend", str(csv_path), "--task", "classify", "--target", "label", "--no-storage", "--quiet"])
    assert result.exit_code == code
    assert _lines(result.output) == ["Interrupted."]


def test_import_and_help_stay_light():
    done = _python(
        """
        import sys
        import advisor
        light = not {"torch", "pandas", "sklearn", "matplotlib", "optuna"} & set(sys.modules)
        from advisor.cli import main
        for argv in (["--help"], ["recommend", "--help"], ["worker", "--help"]):
            try:
                main(argv)
            except SystemExit as exc:
                assert exc.code == 0, argv
        print(light, sorted({"torch", "matplotlib", "optuna"} & set(sys.modules)))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True []"
