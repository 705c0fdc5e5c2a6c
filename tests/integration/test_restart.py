"""Prosody restarts mid-test: chatd reconnects by itself, relays again, and lost nothing archived."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from tests.integration.conftest import Stack
from tests.support.client import message_from


async def wait_reconnected(stack: Stack, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        health = await asyncio.to_thread(stack.chatd.health)
        streams = health.get("streams", {})
        if health.get("status") == "ok" and all(s["reconnects"] >= 1 for s in streams.values()):
            return health
        await asyncio.sleep(0.2)
    raise AssertionError(f"chatd did not reconnect: {health}")


async def test_prosody_restart_chatd_reconnects_and_relays(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    alice.send_chat(stack.pseudonym_jid("bob"), "accepted before the restart")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "accepted before the restart"))

    await asyncio.to_thread(stack.prosody.restart)
    health = await wait_reconnected(stack)
    assert all(s["state"] == "up" for s in health["streams"].values())
    assert "went down" in stack.chatd.log_file.read_text() and "reconnected" in stack.chatd.log_file.read_text()

    alice, bob = await connect("alice"), await connect("bob")
    alice.send_chat(stack.pseudonym_jid("bob"), "after the restart")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "after the restart"), timeout=10)

    with sqlite3.connect(stack.chatd.store_path) as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM messages ORDER BY seq")]
    assert "accepted before the restart" in bodies
    assert bodies.index("accepted before the restart") < bodies.index("after the restart")
