"""A real PostgreSQL 15 (Debian's package) in a temporary folder on a free loopback port, for the store's tests.

PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user, which owns
the folder. Each test gets a database of its own (`store_url`)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from chatd.stack import free_port, wait_for_port

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"
MISSING = f"PostgreSQL 15 is not installed ({BIN / 'postgres'} is missing; Debian's package: postgresql-15)"
needs_postgres = pytest.mark.skipif(not (BIN / "postgres").exists(), reason=MISSING)


@dataclass
class PostgresServer:
    folder: Path
    port: int = 0
    durable: bool = False  # fsync as in production (benches); tests run without it
    process: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = field(default_factory=itertools.count)

    def _as_user(self, *command: str) -> list[str]:
        """As the postgres user when run as root (PostgreSQL refuses root)."""
        return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else list(command)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, USER, USER)
        data = self.folder / "data"
        log = self.folder / "server.log"
        subprocess.run(
            self._as_user(str(BIN / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.port = free_port()
        command = self._as_user(
            str(BIN / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
            "-k", str(self.folder), "-c", f"fsync={'on' if self.durable else 'off'}", "-c", "max_connections=50",
        )  # fmt: skip
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out, stdin=subprocess.DEVNULL)
        wait_for_port(self.port, 30, self.process)
        ready = [str(BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER]
        deadline = time.monotonic() + 30
        while subprocess.run(ready, check=False).returncode != 0:  # listening already, still starting up
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start: see {log}")
            time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    async def new_database(self) -> str:
        """A fresh, empty database: its URL."""
        name = f"store_{next(self._names)}"
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # "smart" shutdown: waits for clients, which the tests closed
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (BIN / "postgres").exists():
        pytest.skip(MISSING)
    # not under pytest's own temp folder: its parents are private to the user running the tests
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="chatd-postgres-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Where a test's store lives, on each backend: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "s.sqlite3")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield await server.new_database()
