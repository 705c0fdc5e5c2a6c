"""Every log of the stack stays free of identities through a chatd outage (Prosody bounces then)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatd.stack import Ejabberd, Prosody
from tests.integration.conftest import ACCOUNTS, Stack, running_stack
from tests.support.client import error_from, message_from
from tests.support.muc import join, say

# what the server answers a member while chatd's component is not connected
BOUNCED = {"prosody": "remote-server-timeout", "ejabberd": "forbidden"}  # ejabberd: s2s refused


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def outage_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Prosody at debug, its most talkative level: the filter must hold at every level. ejabberd has
    # no such filter: it runs at the level its rendered config ships with (docs/ejabberd.md).
    settings = {"log_level": "debug"} if request.param == "prosody" else {}
    with running_stack(
        tmp_path_factory, f"outage-{request.param}", server=request.param, prosody_settings=settings
    ) as running:
        yield running


def log_files(stack: Stack) -> list[Path]:
    folders = (stack.server.run_dir, stack.chatd.run_dir)
    return [f for folder in folders for f in folder.rglob("*") if f.suffix in (".log", ".out") and f.is_file()]


def identity_lines(stack: Stack) -> list[str]:
    """Log lines that name an account next to a pseudonym (room nicknames are pseudonyms)."""
    accounts = [f"{name}@" for name in ACCOUNTS]  # an account JID, bare or full
    pseudonyms = [p for _, p, _ in ACCOUNTS.values() if p]
    found = []
    for path in log_files(stack):
        for line in path.read_text(errors="replace").splitlines():
            if any(a in line for a in accounts) and any(p in line for p in pseudonyms):
                found.append(f"{path.name}: {line}")
    return found


async def test_a_chatd_outage_leaves_no_account_next_to_a_pseudonym_in_any_log(outage_stack: Stack, connect_to) -> None:
    stack = outage_stack
    members = alice, bob, carol, dan = [await connect_to(stack, n) for n in ("alice", "bob", "carol", "dan")]
    room = f"general@rooms.{stack.en}"
    for client, name in ((carol, "quiet-lynx"), (dan, "steady-moose")):
        await join(client, room, name)
    alice.send_chat(stack.pseudonym_jid("bob"), "before the outage")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "before the outage"))

    await asyncio.to_thread(stack.chatd.stop)
    for n in range(5):
        sent = alice.send_chat(stack.pseudonym_jid("bob"), f"while chatd is down {n}")
        say(carol, room, f"anyone here {n}")
    bounced = BOUNCED["ejabberd" if isinstance(stack.server, Ejabberd) else "prosody"]
    await alice.expect(error_from(stack.pseudonym_jid("bob"), bounced, stanza_id=sent), timeout=10)
    dan.send_raw(f"<presence to='{room}/steady-moose' type='unavailable'/>")
    dan.send_raw(f"<presence to='{room}/steady-moose'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    for client in members:
        await client.close()  # members leave while chatd is down: Prosody bounces their presences too
    await asyncio.sleep(0.5)
    await asyncio.to_thread(stack.chatd.start)

    if isinstance(stack.server, Prosody):
        prosody_log = (stack.server.run_dir / "prosody.log").read_text()
        assert "Component not connected, bouncing error for: <message type='chat'>" in prosody_log  # the error stays
        assert "Component not connected, bouncing error for: <presence" in prosody_log
        assert "Received[c2s]: <message" in prosody_log  # debug lines are there, redacted
        assert "New connection FD" in prosody_log  # debug names peers, without address
    texts = {path: path.read_text(errors="replace") for path in log_files(stack)}
    assert not [
        p for p, t in texts.items() if "while chatd is down" in t or "anyone here" in t or "before the outage" in t
    ]
    server_logs = [t for p, t in texts.items() if stack.chatd.run_dir not in p.parents]
    assert not any("127.0.0.1" in t for t in server_logs)  # the server's logs name no login address
    assert identity_lines(stack) == []
    assert not any(a.jid in path.read_text() for path in log_files(stack) for a in stack.accounts.values())
