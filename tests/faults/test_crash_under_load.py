"""kill -9 of chatd and a restart of Prosody while one-on-one messages flow at 100 per second.

Each run asserts: nothing archived is lost, no message arrives twice, whatever is lost silently is
within the documented window (docs/faults.md), no traceback in chatd's log, and messages flow
again after the fault.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3

from tests.faults.conftest import tracebacks
from tests.faults.load import Load, until
from tests.integration.conftest import Stack

PAIRS = [("alice", "bob"), ("carol", "dan"), ("eve", "frank"), ("gina", "hank")]
RATE = 100.0  # messages per second, all pairs together
SECONDS = 8.0
# what a crash may lose silently: messages the server had routed to chatd that chatd had not read
# when it died (docs/faults.md): bounded here by a tenth of a second of traffic; 1 to 4 are typical
CRASH_WINDOW = int(RATE / 10)


def archived_numbers(stack: Stack, label: str) -> list[int]:
    """The numbers of a run's archived messages, as often as they were archived."""
    with sqlite3.connect(stack.chatd.store_path) as db:
        bodies = db.execute("SELECT body FROM messages WHERE conversation LIKE 'dm:%' AND body LIKE ?", (f"{label} %",))
        return [int(m.group(1)) for (body,) in bodies if (m := re.match(rf"{label} (\d+)$", body or ""))]


async def test_kill_9_under_load(fault_stack: Stack) -> None:
    stack = fault_stack
    before = tracebacks(stack)
    load = Load(stack, PAIRS, "crash")
    await load.connect()

    async def kill_and_restart() -> None:
        process = stack.chatd.process
        assert process is not None
        process.kill()
        await asyncio.to_thread(process.wait)
        await asyncio.to_thread(stack.chatd.start)

    try:
        await load.run(RATE, SECONDS, fault_at=2.5, fault=kill_and_restart)
        tally = await load.settle()
    finally:
        await load.close()
    print(f"kill -9 under load: {tally.summary()}")
    lost = tally.silently_lost
    assert not lost & set(archived_numbers(stack, "crash")), "archived messages never reached their recipient"
    assert len(lost) <= CRASH_WINDOW, tally.summary()
    assert tally.duplicates == 0, tally.summary()
    last = max(tally.sent)
    assert all(n in tally.copies for n in range(last - 100, last + 1)), "messages did not flow again"
    assert tracebacks(stack) == before


async def test_server_restart_under_load_with_client_resends(fault_stack: Stack) -> None:
    """Prosody restarts; clients reconnect and resend what they sent in the last 2 seconds (as stream
    management does with unacknowledged stanzas): chatd recognises the resends."""
    stack = fault_stack
    before = tracebacks(stack)
    load = Load(stack, PAIRS, "restart")
    await load.connect()
    resent: list[int] = []

    async def restart_and_resend() -> None:
        last = max(load.tally.sent)
        await asyncio.to_thread(stack.prosody.restart)
        assert await until(lambda: stack.chatd.health().get("status") == "ok", 30)
        await load.connect()
        resent.extend(n for n in load.tally.sent if n > last - int(2 * RATE))
        for number in resent:
            load.send(number)

    try:
        await load.run(RATE, SECONDS, fault_at=2.5, fault=restart_and_resend)
        await load.settle(timeout=5.0)
        await load.catch_up()
        tally = load.tally
    finally:
        await load.close()
    print(f"server restart under load, {len(resent)} resent: {tally.summary()}")
    assert resent
    archived = archived_numbers(stack, "restart")
    assert len(archived) == len(set(archived)), "a resend was archived twice"
    assert tally.duplicates == 0, tally.summary()
    assert not tally.silently_lost, tally.summary()
    assert tracebacks(stack) == before
