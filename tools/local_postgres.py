"""A throw-away PostgreSQL cluster for the tests and ``tools.bench_postgres``: Debian's server binaries
(installed with apt-get if missing), a data folder in a temporary directory, 127.0.0.1 and a free port, stopped by PID.

PostgreSQL refuses to run as root, and CI runs as root: there the cluster belongs to the ``postgres``
system user the Debian package creates, and ``initdb``/``postgres`` run as that user (``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tools.debian import apt_install


def server_binaries() -> Path:
    """The folder holding ``initdb`` and ``postgres``; installs Debian's ``postgresql`` if there is none."""
    found = _find_binaries()
    if found is None:
        apt_install("postgresql")
        found = _find_binaries()
    assert found is not None, "postgresql is installed but no initdb was found"
    return found


def _find_binaries() -> Path | None:
    # Debian keeps the server out of PATH, one folder per major version: take the newest.
    def version(initdb: str) -> tuple[int, ...]:
        name = Path(initdb).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if folders:
        return Path(folders[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class LocalPostgres:
    """One cluster: :meth:`start`, :meth:`stop` (or :meth:`kill`, an immediate shutdown), :meth:`start` again."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.as_root = os.geteuid() == 0
        # Not under pytest's tmp_path: that folder is private to root, and the postgres user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--no-sync", "--no-instructions"])

    def _command(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self.as_root else argv

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(self._command(argv), capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout: float = 30.0) -> None:
        # No fsync and no unix socket: a test cluster is thrown away, and its folder is all it may write.
        argv = [str(self.bin / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
                "-k", "", "-F", "-c", "full_page_writes=off", "-c", "logging_collector=off"]
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(self._command(argv), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start:\n{self.log()[-2000:]}") from None
                time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, how: int = signal.SIGINT) -> None:
        """Stop the server by its PID: SIGINT is a fast shutdown, SIGQUIT an immediate one (as a crash)."""
        if self.process is None:
            return
        pid = self.postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, how)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGQUIT)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
