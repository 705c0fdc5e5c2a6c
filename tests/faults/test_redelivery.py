"""A message chatd received or archived but had not sent when it died reaches its recipient after the
restart, once. chatd kills itself at a failpoint (CHATD_FAILPOINTS), as kill -9 would."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.load import connect_as, until
from tests.integration.conftest import Stack, launch, needs_prosody, shut
from tests.support.client import Client, message_from

pytestmark = needs_prosody


@pytest.fixture
def dying_stack(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """chatd dies (SIGKILL) at the failpoint the test names, at its first one-on-one message."""
    monkeypatch.setenv("CHATD_FAILPOINTS", request.param)
    stack = launch(tmp_path)
    monkeypatch.delenv("CHATD_FAILPOINTS")
    try:
        yield stack
    finally:
        shut(stack)


def unsent(stack: Stack) -> list[tuple[str, int]]:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return db.execute("SELECT body, unsent FROM messages WHERE conversation LIKE 'dm:%' ORDER BY seq").fetchall()


async def wait_exit(stack: Stack, timeout: float = 10.0) -> int:
    process = stack.chatd.process
    assert process is not None
    assert await until(lambda: process.poll() is not None, timeout), "chatd did not die at the failpoint"
    return process.returncode


async def restart_and_count_once(stack: Stack, alice: Client, bob: Client, text: str) -> None:
    """After a clean restart the message is not sent yet again: bob got it exactly once."""
    await asyncio.to_thread(stack.chatd.stop)
    await asyncio.to_thread(stack.chatd.start)
    alice.send_chat(stack.pseudonym_jid("bob"), "after the second restart")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "after the second restart"), timeout=10)
    assert len([m for m in bob.received if message_from(stack.pseudonym_jid("alice"), text)(m)]) == 1


@pytest.mark.parametrize("dying_stack", ["before_send"], indirect=True)
async def test_archived_but_unsent_is_sent_after_the_restart_exactly_once(dying_stack: Stack) -> None:
    stack = dying_stack
    alice, bob = await connect_as(stack, "alice"), await connect_as(stack, "bob")
    try:
        alice.send_chat(stack.pseudonym_jid("bob"), "archived, then chatd died")
        assert await wait_exit(stack) == -9
        assert unsent(stack) == [("archived, then chatd died", 1)]
        await bob.expect_nothing(message_from(stack.pseudonym_jid("alice")), wait=0.5)

        await asyncio.to_thread(stack.chatd.start)
        got = await bob.expect(message_from(stack.pseudonym_jid("alice"), "archived, then chatd died"), timeout=10)
        assert got.find("{urn:xmpp:delay}delay") is not None  # with its original time
        await until(lambda: not unsent(stack)[0][1], 5)
        assert unsent(stack) == [("archived, then chatd died", 0)]  # the server's answer marked it sent

        await restart_and_count_once(stack, alice, bob, "chatd died")
        assert "sending 1 unconfirmed messages again" in stack.chatd.log_file.read_text()
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.parametrize("dying_stack", ["after_journal"], indirect=True)
async def test_received_but_not_archived_is_handled_after_the_restart_exactly_once(dying_stack: Stack) -> None:
    stack = dying_stack
    alice, bob = await connect_as(stack, "alice"), await connect_as(stack, "bob")
    try:
        alice.send_chat(stack.pseudonym_jid("bob"), "received, then chatd died")
        assert await wait_exit(stack) == -9
        assert unsent(stack) == []  # not archived

        await asyncio.to_thread(stack.chatd.start)
        await bob.expect(message_from(stack.pseudonym_jid("alice"), "received, then chatd died"), timeout=10)
        assert await until(lambda: unsent(stack) == [("received, then chatd died", 0)], 5)

        await restart_and_count_once(stack, alice, bob, "chatd died")
        assert "1 received messages were not archived: handling them again" in stack.chatd.log_file.read_text()
    finally:
        await alice.close()
        await bob.close()


@pytest.fixture
def restarted_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = launch(tmp_path)
    try:
        yield stack
    finally:
        shut(stack)


async def test_a_command_answered_before_a_restart_is_not_answered_again(restarted_stack: Stack) -> None:
    """Commands and resource topics are answered, never archived: the journal marks them handled."""
    stack = restarted_stack
    guide, resources = f"wallguide@{stack.en}", f"resources@{stack.en}"
    alice = await connect_as(stack, "alice")
    try:
        alice.send_chat(guide, "!blocks")
        await alice.expect(message_from(guide), timeout=10)
        alice.send_chat(resources, "veterans")
        await alice.expect(message_from(resources), timeout=10)
        answers = len(alice.received)

        await asyncio.to_thread(stack.chatd.stop)
        await asyncio.to_thread(stack.chatd.start)
        alice.send_chat(guide, "!help")
        await alice.expect(message_from(guide), timeout=10, start=answers)
        await alice.expect_nothing(message_from(resources), wait=1.0, start=answers)
        assert len([m for m in alice.received[answers:] if message_from(guide)(m)]) == 1  # !help's answer only
        assert "received messages were not archived" not in stack.chatd.log_file.read_text()
    finally:
        await alice.close()
