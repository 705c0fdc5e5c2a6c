"""chatd's own processes on a PostgreSQL store (a real PostgreSQL 15): the command line manages members and
the audit chain there, and the service refuses to start, naming what it lacks (docs/postgresql.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatd.stack import REPO
from chatd.store import Store
from tests.support.postgres import PostgresServer, needs_postgres

pytestmark = needs_postgres


def chatd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "chatd", *args, "--config", str(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


async def test_the_command_line_works_on_postgresql_and_the_service_refuses_it(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = await postgres_server.new_database()
    config = tmp_path / "chatd.toml"
    example = (REPO / "conf" / "chatd.example.toml").read_text()
    config.write_text(example.replace('path = "var/chatd.sqlite3"', f'path = "{url}"'))

    added = chatd(
        config,
        "member",
        "add",
        "--realm",
        "en",
        "--pseudonym",
        "calm-otter",
        "--actor",
        "op",
        "--account",
        "alex@localhost",
    )
    assert added.returncode == 0, added.stderr
    assert chatd(config, "member", "suspend", "--realm", "en", "--actor", "op", "calm-otter").returncode == 0
    listed = chatd(config, "member", "list", "--show-accounts")
    assert listed.stdout.split("\n")[0].split("\t") == ["en", "calm-otter", "member", "suspended", "alex@localhost"]
    verified = chatd(config, "audit", "verify")
    assert verified.returncode == 0 and "audit log intact: 2 entries" in verified.stdout

    store = await Store.open(url)  # what the command line wrote is in PostgreSQL, read by another connection
    try:
        [member] = await store.members("en")
        assert (member.account, member.pseudonym) == ("alex@localhost", "calm-otter")
    finally:
        await store.close()

    refused = chatd(config, "run")
    assert refused.returncode == 2
    assert "cannot run on a PostgreSQL store yet: it lacks the journal of received messages" in refused.stderr
