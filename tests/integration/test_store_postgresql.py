"""chatd on a PostgreSQL store (a real PostgreSQL 15): the service relays and archives members' messages there,
and the command line manages members and the audit chain in the same database (docs/postgresql.md)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatd.stack import REPO
from tests.integration.conftest import Stack, running_stack
from tests.support.client import message_from
from tests.support.postgres import PostgresServer, needs_postgres

pytestmark = needs_postgres


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer) -> Iterator[Stack]:
    url = asyncio.run(postgres_server.new_database())
    with running_stack(tmp_path_factory, "postgres-stack", store_url=url) as running:
        yield running


def chatd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "chatd", *args, "--config", str(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


async def test_a_relayed_message_is_archived_in_postgresql_and_read_back(postgres_stack: Stack, connect_to) -> None:
    stack = postgres_stack
    alice, bob = await connect_to(stack, "alice"), await connect_to(stack, "bob")
    to_bob, from_alice = stack.pseudonym_jid("bob"), stack.pseudonym_jid("alice")
    alice.send_chat(to_bob, "archived in postgres")
    await bob.expect(message_from(from_alice, "archived in postgres"))

    store = await stack.store()  # another connection to the same database: what chatd committed
    try:
        alice_id = next(m.id for m in await store.members("en") if m.pseudonym == stack.accounts["alice"].pseudonym)
        [message] = await store.recent_by_member(alice_id)
        assert (message.body, message.verdict) == ("archived in postgres", "deliver")
        assert message.conversation.startswith("dm:") and not message.unsent
        assert [m.body for m in await store.conversation(message.conversation)] == ["archived in postgres"]
    finally:
        await store.close()
    assert (stack.chatd.run_dir / "chatd.received").exists()  # the crash journal: in the configured folder


async def test_the_command_line_manages_members_and_the_audit_chain_on_postgresql(postgres_stack: Stack) -> None:
    config = postgres_stack.chatd.config_file
    added = chatd(config, "member", "add", "--realm", "en", "--pseudonym", "calm-newt", "--actor", "op",
                  "--account", "newt@localhost")  # fmt: skip
    assert added.returncode == 0, added.stderr
    log = postgres_stack.chatd.log_file
    for _ in range(100):  # the service sees another process's change (PRAGMA data_version's stand-in)
        if "directory reloaded" in log.read_text():
            break
        await asyncio.sleep(0.1)
    assert "directory reloaded" in log.read_text()
    assert chatd(config, "member", "suspend", "--realm", "en", "--actor", "op", "calm-newt").returncode == 0
    listed = chatd(config, "member", "list", "--realm", "en", "--show-accounts").stdout.splitlines()
    assert ["en", "calm-newt", "member", "suspended", "newt@localhost"] in [line.split("\t") for line in listed]
    verified = chatd(config, "audit", "verify")
    assert verified.returncode == 0 and "audit log intact: 2 entries" in verified.stdout
