"""A private PostgreSQL server on the loopback interface for the distributed-study tests.

It uses the distribution's PostgreSQL (.ci/run installs it): a fresh cluster in a temporary
folder, listening on 127.0.0.1 only, stopped and removed afterwards. Locally, without
PostgreSQL, the tests that need it are skipped; in CI (CI=true) that is a failure instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager

import pytest


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(reason)


class PostgresServer:
    """start() -> a SQLAlchemy URL; stop() shuts the server down and removes its files."""

    def start(self) -> str:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not (initdb and pg_ctl):
            _unavailable("PostgreSQL server binaries not installed")
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            _unavailable("psycopg2 not installed")
        # PostgreSQL refuses to run as root: run it as the distribution's postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.pg_ctl = pg_ctl
        self.root = tempfile.mkdtemp(prefix="advisor-pg-")
        self.data = os.path.join(self.root, "data")
        if self.as_user:
            shutil.chown(self.root, "postgres")
        port = _free_port()
        subprocess.run(self.as_user + [initdb, "-D", self.data, "-U", "advisor", "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
        opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=100 -c fsync=off"
        subprocess.run(self.as_user + [pg_ctl, "-D", self.data, "-o", opts, "-l", os.path.join(self.root, "log"), "-w", "start"], check=True, capture_output=True)
        url = f"postgresql+psycopg2://advisor@127.0.0.1:{port}/postgres"
        import sqlalchemy

        deadline = time.monotonic() + 20
        while True:
            try:
                sqlalchemy.create_engine(url).connect().close()
                return url
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        if getattr(self, "root", None) is None:
            return
        subprocess.run(self.as_user + [self.pg_ctl, "-D", self.data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


@contextmanager
def postgres_url():
    server = PostgresServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()
