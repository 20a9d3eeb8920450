"""A throw-away PostgreSQL cluster for the test run, under the tests' own directory.

Debian's postgresql binaries, not the system service: initdb into a fresh directory, a
server on a free loopback port, stopped and deleted when the run ends. PostgreSQL refuses
to run as root, so under root the server runs as the `postgres` user the package creates.
"""

import glob
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from meetings.livekit_process import free_port
from tests.support.environment import PROJECT_DIR, require

SUPERUSER = "postgres"


def find_binaries() -> Path | None:
    """Debian's newest PostgreSQL bin directory, e.g. /usr/lib/postgresql/15/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    return Path(found[-1]).parent if found else None


def _major_version(path: str) -> int:
    return int(Path(path).parent.parent.name)


@dataclass
class ThrowawayPostgres:
    directory: Path
    binaries: Path
    port: int = 0
    process_user: str | None = None

    def start(self) -> "ThrowawayPostgres":
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        self.port = free_port()
        if os.geteuid() == 0:
            self.process_user = SUPERUSER
            account = pwd.getpwnam(SUPERUSER)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", self.data, "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        settings = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", self.data, "-l", str(self.directory / "server.log"),
                  "-o", settings, "-w", "-t", "30", "start")  # fmt: skip
        self._wait_until_ready()
        return self

    @property
    def data(self) -> str:
        return str(self.directory / "data")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement on the maintenance database (CREATE/DROP DATABASE)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _wait_until_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.admin("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    log = (self.directory / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.1)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.binaries / program), *args]
        if self.process_user:
            command = ["runuser", "-u", self.process_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}")


@contextmanager
def throwaway_cluster(name: str) -> Iterator[ThrowawayPostgres]:
    """A cluster started under tests/.postgres/<name>-<pid> and removed afterwards; skips
    (fails under CI=true) where Debian's PostgreSQL is not installed."""
    binaries = find_binaries()
    require(binaries is not None, "PostgreSQL (Debian package postgresql)")
    server = ThrowawayPostgres(
        PROJECT_DIR / "tests" / ".postgres" / f"{name}-{os.getpid()}", binaries
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
