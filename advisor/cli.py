"""The `advisor` command line: parse, call the Python API, print.

Bad input or usage exits with code 2 and one line on stderr, never a traceback: click's own
usage errors and our `InputError` (a `click.ClickException`) alike. `AdvisorGroup.main`
(advisor.cli_types) is the last line of defence for the rest (set ADVISOR_DEBUG=1 to see a
traceback).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from advisor.cli_types import DEVICE, AdvisorGroup, BudgetParam
from advisor.errors import InputError
from advisor.families.contract import TASKS


def _check_distinct(outputs: dict) -> None:
    """Refuse two outputs written to one file: the second would silently replace the first."""
    given = [(option, Path(path).resolve()) for option, path in outputs.items() if path]
    for i, (option, path) in enumerate(given):
        for other, other_path in given[i + 1:]:
            if path == other_path:
                raise InputError(f"{option} and {other} name the same file ({path.name}); give each its own")


def _check_output(path: str | None, force: bool, what: str) -> None:
    """Refuse to overwrite a user's file unless --force; fail before any work is done."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {path} is a directory")
    if p.exists() and not force:
        raise InputError(f"{what} {path} already exists; use --force to overwrite it")
    if not p.parent.exists():
        raise InputError(f"{what} {path}: folder {p.parent} does not exist")


@click.group(cls=AdvisorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="advisor")
def main():
    """Which model family should I use for my data and my task, and why?"""


