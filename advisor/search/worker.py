"""`advisor worker`: join a running recommendation from another process or machine.

The coordinator (`advisor recommend ... --storage URL`) records in its study where its data is,
the data's fingerprint and the options. A worker reads them, loads the same data — from the
recorded path (a path every machine can see, such as a shared file system) or from `--data`
(a local copy, or a URL pandas can read) — refuses if the fingerprint differs, rebuilds the
same seeded splits, and adds trials to the shared per-family studies until its budget ends or
the coordinator finishes. The coordinator's final ranking counts every worker's trials.
"""

from __future__ import annotations

import json
import time

from advisor.errors import InputError
from advisor.runtime.quiet import optuna_warnings_only


@optuna_warnings_only()
def work(storage, study: str, *, budget: float = 600.0, data=None, device: str = "auto", wait: float = 0.0, progress=None) -> dict:
    """Add trials to `study` for at most `budget` seconds; wait up to `wait` seconds for it to appear."""
    import optuna

    from advisor.data.preparation import prepare
    from advisor.data.tables import read_table
    from advisor.families.discovery import discover
    from advisor.search import FamilyRun, Search, SearchConfig
    from advisor.search.storage import fingerprint, open_storage

    start = time.monotonic()
    optuna_storage = open_storage(storage)
    wait_until = start + min(wait, budget)
    while True:  # the coordinator may not have started, or not finished describing its run
        try:
            run_study = optuna.load_study(study_name=study, storage=optuna_storage)
            attrs = run_study.user_attrs
        except KeyError:
            run_study, attrs = None, {}
        if attrs.get("started"):  # the last attribute the coordinator records
            break
        if time.monotonic() >= wait_until:
            if run_study is None:
                raise InputError(f"no study {study!r} in this storage (see `advisor runs --storage ...`)")
            raise InputError(f"study {study!r} was not made by `advisor recommend`")
        time.sleep(0.5)
    options = json.loads(attrs["options"])
    source = data or attrs.get("data")
    if not source:
        raise InputError(f"study {study!r} does not say where its data is; pass --data PATH")
    table = read_table(source)
    shape = tuple(options["image_shape"]) if options.get("image_shape") else None
    dataset = prepare(table, options["task"], options["target"], image_shape=shape, sequence=options["sequence"], seed=options["seed"])
    import pandas as pd

    parts = [dataset.X] + [s.rename("__target__") for s in (dataset.y, dataset.labels) if s is not None]
    if fingerprint(pd.concat(parts, axis=1)) != attrs["fingerprint"]:
        raise InputError(f"{source}: this data does not match the data of study {study!r} (fingerprint {attrs['fingerprint']})")
    registry = discover()
    missing = [f for f in options["families"] if f not in registry.families]
    runs = [FamilyRun(registry.get(name), plugin=registry.plugin_of[name].name) for name in options["families"] if name in registry.families]
    if not runs:
        raise InputError(f"none of the study's families are installed here: {', '.join(missing)}")
    config = SearchConfig(
        task=options["task"],
        seed=options["seed"],
        max_trials=options.get("max_trials"),
        device=device,
        noise_std=options.get("noise_std") or 0.2,
        storage=optuna_storage,
        study_prefix=study,
    )
    search = Search(dataset, dataset.splits, runs, config, end=start + budget, progress=progress)

    def finished() -> bool:
        try:
            return optuna_storage.get_study_user_attrs(run_study._study_id).get("status") != "running"
        except Exception:  # noqa: BLE001 - storage lost: stop adding trials
            return True

    trials = search.work(finished)
    return {"study": study, "trials": trials, "families_missing_here": missing, "interrupted": search.interrupted is not None, "seconds": round(time.monotonic() - start, 1)}
