"""Where trials are recorded: Optuna storages, named by the data they were run on.

- No `--storage`: the CLI records trials in an embedded Optuna journal file,
  `$ADVISOR_HOME/studies.journal` (default `~/.cache/advisor/`, or `$XDG_CACHE_HOME/advisor/`).
  A journal is a plain append-only log that several processes can share safely (SQLite locks
  under parallel writers). `--no-storage` keeps everything in memory.
- `--storage PATH` (a file path): a journal file there. `--storage URL` (``sqlite:///x.db``,
  ``postgresql://user@host/db``): an Optuna RDB storage, with heartbeats so that the trial of a
  killed worker is failed and its work taken up by another.

A run's study is named from the dataset's fingerprint, the task and the options that change the
search, unless `--study` names it; each family's trials live in the study `<name>:<family>`,
and the study `<name>` itself records the run: task, target, data path, fingerprint, options,
status and recommendation. A rerun with the same name resumes: finished trials are read back,
not repeated.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pandas as pd

from advisor.errors import InputError

HEARTBEAT_S = 2
GRACE_S = 10

# The package that provides each database driver SQLAlchemy imports by module name.
DRIVER_PACKAGES = {"psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]", "MySQLdb": "mysqlclient", "pymysql": "PyMySQL"}


def advisor_home() -> Path:
    from advisor.settings import settings

    return settings().home


def default_journal() -> Path:
    return advisor_home() / "studies.journal"


def fingerprint(frame: pd.DataFrame) -> str:
    """A hash of the values and column names: the same data gives the same fingerprint."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def study_name(fp: str, task: str, options: dict) -> str:
    """Same data, task and search options, same name (budget and trial caps do not count: a
    rerun with more of either continues the same study)."""
    keyed = {k: v for k, v in options.items() if k not in ("max_trials",)}
    opts = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"advisor-{task}-{fp}-{opts}"


def open_storage(spec):
    """An Optuna storage from `spec`: None (in memory), "auto" (the default journal), a path, or a URL."""
    import optuna

    if spec is None or isinstance(spec, optuna.storages.BaseStorage):
        return spec
    spec = str(spec)
    if spec == "auto":
        path = default_journal()
    elif "://" not in spec:
        path = Path(spec)
    else:
        return _rdb(spec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise InputError(f"--storage {path}: cannot write the journal ({exc.strerror or exc})") from None


def _rdb(url: str, attempts: int = 4):
    import time

    import optuna

    import warnings

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=HEARTBEAT_S,
                    grace_period=GRACE_S,
                    engine_kwargs={"pool_pre_ping": True},
                )
        except ImportError as exc:
            package = DRIVER_PACKAGES.get(exc.name or "", exc.name or "the database's driver")
            raise InputError(f"--storage {_redact(url)}: a driver is missing ({exc.name or exc}); pip install {package}") from None
        except Exception as exc:  # noqa: BLE001 - any connection failure is the user's to fix
            # Processes that open a new database at the same moment race to create its tables:
            # the losers retry and find them there.
            racing = "alembic_version" in str(exc) or "already exists" in str(exc)
            if racing and attempt + 1 < attempts:
                time.sleep(0.5 + attempt)
                continue
            text = " ".join(str(exc).split())[:160]
            raise InputError(f"--storage {_redact(url)}: cannot connect ({type(exc).__name__}: {text})") from None


def _redact(url: str) -> str:
    """The URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


class Heartbeat:
    """Records a heartbeat for a running trial from a background thread (RDB storages only),
    so that if this process dies, other workers fail the trial after the grace period."""

    def __init__(self, storage, trial_id: int):
        self.storage, self.trial_id = storage, trial_id
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        interval = getattr(self.storage, "get_heartbeat_interval", lambda: None)()
        if interval is not None and hasattr(self.storage, "record_heartbeat"):
            self.storage.record_heartbeat(self.trial_id)
            self.thread = threading.Thread(target=self._beat, daemon=True)
            self.thread.start()
        return self

    def _beat(self):
        while not self.stop.wait(HEARTBEAT_S):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # noqa: BLE001 - a lost storage must not kill the trial
                return

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=1)
        return False


def list_runs(storage) -> list[dict]:
    """Past runs recorded in `storage`: one entry per run study, newest first."""
    import optuna

    runs = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        attrs = summary.user_attrs
        if attrs.get("advisor_run"):
            runs.append({"study": summary.study_name, **{k: attrs.get(k) for k in ("task", "target", "data", "fingerprint", "status", "recommendation", "trials", "started")}})
    return sorted(runs, key=lambda r: r.get("started") or "", reverse=True)


def workers_of(runs) -> set:
    """The processes whose trials these family runs counted (from the trials' `worker` attribute)."""
    names = set()
    for run in runs:
        if run.study is not None:
            names |= {t.user_attrs.get("worker") for t in run.study.get_trials(deepcopy=False) if t.user_attrs.get("worker")}
    return names


def open_run_study(storage, name, dataset, data, options):
    """Create or reopen the study that records this run; refuse one made on other data."""
    import datetime
    import json as jsonlib

    import optuna
    import pandas as pd

    parts = [dataset.X] + [s.rename("__target__") for s in (dataset.y, dataset.labels) if s is not None]
    fp = fingerprint(pd.concat(parts, axis=1))
    name = name or study_name(fp, options["task"], options)
    try:
        run_study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True, direction="maximize")
    except Exception as exc:  # noqa: BLE001 - an unreachable or broken storage is the user's to fix
        raise InputError(f"storage: cannot open study {name!r} ({type(exc).__name__}: {' '.join(str(exc).split())[:150]})") from None
    attrs = run_study.user_attrs
    if attrs.get("fingerprint") and attrs["fingerprint"] != fp:
        raise InputError(f"study {name!r} was run on other data (fingerprint {attrs['fingerprint']}, this data {fp}); pick another --study")
    if attrs.get("options") and jsonlib.loads(attrs["options"])["task"] != options["task"]:
        raise InputError(f"study {name!r} is a {jsonlib.loads(attrs['options'])['task']} run, not {options['task']}")
    from pathlib import Path

    data_ref = str(Path(data).resolve()) if isinstance(data, (str, Path)) else None
    for key, value in {
        "advisor_run": True,
        "task": options["task"],
        "target": options["target"],
        "data": data_ref,
        "fingerprint": fp,
        "options": jsonlib.dumps(options, sort_keys=True),
        "status": "running",
        "started": attrs.get("started") or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }.items():
        run_study.set_user_attr(key, value)
    return name, run_study


def finish_run_study(run_study, rec, interrupted) -> None:
    """Record how the run ended, and its recommendation, in the run's study."""
    try:
        run_study.set_user_attr("status", "interrupted" if interrupted is not None else "finished")
        run_study.set_user_attr("recommendation", rec.best_family)
        run_study.set_user_attr("trials", rec.search["trials"])
    except Exception as exc:  # noqa: BLE001 - the storage went away at the very end
        rec.warnings.append(f"could not record the result in the storage ({type(exc).__name__})")