@main.command()
@click.argument("data")
@click.option("--task", "-t", required=True, type=click.Choice(TASKS), help="What the model must do.")
@click.option("--target", help="Column to predict (classify, regress), or a label column used only to score (detect, embed).")
@click.option("--budget", type=BudgetParam(), default=60.0, show_default=True, help="Seconds for the whole command, final refit included; 0: advice from the priors alone, nothing trained; auto: the default budget, and the budget at which the ranking is expected to settle.")
@click.option("--weights", help="Criterion weights, e.g. fidelity=.6,uncertainty=.1,compute=.2,interpretability=.1")
@click.option("--prefer", type=click.Choice(["quality", "speed", "uncertainty", "interpretability"]), help="A preset of weights.")
@click.option("--families", help="Only these families (comma-separated names; see `advisor families`).")
@click.option("--exclude", help="Leave these families out (comma-separated).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--max-trials", type=click.IntRange(min=1), help="At most this many trials per family (for repeatable runs).")
@click.option("--image-shape", help="Read the feature columns as images of this shape, e.g. 28x28 or 32x32x3.")
@click.option("--sequence", is_flag=True, help="Read the feature columns as one ordered sequence.")
@click.option("--noise-std", type=float, help="denoise: noise level to score with (image: share of the pixel range; table: column sds).")
@click.option("--device", type=DEVICE, default="auto", show_default=True, help="Where torch runs: auto (a GPU when one is visible), cpu, cuda or cuda:N.")
@click.option("--json", "json_path", help="Write the result document (JSON) here.")
@click.option("--save-model", help="Save the fitted winner here (skops format; load with advisor.load).")
@click.option("--report", "report_path", help="Write a self-contained HTML report here.")
@click.option("--storage", help="Where trials are recorded: a journal file path or a database URL (default: a journal under ~/.cache/advisor).")
@click.option("--study", help="Study name in the storage (default: derived from the data, task and options).")
@click.option("--no-storage", is_flag=True, help="Keep trials in memory only (nothing to resume).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def recommend(data, task, target, budget, weights, prefer, families, exclude, seed, max_trials, image_shape, sequence, noise_std, device, json_path, save_model, report_path, storage, study, no_storage, force, quiet):
    """Recommend a model family for DATA (CSV, Parquet or .npz) and TASK."""
    start = time.monotonic()  # the budget counts from here; the heavy imports come after
    _check_output(json_path, force, "--json")
    _check_output(save_model, force, "--save-model")
    _check_output(report_path, force, "--report")
    _check_distinct({"--json": json_path, "--save-model": save_model, "--report": report_path})
    if storage and no_storage:
        raise InputError("give --storage or --no-storage, not both")
    if budget == 0:
        if save_model:
            raise InputError("--save-model needs a trained model: --budget 0 trains nothing (give a budget in seconds)")
        if device not in ("auto", "cpu"):  # nothing runs on it, but a device that is not there is still a mistake
            from advisor.nn.device import resolve_device

            resolve_device(device)
        from advisor.judging.prior_advice import prior_recommendation

        rec = prior_recommendation(data, task, target=target, weights=weights, prefer=prefer, families=families, exclude=exclude,
                                   image_shape=image_shape, sequence=sequence, seed=seed, start_time=start)
        _write_outputs(rec, start, json_path, None, report_path, quiet)
        return
    from advisor.advise import recommend as run_recommend
    from advisor.output.progress import SearchProgress
    from advisor.runtime.interrupts import exit_code, terminate_as_interrupt

    with terminate_as_interrupt(), SearchProgress(task, quiet=quiet) as progress:
        rec = run_recommend(
            data,
            task,
            target=target,
            budget=budget,
            weights=weights,
            prefer=prefer,
            families=families,
            exclude=exclude,
            seed=seed,
            max_trials=max_trials,
            image_shape=image_shape,
            sequence=sequence,
            noise_std=noise_std,
            device=device,
            storage=None if no_storage else (storage or "auto"),
            study=study,
            progress=progress,
            start_time=start,
        )
    _write_outputs(rec, start, json_path, save_model, report_path, quiet)
    if rec.interrupted is not None:
        sys.exit(exit_code(rec.interrupted))


def _write_outputs(rec, start: float, json_path, save_model, report_path, quiet: bool) -> None:
    from advisor.output.display import print_recommendation

    print_recommendation(rec, quiet=quiet)
    if json_path:
        rec.elapsed_s = time.monotonic() - start
        rec.to_json(json_path)
    if save_model:
        rec.save(save_model)
    if report_path:
        from advisor.output.report import write_report

        write_report(rec.to_dict(), report_path)
    if not quiet:
        for line in rec.warnings:
            click.echo(f"warning: {line}", err=True)


@main.command()
@click.option("--task", "-t", type=click.Choice(TASKS), help="Only families that do this task.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def families(task, as_json):
    """List the installed model families and any plugin that failed to load."""
    from advisor.families.discovery import discover
    from advisor.output.display import print_families

    print_families(discover(), task=task, as_json=as_json)


@main.command()
@click.argument("data")
@click.option("--target", help="The target column, if any.")
@click.option("--task", "-t", type=click.Choice(TASKS), help="Read the target as this task would.")
@click.option("--image-shape", help="Read the feature columns as images of this shape, e.g. 28x28.")
@click.option("--sequence", is_flag=True, help="Read the feature columns as one ordered sequence.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def profile(data, target, task, image_shape, sequence, as_json):
    """Profile DATA: rows, column kinds, missingness, modality, target."""
    from advisor.advise import profile as run_profile
    from advisor.output.display import print_profile

    print_profile(run_profile(data, target=target, task=task, image_shape=image_shape, sequence=sequence), as_json=as_json)


def _load_model(model: str):
    from advisor.result import load

    return load(model)


def _write_frame(frame, output: str | None, force: bool, image_shape=None) -> None:
    """Write rows as the output's name asks: Parquet (.parquet, .pq), .npz (images as an array X of
    `image_shape` per row where given, else one array per column), or CSV (anything else; stdout)."""
    import numpy as np
    import pandas as pd

    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    suffix = Path(output).suffix.lower() if output else ""
    if output is None:
        frame.to_csv(sys.stdout, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(output, index=False)
    elif suffix == ".npz":
        values = frame.to_numpy()
        if image_shape and values.shape[1] == int(np.prod(image_shape)):
            np.savez_compressed(output, X=values.reshape((len(values),) + tuple(image_shape)))
        else:
            np.savez_compressed(output, **{str(c): frame[c].to_numpy() for c in frame.columns})
    else:
        frame.to_csv(output, index=False)


def _read_rows(data: str, rec):
    """The rows as the user wrote them: the saved model's first step does the cleaning. Images
    must have the shape the model was trained on: their pixel columns would otherwise be read
    by name, a 16x16 image's first 64 pixels taken for an 8x8 one."""
    from advisor.data.tables import read_table

    table = read_table(data)
    trained = tuple(rec.profile.image_shape or ()) or None
    given = tuple(table.image_shape or ()) or None
    if given and trained and given != trained:
        shape = "x".join(map(str, given))
        raise InputError(f"{data}: images of shape {shape}, but the model was trained on {'x'.join(map(str, trained))}")
    return table.frame


@main.command()
@click.argument("model")
@click.option("-n", "n_rows", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("-o", "--output", help="File to write: CSV, or Parquet / .npz by its ending (default: CSV on stdout).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--given", "given", metavar="VALUE",
              help="Draw every row for this value of the target the model was fitted with (--target).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def sample(model, n_rows, output, seed, given, force):
    """Draw rows from a saved generate model."""
    from advisor.model.conditional import ConditioningError, typed_value

    _check_output(output, force, "--output")
    rec = _load_model(model)
    if rec.task != "generate" or not hasattr(rec.best_estimator_, "sample"):
        raise InputError(f"{model}: a {rec.task} model cannot sample; use {'transform' if rec.task in ('embed', 'denoise') else 'predict'}")
    import warnings

    try:
        y = None if given is None else typed_value(given, getattr(rec.best_estimator_, "target_values_", None), rec.target)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", UserWarning)
            out = rec.best_estimator_.sample(n_rows, random_state=seed, y=y)
    except ConditioningError as exc:
        raise InputError(f"--given: {exc}") from None
    for warning in said:
        click.echo(f"warning: {warning.message}", err=True)
    import numpy as np

    if not hasattr(out, "columns"):
        out = np.asarray(out).reshape(n_rows, -1)
    _write_frame(out, output, force, rec.profile.image_shape)


def _rows_in_csv_out(fn):
    """A command that answers rows of DATA with a saved MODEL and writes a CSV; it gets the loaded
    Recommendation, after the output path was checked (nothing is overwritten without --force)."""

    @main.command(name=fn.__name__, help=fn.__doc__)
    @click.argument("model")
    @click.argument("data")
    @click.option("-o", "--output", help="File to write: CSV, or Parquet / .npz by its ending (default: CSV on stdout).")
    @click.option("--force", is_flag=True, help="Overwrite an existing output file.")
    def command(model, data, output, force):
        _check_output(output, force, "--output")
        fn(model, _load_model(model), data, output, force)

    return command


@_rows_in_csv_out
def predict(model, rec, data, output, force):
    """Predict with a saved classify / regress / detect model."""
    if rec.task not in ("classify", "regress", "detect"):
        raise InputError(f"{model}: a {rec.task} model does not predict; use {'sample' if rec.task == 'generate' else 'transform'}")
    X = _read_rows(data, rec)
    import pandas as pd

    est = rec.best_estimator_
    out = pd.DataFrame({"prediction": est.predict(X)})
    if rec.task == "classify" and hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        for i, c in enumerate(est.classes_):
            out[f"proba_{c}"] = proba[:, i]
    if rec.task == "detect":
        out["score"] = est.score_samples(X)
    _write_frame(out, output, force)


@_rows_in_csv_out
def transform(model, rec, data, output, force):
    """Embed or denoise rows with a saved embed / denoise model."""
    if rec.task not in ("embed", "denoise"):
        raise InputError(f"{model}: a {rec.task} model does not transform")
    X = _read_rows(data, rec)
    import numpy as np
    import pandas as pd

    out = rec.best_estimator_.transform(X)
    if rec.task == "embed":
        out = np.asarray(out).reshape(len(X), -1)
        out = pd.DataFrame(out, columns=[f"z{i}" for i in range(out.shape[1])])
    elif not isinstance(out, pd.DataFrame):
        cleaner = getattr(rec.best_estimator_, "cleaner", None)
        names = [name for name, _ in cleaner.columns] if cleaner is not None else list(X.columns)
        out = pd.DataFrame(np.asarray(out).reshape(len(X), -1), columns=names)
    _write_frame(out, output, force, rec.profile.image_shape if rec.task == "denoise" else None)


@main.command()
@click.argument("result")
@click.option("-o", "--output", required=True, help="HTML file to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def report(result, output, force):
    """Render the HTML report of a saved result document (from --json)."""
    _check_output(output, force, "--output")
    from advisor.output.report import read_document, write_report

    try:
        write_report(read_document(result), output)
    except KeyError as exc:  # a document cut or edited by hand
        raise InputError(f"{result}: not a complete advisor result (missing {exc})") from None
    click.echo(f"wrote {output}")


@main.command()
@click.option("--storage", required=True, help="The coordinator's storage (journal path or database URL).")
@click.option("--study", required=True, help="The run's study name (printed by `advisor runs`).")
@click.option("--budget", type=float, default=600.0, show_default=True, help="Seconds this worker spends at most.")
@click.option("--data", help="Where this machine reads the data, if not at the path the coordinator recorded.")
@click.option("--wait", type=float, default=0.0, show_default=True, help="Seconds to wait for the study to appear (workers may start first).")
@click.option("--device", type=DEVICE, default="auto", show_default=True, help="Where torch runs: auto (a GPU when one is visible), cpu, cuda or cuda:N.")
@click.option("--quiet", "-q", is_flag=True)
def worker(storage, study, budget, data, wait, device, quiet):
    """Join a running recommendation: add trials to its study until it finishes."""
    if budget <= 0:
        raise InputError(f"--budget must be a positive number of seconds, got {budget:g}")
    if device not in ("auto", "cpu"):  # no GPU for cuda: one line now, as `recommend` says it, not a failure per trial
        from advisor.nn.device import resolve_device

        device = resolve_device(device)
    from advisor.output.progress import SearchProgress
    from advisor.runtime.interrupts import terminate_as_interrupt
    from advisor.search.worker import work

    with terminate_as_interrupt(), SearchProgress("worker", quiet=quiet) as progress:
        summary = work(storage, study, budget=budget, data=data, device=device, wait=wait, progress=progress)
    click.echo(f"worker: {summary['trials']} trials for study {summary['study']} in {summary['seconds']}s")


@main.command()
@click.option("--storage", default="auto", show_default=True, help="A journal path or database URL ('auto': the default journal).")
@click.option("--json", "as_json", is_flag=True)
def runs(storage, as_json):
    """List past runs recorded in a storage, newest first, with their recommendation."""
    from advisor.output.display import print_runs
    from advisor.search.storage import list_runs, open_storage

    if storage != "auto" and "://" not in storage and not Path(storage).is_file():
        raise InputError(f"--storage {storage}: no such journal file")  # reading it must not create it
    print_runs(list_runs(open_storage(storage)), as_json=as_json)


@main.command("datasets")
def datasets_command():
    """List the bundled example datasets."""
    from advisor import datasets

    for d in datasets.list_datasets():
        targets = ", ".join(f"{task}: {col}" for task, col in d["target"].items() if col)
        click.echo(f"{d['name']:<10} {d['rows']:>5} rows  {', '.join(d['tasks']):<36} {targets}")
        click.echo(f"{'':<10} {datasets.path(d['name'])}")


if __name__ == "__main__":  # pragma: no cover
    main()
